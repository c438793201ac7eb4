import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { registerWasmTrainingKernels } from './index.js';
import { expectParity, onBothBackends, relativeError, seeded } from '../../testing/wasm-parity.js';
import { useBackend } from '../../testing/backends.js';

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
                return tf.grad((input: tf.Tensor) =>
                  tf.sum(tf.mul(tf.maxPool(input as tf.Tensor4D, [ph, pw], stride, pad), weights)),
                )(x);
              }),
            );
          }
        }
  });

  test('MaxPoolGrad: exact 2x2 tiling, all-equal and -Infinity windows route like cpu', async () => {
    for (const makeInput of [seeded, withTies]) {
      await expectParity(`maxPool grad 2x2 tiling ${makeInput.name}`, () =>
        tf.tidy(() => {
          const x = makeInput([2, 8, 6, 5], 20) as tf.Tensor4D;
          const weights = seeded([2, 4, 3, 5], 21);
          return tf.grad((input: tf.Tensor) =>
            tf.sum(tf.mul(tf.maxPool(input as tf.Tensor4D, 2, 2, 'valid'), weights)),
          )(x);
        }),
      );
    }
    await expectParity('maxPool grad constant input', () =>
      tf.tidy(() => {
        const x = tf.zeros([1, 6, 6, 2]) as tf.Tensor4D;
        return tf.grad((input: tf.Tensor) =>
          tf.sum(tf.mul(tf.maxPool(input as tf.Tensor4D, 3, 1, 'same'), seeded([1, 6, 6, 2], 3))),
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

  test('Slice matches cpu over ranks 1-6, dtypes, contiguous and strided slices', async () => {
    const cases: Array<[number[], number[], number[]]> = [
      [[40], [3], [-1]],
      [
        [7, 9],
        [2, 3],
        [4, 5],
      ],
      [
        [7, 9],
        [2, 0],
        [3, -1],
      ],
      [
        [4, 5, 6],
        [1, 2, 0],
        [2, 3, 6],
      ],
      [
        [4, 5, 6],
        [0, 0, 5],
        [4, 5, 1],
      ],
      [
        [4, 5, 40],
        [1, 1, 3],
        [3, 2, 35],
      ],
      [
        [3, 4, 5, 6],
        [1, 0, 2, 1],
        [2, 4, 3, 4],
      ],
      [
        [3, 4, 5, 6],
        [0, 1, 0, 0],
        [3, 2, 5, 6],
      ],
      [
        [2, 3, 4, 5, 6],
        [1, 1, 1, 1, 1],
        [1, 2, 3, 4, 5],
      ],
      [
        [2, 3, 2, 3, 2, 4],
        [0, 1, 0, 1, 1, 0],
        [2, 2, 2, 2, 1, 3],
      ],
    ];
    for (const [shape, begin, size] of cases) {
      const label = `slice ${shape} from ${begin} size ${size}`;
      await expectParity(label, () => tf.tidy(() => tf.slice(seeded(shape, 3), begin, size)));
      await expectParity(`${label} int32`, () =>
        tf.tidy(() =>
          tf.cast(
            tf.slice(tf.cast(tf.mul(seeded(shape, 3), 100), 'int32'), begin, size),
            'float32',
          ),
        ),
      );
      await expectParity(`${label} bool`, () =>
        tf.tidy(() => tf.cast(tf.slice(tf.greater(seeded(shape, 3), 0), begin, size), 'float32')),
      );
    }
  });

  test('Sum and Mean match cpu over every axis set of ranks 1-4, keepDims both ways', async () => {
    for (const shape of [[7], [5, 6], [3, 1, 4], [3, 4, 5], [2, 3, 4, 5], [4, 1, 3, 1]]) {
      const rank = shape.length;
      for (let mask = 1; mask < 1 << rank; mask++) {
        const axes = Array.from({ length: rank }, (_, i) => i).filter((i) => (mask >> i) & 1);
        for (const keepDims of [false, true]) {
          await expectParity(`sum ${shape} axes ${axes} keepDims ${keepDims}`, () =>
            tf.tidy(() => tf.sum(seeded(shape, 5), axes, keepDims)),
          );
          await expectParity(`mean ${shape} axes ${axes} keepDims ${keepDims}`, () =>
            tf.tidy(() => tf.mean(seeded(shape, 5), axes, keepDims)),
          );
        }
      }
    }
    await expectParity('sum negative axis', () => tf.tidy(() => tf.sum(seeded([3, 4, 5], 6), -3)));
    await expectParity('sum int32 axis 0', () =>
      tf.tidy(() => tf.cast(tf.sum(tf.cast(tf.mul(seeded([6, 4], 6), 50), 'int32'), 0), 'float32')),
    );
  });

  test('Sum and Mean over a middle axis equal cpu bit for bit (float64 sums in cpu order)', async () => {
    for (const [shape, axis] of [
      [[3, 37, 13], 1],
      [[37, 24], 0],
      [
        [2, 5, 9, 8],
        [1, 2],
      ],
    ] as Array<[number[], number | number[]]>) {
      for (const reduce of [tf.sum, tf.mean]) {
        // The same values on both backends (made here, not by a backend's exp), of magnitudes
        // 2^-12 … 2^12, so that a float32 accumulation or another order of additions would differ.
        const size = shape.reduce((a, b) => a * b, 1);
        const values = Float32Array.from({ length: size }, (_, i) => {
          const u = Math.sin(i * 12.9898) * 43758.5453;
          return (u - Math.floor(u) - 0.5) * 2 ** (((i * 7) % 25) - 12);
        });
        const compute = () => tf.tidy(() => reduce(tf.tensor(values, shape), axis));
        const r = await onBothBackends(compute);
        assert.equal(
          relativeError(r.wasm, r.cpu),
          0,
          `${String(reduce === tf.sum)} ${shape} ${String(axis)}`,
        );
      }
    }
  });

  test("Sum and Mean gradients: the values of tfjs-core's gradient, over axes, ranks, keepDims", async () => {
    const cases: Array<[number[], number | number[], boolean]> = [
      [[6], 0, false],
      [[4, 5], 1, false],
      [[4, 5], 0, true],
      [[2, 3, 4], [0, 2], false],
      [[2, 3, 4], -1, true],
      [[3, 1, 4, 2], [1, 3], false],
    ];
    for (const [shape, axis, keepDims] of cases) {
      for (const reduce of [tf.sum, tf.mean]) {
        const label = `${reduce === tf.sum ? 'sum' : 'mean'} ${shape} axis ${String(axis)}`;
        // The weights make dy differ per output element, so a wrong broadcast shows.
        const gradient = () =>
          tf.tidy(() => {
            const x = seeded(shape, 31);
            const y = reduce(x, axis, keepDims);
            const weights = tf.add(seeded(y.shape, 32), 2);
            return tf.grad((v: tf.Tensor) => tf.sum(tf.mul(reduce(v, axis, keepDims), weights)))(x);
          });
        await useBackend('wasm');
        const ours = gradient();
        undo();
        const core = gradient();
        undo = registerWasmTrainingKernels();
        assert.deepEqual(ours.shape, shape, label);
        assert.deepEqual(Array.from(ours.dataSync()), Array.from(core.dataSync()), label);
        tf.dispose([ours, core]);
      }
    }
  });

  test('Tile gradient matches cpu (ranks 1-4) and a LayerNormalization gradient', async () => {
    for (const [shape, reps] of [
      [[5], [3]],
      [
        [1, 4],
        [6, 1],
      ],
      [
        [2, 3],
        [2, 2],
      ],
      [
        [1, 1, 8],
        [3, 4, 1],
      ],
      [
        [3, 4, 1],
        [1, 1, 8],
      ],
      [
        [2, 1, 3],
        [2, 3, 2],
      ],
      [
        [1, 2, 1, 3],
        [2, 1, 3, 2],
      ],
    ] as const) {
      await expectParity(`tile grad ${shape} x ${reps}`, () =>
        tf.tidy(() => {
          const weights = seeded(
            shape.map((d, i) => d * (reps[i] ?? 1)),
            8,
          );
          return tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.tile(x, [...reps]), weights)))(
            seeded([...shape], 9),
          );
        }),
      );
    }
    await expectParity('layerNormalization grads', () =>
      tf.tidy(() => {
        const layer = tfl.layers.layerNormalization({ epsilon: 1e-6 });
        const x = seeded([3, 5, 8], 10);
        layer.build(x.shape);
        const weights = seeded([3, 5, 8], 11);
        const { grads } = tf.variableGrads(
          () => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, weights)),
          layer.trainableWeights.map((w) => w.read() as tf.Variable),
        );
        const all = Object.values(grads).map((g) => tf.reshape(g, [-1]));
        for (const w of layer.weights) w.dispose();
        return tf.concat(all);
      }),
    );
  });

  test('UnsortedSegmentSum on the heap matches cpu: out-of-range ids, int32 x', async () => {
    await expectParity('segment sum out-of-range ids', () =>
      tf.tidy(() =>
        tf.unsortedSegmentSum(seeded([5, 3], 13), tf.tensor1d([-1, 2, 4, 7, 2], 'int32'), 4),
      ),
    );
    await expectParity('segment sum int32 x', () =>
      tf.tidy(() =>
        tf.cast(
          tf.unsortedSegmentSum(
            tf.cast(tf.mul(seeded([5, 3], 14), 100), 'int32'),
            tf.tensor1d([1, 2, 1, 0, 2], 'int32'),
            3,
          ),
          'float32',
        ),
      ),
    );
  });

  test('Identity shares data: clones read back equal and survive the source', async () => {
    await useBackend('wasm');
    const backend = tf.backend();
    const source = seeded([3, 4], 17);
    const expected = source.arraySync();
    const dataIds = backend.numDataIds();
    const copy = tf.clone(source);
    assert.equal(backend.numDataIds(), dataIds);
    source.dispose();
    assert.deepEqual(copy.arraySync(), expected);
    copy.dispose();
    assert.equal(backend.numDataIds(), dataIds - 1);
    const variable = tf.variable(seeded([2, 2], 18));
    const snapshot = tf.clone(variable);
    const before = snapshot.arraySync();
    variable.assign(tf.zeros([2, 2]));
    assert.deepEqual(snapshot.arraySync(), before);
    assert.deepEqual(variable.arraySync(), [
      [0, 0],
      [0, 0],
    ]);
    tf.dispose([variable, snapshot]);
  });

  test('heap kernels leak no tensors or data ids', async () => {
    await useBackend('wasm');
    const backend = tf.backend();
    const x = seeded([2, 9, 8, 3], 1) as tf.Tensor4D;
    const tensors = tf.memory().numTensors;
    const dataIds = backend.numDataIds();
    const outs = [
      tf.grad((input: tf.Tensor) => tf.sum(tf.maxPool(input as tf.Tensor4D, 2, 2, 'same')))(x),
    ];
    for (const out of outs) out.dispose();
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(backend.numDataIds(), dataIds);
    x.dispose();
  });
});
