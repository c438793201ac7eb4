/** How a batch is cut into contiguous slices, one per replica. */

export interface BatchSlice {
  start: number;
  size: number;
  /** size / rows: the slice's weight in the full-batch mean. */
  weight: number;
}

/**
 * `parts` contiguous slices of `rows` rows, as even as possible, with the same bounds as the
 * trainer's m-sharpness split (src/trainer/trainer.ts: round(j·rows/parts)), so that a data-parallel
 * SAM step matches `SAM.stepMSharpness` on the same parts. When rows < parts some slices are empty
 * (weight 0).
 */
export function splitBatch(rows: number, parts: number): BatchSlice[] {
  if (!Number.isInteger(rows) || rows < 1) {
    throw new Error(`splitBatch: the batch must have at least one row; got ${rows}.`);
  }
  if (!Number.isInteger(parts) || parts < 1) {
    throw new Error(`splitBatch: expected a positive integer number of parts; got ${parts}.`);
  }
  const bounds = Array.from({ length: parts + 1 }, (_, j) => Math.round((j * rows) / parts));
  return bounds.slice(0, -1).map((start, j) => {
    const size = (bounds[j + 1] as number) - start;
    return { start, size, weight: size / rows };
  });
}
