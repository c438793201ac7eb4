import type { ImageDataset } from 'tfjs-sam/data';

/** A user's data set, loaded: the samples, and where sample `i` came from (for errors). */
export interface LoadedData {
  dataset: ImageDataset;
  /** `train.csv line 18`, `cats/001.png`: sample `index` in the file(s). */
  where: (index: number) => string;
  /** The path(s) as given. */
  source: string;
}
