import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-layers';
import { registerWasmTrainingKernels } from './index.js';
import { expectParity, relativeError } from '../../testing/wasm-parity.js';
import { useBackend } from '../../testing/backends.js';
import { sparseSoftmaxCrossEntropy } from '../../math/cross-entropy.js';
import { languageModel } from '../../models/language-model.js';
import { transformerClassifier } from '../../models/transformer-classifier.js';

/** All gradients of `loss` with respect to the model's weights, concatenated. */
function flatGradients(model: tfl.LayersModel, loss: () => tf.Scalar) {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(loss, variables);
  const flat = tf.concat(variables.map((v) => tf.reshape(grads[v.name]!, [-1])));
  tf.dispose([value, ...Object.values(grads)]);
  return flat;
}

describe('wasm kernels of the text models', () => {
  let undo: () => void = () => {};
  before(async () => {
    await useBackend('wasm');
    undo = registerWasmTrainingKernels();
  });
  after(() => undo());

  test('GatherV2 matches cpu: embedding rows, inner axes, batch dims, int32 values; bad ids throw', async () => {
    const table = () => tf.randomUniform([7, 3, 4], -1, 1, 'float32', 21);
    const ids = () =>
      tf.tensor2d(
        [
          [0, 6, 2],
          [2, 2, 5],
        ],
        [2, 3],
        'int32',
      );
    await expectParity('axis 0', () => tf.gather(table(), ids()));
    await expectParity('axis 1', () => tf.gather(table(), tf.tensor1d([2, 0, 2, 1], 'int32'), 1));
    await expectParity('axis 2', () => tf.gather(table(), tf.tensor1d([3, 0], 'int32'), 2));
    await expectParity('batch dims 1', () =>
      tf.gather(
        tf.randomUniform([2, 5, 3], -1, 1, 'float32', 22),
        tf.tensor2d(
          [
            [0, 4, 2],
            [3, 3, 1],
          ],
          [2, 3],
          'int32',
        ),
        1,
        1,
      ),
    );
    await expectParity('int32 values', () =>
      tf.cast(
        tf.gather(
          tf.tensor2d(
            [
              [1, 2],
              [3, 4],
              [5, 6],
            ],
            [3, 2],
            'int32',
          ),
          tf.tensor1d([2, 0, 2], 'int32'),
        ),
        'float32',
      ),
    );
    await expectParity('no ids', () => tf.gather(table(), tf.tensor1d([], 'int32')));
    await useBackend('wasm');
    assert.throws(
      () => tf.gather(table(), tf.tensor1d([1, 7], 'int32')),
      /GatherV2: the index value 7 is not in \[0, 6\]/,
    );
  });

  test('OneHot matches cpu for float32 and int32, on/off values, out-of-range ids', async () => {
    const ids = () =>
      tf.tensor2d(
        [
          [0, 3, -1],
          [5, 2, 4],
        ],
        [2, 3],
        'int32',
      );
    await expectParity('float32 1/0', () => tf.oneHot(ids(), 5, 1, 0, 'float32'));
    await expectParity('float32 0.9/0.025', () => tf.oneHot(ids(), 5, 0.9, 0.025, 'float32'));
    await expectParity('int32', () => tf.oneHot(ids(), 5));
    await useBackend('wasm');
    assert.deepEqual(tf.oneHot(tf.tensor1d([1], 'int32'), 3, 1, 0, 'float32').arraySync(), [
      [0, 1, 0],
    ]);
  });

  test('fused softmax cross-entropy: value and gradient match cpu and the unfused formula', async () => {
    const logits = () => tf.mul(tf.randomNormal([37, 53], 0, 1, 'float32', 3), 4) as tf.Tensor2D;
    const targets = () =>
      tf.tensor1d(
        Array.from({ length: 37 }, (_, i) => (i * 11) % 53),
        'int32',
      );
    await expectParity('value', () => sparseSoftmaxCrossEntropy(logits(), targets()));
    const gradient = () =>
      tf.grad((z: tf.Tensor) =>
        tf.sum(tf.mul(sparseSoftmaxCrossEntropy(z as tf.Tensor2D, targets()), tf.range(1, 38))),
      )(logits());
    await expectParity('gradient', gradient);
    await useBackend('wasm');
    const unfused = tf.grad((z: tf.Tensor) =>
      tf.sum(
        tf.mul(
          tf.sub(
            tf.logSumExp(z, 1),
            tf.sum(tf.mul(z, tf.oneHot(targets(), 53, 1, 0, 'float32')), 1),
          ),
          tf.range(1, 38),
        ),
      ),
    )(logits());
    const fused = gradient();
    assert.ok(
      relativeError(fused.dataSync() as Float32Array, unfused.dataSync() as Float32Array) < 1e-5,
    );
    tf.dispose([fused, unfused]);
  });

  test('the lm and the masked transformer: loss gradients match cpu', async () => {
    const x = () =>
      tf.tensor2d(
        [
          [1, 4, 6, 8, 3, 2],
          [2, 2, 7, 5, 0, 0],
        ],
        [2, 6],
        'int32',
      );
    await expectParity(
      'lm',
      () => {
        const model = languageModel({
          vocabSize: 9,
          seqLength: 6,
          dModel: 8,
          heads: 2,
          blocks: 2,
          seed: 5,
        });
        const targets = tf.tensor1d([4, 6, 8, 3, 2, 1, 2, 7, 5, 1, 1, 1], 'int32');
        const flat = flatGradients(
          model,
          () =>
            tf.mean(
              sparseSoftmaxCrossEntropy(
                tf.reshape(model.apply(x()) as tf.Tensor, [12, 9]) as tf.Tensor2D,
                targets,
              ),
            ) as tf.Scalar,
        );
        model.dispose();
        return flat;
      },
      1e-4,
    );
    await expectParity(
      'masked transformer',
      () => {
        const model = transformerClassifier({
          vocabSize: 9,
          seqLength: 6,
          dModel: 8,
          heads: 2,
          blocks: 1,
          ffDim: 8,
          maskPadding: true,
          seed: 6,
        });
        const flat = flatGradients(
          model,
          () =>
            tf.mean(tf.log(tf.slice(model.apply(x()) as tf.Tensor, [0, 0], [2, 1]))) as tf.Scalar,
        );
        model.dispose();
        return flat;
      },
      1e-4,
    );
  });

  test('OneHot and the fused cross-entropy leak no tensors or data ids', async () => {
    await useBackend('wasm');
    const backend = tf.backend();
    const logits = tf.randomNormal([8, 5]) as tf.Tensor2D;
    const targets = tf.tensor1d([0, 1, 2, 3, 4, 0, 1, 2], 'int32');
    const tensors = tf.memory().numTensors;
    const dataIds = backend.numDataIds();
    for (let i = 0; i < 3; i++) {
      tf.dispose([
        tf.oneHot(targets, 5, 1, 0, 'float32'),
        tf.grad((z: tf.Tensor) => tf.sum(sparseSoftmaxCrossEntropy(z as tf.Tensor2D, targets)))(
          logits,
        ),
      ]);
    }
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(backend.numDataIds(), dataIds);
    tf.dispose([logits, targets]);
  });
});
