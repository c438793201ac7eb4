/** Validation of model-builder options, with errors that name the option, the value and the accepted range. */

/** Thrown when a model builder receives an option it cannot use. */
export class ModelOptionError extends Error {
  override name = 'ModelOptionError';
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return `[${value.map(describe).join(', ')}]`;
  return String(value);
}

/** Rejects option keys the model does not know (a likely typo), listing the ones it accepts. */
export function checkKnownOptions(
  model: string,
  options: object,
  accepted: readonly string[],
): void {
  for (const key of Object.keys(options)) {
    if (!accepted.includes(key)) {
      throw new ModelOptionError(
        `${model}: unknown option '${key}'. Accepted options: ${accepted.join(', ')}.`,
      );
    }
  }
}

/** Returns `value` if it is an integer ≥ `min`, otherwise throws naming `option`. */
export function checkInteger(model: string, option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ModelOptionError(
      `${model}: option '${option}' is ${describe(value)}; expected an integer ≥ ${min}.`,
    );
  }
  return value;
}

/** Returns `value` if it is a number in [0, 1), otherwise throws naming `option`. */
export function checkFraction(model: string, option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value >= 1) {
    throw new ModelOptionError(
      `${model}: option '${option}' is ${describe(value)}; expected a number in [0, 1).`,
    );
  }
  return value;
}

/** Returns the seed if it is undefined or a finite integer. */
export function checkSeed(model: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new ModelOptionError(
      `${model}: option 'seed' is ${describe(value)}; expected an integer (or leave it out for random initialization).`,
    );
  }
  return value;
}

/**
 * Returns a copy of `value` if it is an array of positive integers of the given rank (any rank ≥ 1
 * when `rank` is undefined) whose first two entries are at least `minSpatialSize`.
 */
export function checkInputShape(
  model: string,
  value: unknown,
  expected: { rank?: number; minSpatialSize?: number; meaning: string },
): number[] {
  const isShape =
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((size) => typeof size === 'number' && Number.isInteger(size) && size > 0);
  if (!isShape || (expected.rank !== undefined && value.length !== expected.rank)) {
    const rank = expected.rank === undefined ? 'of any rank' : `of rank ${expected.rank}`;
    throw new ModelOptionError(
      `${model}: option 'inputShape' is ${describe(value)}; expected positive integers ${rank} (${expected.meaning}), without the batch dimension.`,
    );
  }
  const shape = [...(value as number[])];
  const minSize = expected.minSpatialSize;
  if (minSize !== undefined && ((shape[0] ?? 0) < minSize || (shape[1] ?? 0) < minSize)) {
    throw new ModelOptionError(
      `${model}: option 'inputShape' is ${describe(value)}; height and width must each be at least ${minSize}. Resize or pad the images.`,
    );
  }
  return shape;
}

/** Returns `value` if it is a boolean, otherwise throws naming `option`. */
export function checkBooleanOption(model: string, option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new ModelOptionError(
      `${model}: option '${option}' is ${describe(value)}; expected true or false.`,
    );
  }
  return value;
}

/** The sizes of a token transformer, checked: vocabulary, context, width, heads, blocks, FFN. */
export interface TransformerSizes {
  vocabSize: number;
  seqLength: number;
  dModel: number;
  heads: number;
  blocks: number;
  ffDim: number;
}

/**
 * `options`' transformer sizes with their defaults (`ffDim` may depend on the width), each an
 * integer in range, and the width divisible by the heads.
 */
export function checkTransformerSizes(
  model: string,
  options: Partial<Record<keyof TransformerSizes, unknown>>,
  defaults: Omit<TransformerSizes, 'ffDim'> & { ffDim: (dModel: number) => number },
): TransformerSizes {
  const vocabSize = checkInteger(model, 'vocabSize', options.vocabSize ?? defaults.vocabSize, 2);
  const seqLength = checkInteger(model, 'seqLength', options.seqLength ?? defaults.seqLength, 1);
  const dModel = checkInteger(model, 'dModel', options.dModel ?? defaults.dModel, 1);
  const heads = checkInteger(model, 'heads', options.heads ?? defaults.heads, 1);
  const blocks = checkInteger(model, 'blocks', options.blocks ?? defaults.blocks, 1);
  const ffDim = checkInteger(model, 'ffDim', options.ffDim ?? defaults.ffDim(dModel), 1);
  if (dModel % heads !== 0) {
    throw new ModelOptionError(
      `${model}: option 'dModel' is ${dModel}, which is not divisible by heads = ${heads}; choose dModel as a multiple of heads (e.g. ${heads * Math.max(1, Math.round(dModel / heads))}).`,
    );
  }
  return { vocabSize, seqLength, dModel, heads, blocks, ffDim };
}
