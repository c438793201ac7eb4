import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { registerWasmTrainingKernels } from './index.js';
import { onBothBackends, relativeError, seeded } from './parity-helpers.js';
import { useBackend } from '../../testing/backends.js';

const TOLERANCE = 1e-5;

async function expectParity(label: string, compute: () => tf.Tensor): Promise<void> {
  const r = await onBothBackends(compute);
  assert.deepEqual(r.wasmShape, r.cpuShape, `${label}: shape`);
  const err = relativeError(r.wasm, r.cpu);
  assert.ok(err <= TOLERANCE, `${label}: relative error ${err}`);
}

/** Values on a coarse grid, so that pooling windows hold ties. */
function withTies(shape: number[], seed: number): tf.Tensor {
  return tf.round(tf.mul(seeded(shape, seed), 2));
}

type PoolPad = 'valid' | 'same' | number;

describe('wasm heap kernels', () => {
  let undo: () => void = () => {};
  before(async () => {
    await useBackend('wasm');
    undo = registerWasmTrainingKernels();
  });
  after(() => undo());

  test('MaxPoolGrad matches cpu over pool sizes, strides, paddings, with ties', async () => {
    for (const [ph, pw] of [
      [2, 2],
      [3, 3],
      [2, 3],
      [1, 1],
    ] as const)
      for (const stride of [1, 2, 3])
        for (const pad of ['valid', 'same', 1] as PoolPad[]) {
          if (typeof pad === 'number' && pad * 2 >= Math.min(ph, pw)) continue;
          for (const makeInput of [seeded, withTies]) {
            const label = `maxPool grad ${ph}x${pw} s${stride} ${pad} ${makeInput.name}`;
            await expectParity(label, () =>
              tf.tidy(() => {
                const x = makeInput([2, 9, 8, 3], 1) as tf.Tensor4D;
                const y = tf.maxPool(x, [ph, pw], stride, pad);
                const weights = seeded(y.shape, 2);
                return tf.grad((input: tf.Tensor4D) =>
                  tf.sum(tf.mul(tf.maxPool(input, [ph, pw], stride, pad), weights)),
                )(x);
              }),
            );
          }
        }
  });

  test('MaxPoolGrad: all-equal and -Infinity windows route like cpu', async () => {
    await expectParity('maxPool grad constant input', () =>
      tf.tidy(() => {
        const x = tf.zeros([1, 6, 6, 2]) as tf.Tensor4D;
        return tf.grad((input: tf.Tensor4D) =>
          tf.sum(tf.mul(tf.maxPool(input, 3, 1, 'same'), seeded([1, 6, 6, 2], 3))),
        )(x);
      }),
    );
    await expectParity('maxPool grad -Infinity input', () =>
      tf.tidy(() => {
        const x = tf.fill([1, 4, 4, 1], -Infinity) as tf.Tensor4D;
        const dy = seeded([1, 2, 2, 1], 4);
        const y = tf.maxPool(x, 2, 2, 'valid');
        return tf
          .engine()
          .runKernel(
            'MaxPoolGrad',
            { dy, input: x, output: y },
            { filterSize: 2, strides: 2, pad: 'valid' },
          ) as tf.Tensor;
      }),
    );
  });

  test('heap kernels leak no tensors or data ids', async () => {
    await useBackend('wasm');
    const backend = tf.backend();
    const x = seeded([2, 9, 8, 3], 1) as tf.Tensor4D;
    const tensors = tf.memory().numTensors;
    const dataIds = backend.numDataIds();
    const outs = [tf.grad((input: tf.Tensor4D) => tf.sum(tf.maxPool(input, 2, 2, 'same')))(x)];
    for (const out of outs) out.dispose();
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(backend.numDataIds(), dataIds);
    x.dispose();
  });
});
