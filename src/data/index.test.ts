import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as data from './index.js';

test('tfjs-sam/data offers loaders, splits, label noise, augmentation and batching only', () => {
  assert.deepEqual(Object.keys(data).sort(), [
    'DataFormatError',
    'DataNotFoundError',
    'addSymmetricLabelNoise',
    'augmentImages',
    'batches',
    'classBalancedIndices',
    'createAugmenter',
    'cutout',
    'flipHorizontal',
    'imagesToTensor',
    'labelsToTensor',
    'loadBundledFashionMnist',
    'loadCifar10',
    'loadCifar100',
    'loadFashionMnist',
    'loadMnist',
    'randomCrop',
    'randomHorizontalFlip',
    'shuffleDataset',
    'subsetDataset',
    'trainValidationSplit',
  ]);
  for (const [name, value] of Object.entries(data)) {
    assert.equal(typeof value, 'function', `${name} is a function or a class`);
  }
});
