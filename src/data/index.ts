/**
 * `tfjs-sam/data`: dataset loaders, splits, label noise, augmentation, batching and conversion to
 * tensors. File formats, search paths and the seeded random helpers stay internal to their modules.
 */
export type { ImageDataset, TrainTestDatasets } from './types.js';
export { DataFormatError, DataNotFoundError } from './errors.js';
export { loadFashionMnist, loadMnist, type IdxDatasetOptions } from './mnist.js';
export { loadBundledFashionMnist } from './bundled.js';
export {
  loadCifar10,
  loadCifar100,
  type CifarOptions,
  type Cifar100Options,
  type Cifar100Dataset,
} from './cifar.js';
export {
  trainValidationSplit,
  shuffleDataset,
  classBalancedIndices,
  type TrainValidationSplitOptions,
  type TrainValidationSplit,
} from './split.js';
export { subsetDataset } from './dataset.js';
export {
  addSymmetricLabelNoise,
  type SymmetricLabelNoiseOptions,
  type NoisyLabels,
} from './label-noise.js';
export {
  augmentImages,
  createAugmenter,
  randomCrop,
  randomHorizontalFlip,
  cutout,
  flipHorizontal,
  type AugmentOptions,
} from './augment.js';
export { batches, type Batch, type BatchOptions } from './batches.js';
export { imagesToTensor, labelsToTensor, type LabelTensorOptions } from './tensors.js';
export { exampleBatches, type ExampleBatch } from './batches.js';
export {
  exampleLabels,
  examplesTask,
  exampleTensors,
  isImageDataset,
  outputClasses,
  subsetExamples,
  type Examples,
  type ExamplesTask,
} from './examples.js';
