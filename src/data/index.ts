export type { ImageDataset, TrainTestDatasets } from './types.js';
export { DataFormatError, DataNotFoundError } from './errors.js';
export {
  createRandom,
  deriveSeed,
  permutation,
  sampleWithoutReplacement,
  shuffleInPlace,
} from '../util/random.js';
export type { Random } from '../util/random.js';
export { isGzip, gunzipIfCompressed, readDataFile } from './bytes.js';
export {
  parseIdx,
  parseIdxImages,
  parseIdxLabels,
  encodeIdx,
  checkLabelRange,
  checkSameCount,
} from './idx.js';
export type { IdxArray, IdxImages } from './idx.js';
export {
  loadFashionMnist,
  loadMnist,
  locateIdxFiles,
  findIdxDataDir,
  idxFileCandidates,
  IDX_FILE_STEMS,
  DEBIAN_FASHION_MNIST_DIR,
  FASHION_MNIST_SEARCH_DIRS,
  MNIST_SEARCH_DIRS,
  FASHION_MNIST_CLASS_NAMES,
  MNIST_CLASS_NAMES,
} from './mnist.js';
export type { IdxDatasetOptions } from './mnist.js';
export {
  loadBundledFashionMnist,
  bundledFashionMnistDir,
  findPackageRoot,
  BUNDLED_FASHION_MNIST_SUBDIR,
} from './bundled.js';
export {
  loadCifar10,
  loadCifar100,
  parseCifarRecords,
  CIFAR10_CLASS_NAMES,
  CIFAR10_TRAIN_FILES,
  CIFAR10_TEST_FILE,
  CIFAR100_TRAIN_FILE,
  CIFAR100_TEST_FILE,
} from './cifar.js';
export type { CifarOptions, Cifar100Options, Cifar100Dataset, CifarRecords } from './cifar.js';
export { validateDataset, subsetDataset, classCounts, pixelsPerImage } from './dataset.js';
export { imagesToTensor, labelsToTensor } from './tensors.js';
export type { LabelTensorOptions } from './tensors.js';
export { trainValidationSplit, shuffleDataset, classBalancedIndices } from './split.js';
export type { TrainValidationSplitOptions, TrainValidationSplit } from './split.js';
export { addSymmetricLabelNoise } from './label-noise.js';
export type { SymmetricLabelNoiseOptions, NoisyLabels } from './label-noise.js';
export { batches, batchCount, epochOrder } from './batches.js';
export type { Batch, BatchOptions } from './batches.js';
export {
  augmentImages,
  applyAugmentationPlan,
  drawAugmentationPlan,
  createAugmenter,
  randomCrop,
  randomHorizontalFlip,
  cutout,
  flipHorizontal,
} from './augment.js';
export type { AugmentOptions, AugmentationPlan } from './augment.js';
