/**
 * One in-memory image classification dataset, images stored NHWC (sample, row, column, channel).
 *
 * Pixel convention: a `Uint8Array` holds raw 0..255 values (scaled by 1/255 when turned into
 * tensors); a `Float32Array` holds values already scaled and is used as-is.
 */
export interface ImageDataset {
  images: Uint8Array | Float32Array;
  /** One class index in `0..classes-1` per sample. */
  labels: Uint8Array | Int32Array;
  /** Shape of one image: [height, width, channels]. */
  shape: [number, number, number];
  count: number;
  classes: number;
  classNames?: readonly string[];
}

export interface TrainTestDatasets {
  train: ImageDataset;
  test: ImageDataset;
}
