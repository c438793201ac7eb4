/**
 * Option checks shared by the whole library (optimizers, data, diagnostics, trainer): each error
 * names the owner, the option, the value and the accepted range.
 */

function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || value == null)
    return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

export function optionError(
  owner: string,
  option: string,
  value: unknown,
  expected: string,
): Error {
  return new Error(`${owner}: option '${option}' is ${show(value)}; expected ${expected}.`);
}

export function checkKnownOptions(owner: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new Error(`${owner}: unknown option '${key}'. Known options: ${known.join(', ')}.`);
    }
  }
}

export interface NumberRange {
  min?: number;
  max?: number;
  /** Whether min itself is allowed (default true). */
  minInclusive?: boolean;
  /** Whether max itself is allowed (default true). */
  maxInclusive?: boolean;
  integer?: boolean;
}

function describeRange(range: NumberRange): string {
  const kind = range.integer ? 'an integer' : 'a finite number';
  const parts: string[] = [];
  if (range.min !== undefined)
    parts.push(`${range.minInclusive === false ? '>' : '>='} ${range.min}`);
  if (range.max !== undefined)
    parts.push(`${range.maxInclusive === false ? '<' : '<='} ${range.max}`);
  return parts.length > 0 ? `${kind} ${parts.join(' and ')}` : kind;
}

export function checkNumber(
  owner: string,
  option: string,
  value: unknown,
  range: NumberRange = {},
): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!range.integer || Number.isInteger(value)) &&
    (range.min === undefined ||
      (range.minInclusive === false ? value > range.min : value >= range.min)) &&
    (range.max === undefined ||
      (range.maxInclusive === false ? value < range.max : value <= range.max));
  if (!ok) throw optionError(owner, option, value, describeRange(range));
  return value as number;
}

export function checkBoolean(owner: string, option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw optionError(owner, option, value, 'true or false');
  return value;
}

export function checkChoice<T extends string>(
  owner: string,
  option: string,
  value: unknown,
  choices: readonly T[],
): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw optionError(owner, option, value, `one of ${choices.map((c) => `'${c}'`).join(', ')}`);
  }
  return value as T;
}

export function checkFunction<F>(owner: string, option: string, value: unknown): F {
  if (typeof value !== 'function') throw optionError(owner, option, value, 'a function');
  return value as F;
}

/** An integer >= `min`. */
export function checkInteger(owner: string, option: string, value: unknown, min: number): number {
  return checkNumber(owner, option, value, { min, integer: true });
}

/** A fraction in (0, 1), [0, 1), (0, 1] or [0, 1]. */
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
    throw optionError(owner, option, value, `a number in ${range}`);
  }
  return value as number;
}
