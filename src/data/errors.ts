/** A data file exists but its content is not what its format requires. */
export class DataFormatError extends Error {
  override readonly name = 'DataFormatError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/** A dataset's files could not be found where they were looked for. */
export class DataNotFoundError extends Error {
  override readonly name = 'DataNotFoundError';
}

export function checkInteger(owner: string, option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new Error(
      `${owner}: option '${option}' is ${String(value)}; expected an integer >= ${min}.`,
    );
  }
  return value;
}

export function checkFraction(
  owner: string,
  option: string,
  value: unknown,
  { allowZero, allowOne }: { allowZero: boolean; allowOne: boolean },
): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (allowZero ? value >= 0 : value > 0) &&
    (allowOne ? value <= 1 : value < 1);
  if (!ok) {
    const range = `${allowZero ? '[0' : '(0'}, ${allowOne ? '1]' : '1)'}`;
    throw new Error(
      `${owner}: option '${option}' is ${String(value)}; expected a number in ${range}.`,
    );
  }
  return value;
}
