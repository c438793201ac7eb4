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
      // B stored transposed with whole blocks of 8 columns: packed straight from its rows, with
      // rows past the last block of 4 and k not a multiple of 4.
      [[9, 70], [16, 70], false, true],
      [[3, 6, 13], [3, 24, 13], false, true],
      [[2, 13, 9], [2, 24, 13], true, true],
      // More than one tile of out (256 × 256): rows, columns, both, packed or not.
      [[300, 40], [40, 523], false, false],
      [[261, 33], [512, 33], false, true],
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
      [[2, 9, 70], [2, 16, 70], false, true],
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

  test('BatchMatMul rounds as one float32 sum over k in order, whatever the tiles and packing', async () => {
    await useBackend('wasm');
    // [m, k, n, transposeA, transposeB, bias]: one tile, tiles of rows and columns, B packed
    // from rows of 1 KiB, B packed from its transpose, a transposed A read in place.
    const cases: Array<[number, number, number, boolean, boolean, boolean]> = [
      [7, 130, 13, false, false, false],
      [300, 70, 523, false, false, false],
      [261, 70, 512, false, false, true],
      [261, 67, 264, false, true, false],
      [9, 70, 24, false, true, true],
      [13, 70, 300, true, false, true],
    ];
    for (const [m, k, n, ta, tb, withBias] of cases) {
      tf.tidy(() => {
        const a = seeded(ta ? [k, m] : [m, k], 61);
        const b = seeded(tb ? [n, k] : [k, n], 62);
        const bias = withBias ? seeded([n], 63) : null;
        const product = (
          bias === null
            ? tf.matMul(a, b, ta, tb)
            : tf.fused.matMul({ a, b, transposeA: ta, transposeB: tb, bias })
        ).dataSync();
        const av = a.dataSync();
        const bv = b.dataSync();
        const biasValues = bias?.dataSync();
        const at = (i: number, p: number) => av[ta ? p * m + i : i * k + p] as number;
        const bt = (p: number, j: number) => bv[tb ? j * k + p : p * n + j] as number;
        let mismatches = 0;
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let sum = biasValues === undefined ? 0 : (biasValues[j] as number);
            for (let p = 0; p < k; p++) sum = Math.fround(sum + Math.fround(at(i, p) * bt(p, j)));
            if (sum !== product[i * n + j]) mismatches += 1;
          }
        }
        assert.equal(mismatches, 0, `${m}×${k}·${k}×${n} ta=${ta} tb=${tb} bias=${withBias}`);
      });
    }
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
