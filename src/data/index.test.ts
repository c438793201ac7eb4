import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as data from './index.js';

test('tfjs-sam/data offers loaders, splits, label noise, augmentation, batching and examples of any kind only', () => {
  assert.deepEqual(Object.keys(data).sort(), [
    'DataFormatError',
    'DataNotFoundError',
    'addSymmetricLabelNoise',
    'augmentImages',
    'batches',
    'classBalancedIndices',
    'createAugmenter',
    'cutout',
    'exampleBatches',
    'exampleLabels',
    'exampleTensors',
    'examplesTask',
    'flipHorizontal',
    'imagesToTensor',
    'isImageDataset',
    'labelsToTensor',
    'loadBundledFashionMnist',
    'loadCifar10',
    'loadCifar100',
    'loadFashionMnist',
    'loadMnist',
    'outputClasses',
    'randomCrop',
    'randomHorizontalFlip',
    'shuffleDataset',
    'subsetDataset',
    'subsetExamples',
    'trainValidationSplit',
  ]);
  for (const [name, value] of Object.entries(data)) {
    assert.equal(typeof value, 'function', `${name} is a function or a class`);
  }
});
