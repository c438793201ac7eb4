import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { registerWasmTrainingKernels } from './index.js';
import { expectParity, relativeError, seeded } from '../../testing/wasm-parity.js';
import { useBackend } from '../../testing/backends.js';

describe('wasm matrix kernels (the SIMD matmul and transpose of fused.wat)', () => {
  let undo: () => void = () => {};
  before(async () => {
    await useBackend('wasm');
    undo = registerWasmTrainingKernels();
  });
  after(() => undo());

  test('batched BatchMatMul matches cpu: equal batches, broadcast batch 1, transposes', async () => {
    const cases: Array<[number[], number[], boolean, boolean]> = [
      [[4, 5, 7], [4, 7, 6], false, false],
      [[2, 3, 5, 7], [2, 3, 7, 6], false, false],
      [[4, 7, 5], [4, 6, 7], true, true],
      [[1, 5, 7], [4, 7, 6], false, false],
      [[5, 7], [3, 7, 6], false, false],
      [[4, 5, 7], [1, 7, 6], false, false],
      [[2, 3, 5, 7], [7, 6], false, false],
      [[4, 5, 7], [1, 6, 7], false, true],
      [[3, 7, 5], [7, 6], true, false],
      [[4, 7, 9], [4, 6, 7], true, true],
      [[2, 9, 70], [2, 70, 13], false, false],
      [[2, 70, 9], [2, 13, 70], true, true],
      // Rows of 1 KiB: B packed in column blocks, a transposed A transposed explicitly.
      [[9, 70], [70, 256], false, false],
      [[2, 9, 70], [2, 256, 70], false, true],
      [[70, 1024], [70, 13], true, false],
      [[2, 70, 1024], [2, 70, 256], true, false],
    ];
    for (const [shapeA, shapeB, ta, tb] of cases) {
      await expectParity(`matmul ${shapeA} x ${shapeB} ta=${ta} tb=${tb}`, () =>
        tf.tidy(() => tf.matMul(seeded(shapeA, 15), seeded(shapeB, 16), ta, tb)),
      );
    }
  });

  test('_FusedMatMul matches cpu: bias or none, every activation, transposes, batches', async () => {
    const activations = [
      'linear',
      'relu',
      'relu6',
      'elu',
      'sigmoid',
      'leakyrelu',
      'prelu',
    ] as const;
    const cases: Array<[number[], number[], boolean, boolean]> = [
      [[9, 70], [70, 13], false, false],
      [[2, 70, 9], [2, 13, 70], true, true],
      [[3, 5, 7], [7, 6], false, false],
    ];
    for (const [shapeA, shapeB, ta, tb] of cases) {
      const n = shapeB[tb ? shapeB.length - 2 : shapeB.length - 1]!;
      for (const activation of activations) {
        for (const withBias of [true, false]) {
          await expectParity(`fused ${shapeA} x ${shapeB} ${activation} bias=${withBias}`, () =>
            tf.tidy(() =>
              tf.fused.matMul({
                a: seeded(shapeA, 41),
                b: seeded(shapeB, 42),
                transposeA: ta,
                transposeB: tb,
                ...(withBias ? { bias: seeded([n], 43) } : {}),
                activation,
                ...(activation === 'prelu'
                  ? { preluActivationWeights: tf.add(seeded([n], 44), 0.5) }
                  : {}),
                leakyreluAlpha: 0.3,
              }),
            ),
          );
        }
      }
    }
  });

  test('Transpose of the last two axes matches cpu (tiles and edges, batches); other perms too', async () => {
    const cases: Array<[number[], number[]]> = [
      [
        [5, 7],
        [1, 0],
      ],
      [
        [8, 12],
        [1, 0],
      ],
      [
        [1, 6],
        [1, 0],
      ],
      [
        [3, 9, 6],
        [0, 2, 1],
      ],
      [
        [2, 3, 4, 5],
        [0, 1, 3, 2],
      ],
      [
        [2, 3, 4, 5],
        [0, 2, 1, 3],
      ],
      [
        [3, 9, 6],
        [2, 1, 0],
      ],
    ];
    for (const [shape, perm] of cases) {
      await expectParity(`transpose ${shape} perm ${perm}`, () =>
        tf.tidy(() => tf.transpose(seeded(shape, 51), perm)),
      );
    }
    await expectParity('transpose int32', () =>
      tf.tidy(() =>
        tf.cast(tf.transpose(tf.cast(tf.mul(seeded([5, 6], 52), 50), 'int32')), 'float32'),
      ),
    );
  });

  test('BatchMatMul broadcasts batch dimensions of size 1 on both sides', async () => {
    // tfjs-backend-cpu gets this case wrong (it returns max(2, 3) of the 6 products), so the
    // reference is the product of the explicitly broadcast inputs.
    await useBackend('wasm');
    tf.tidy(() => {
      const a = seeded([2, 1, 5, 7], 15);
      const b = seeded([1, 3, 7, 6], 16);
      const broadcast = tf.matMul(tf.broadcastTo(a, [2, 3, 5, 7]), tf.broadcastTo(b, [2, 3, 7, 6]));
      const product = tf.matMul(a, b);
      assert.deepEqual(product.shape, [2, 3, 5, 6]);
      const err = relativeError(
        product.dataSync() as Float32Array,
        broadcast.dataSync() as Float32Array,
      );
      assert.equal(err, 0);
    });
  });
});
