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
