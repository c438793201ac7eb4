import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { registerWasmTrainingKernels } from './index.js';
import { expectParity, seeded } from '../../testing/wasm-parity.js';
import { useBackend } from '../../testing/backends.js';

function conv2dBackpropFilter(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: number,
  pad: Padding,
): tf.Tensor4D {
  return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
    strides,
    pad,
    dataFormat: 'NHWC',
    dimRoundingMode: undefined,
    filterShape,
  } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

type Padding = 'valid' | 'same' | [[0, 0], [number, number], [number, number], [0, 0]];
const PADDINGS: Padding[] = [
  'valid',
  'same',
  [
    [0, 0],
    [1, 2],
    [0, 1],
    [0, 0],
  ],
];

describe('wasm training kernels', () => {
  let undo: () => void = () => {};
  before(async () => {
    await useBackend('wasm');
    undo = registerWasmTrainingKernels();
  });
  after(() => undo());

  test('Conv2DBackpropFilter matches cpu over strides, paddings, filters (im2col and conv forms)', async () => {
    // 3 input channels take the im2col + matmul form, 6 the transposed-convolution form.
    for (const inChannels of [3, 6])
      for (const stride of [1, 2, 3])
        for (const pad of PADDINGS)
          for (const [kh, kw] of [
            [3, 3],
            [1, 1],
            [2, 3],
          ] as const) {
            const label = `filter ci${inChannels} s${stride} ${JSON.stringify(pad)} k${kh}x${kw}`;
            const filterShape: [number, number, number, number] = [kh, kw, inChannels, 4];
            await expectParity(label, () =>
              tf.tidy(() => {
                const x = seeded([2, 9, 8, inChannels], 1) as tf.Tensor4D;
                const y = tf.conv2d(x, seeded(filterShape, 2) as tf.Tensor4D, stride, pad);
                const dy = seeded(y.shape, 3) as tf.Tensor4D;
                return conv2dBackpropFilter(x, dy, filterShape, stride, pad);
              }),
            );
          }
  });

  test('Conv2DBackpropInput matches cpu over strides, paddings, filters', async () => {
    for (const stride of [1, 2, 3])
      for (const pad of PADDINGS)
        for (const [kh, kw] of [
          [3, 3],
          [1, 1],
          [2, 3],
        ] as const) {
          const label = `input s${stride} ${JSON.stringify(pad)} k${kh}x${kw}`;
          await expectParity(label, () =>
            tf.tidy(() => {
              const filter = seeded([kh, kw, 3, 4], 2) as tf.Tensor4D;
              const y = tf.conv2d(seeded([2, 9, 8, 3], 1) as tf.Tensor4D, filter, stride, pad);
              const dy = seeded(y.shape, 3) as tf.Tensor4D;
              return tf.conv2dTranspose(dy, filter, [2, 9, 8, 3], stride, pad);
            }),
          );
        }
  });

  test('BatchMatMul with transposes matches cpu', async () => {
    for (const [ta, tb] of [
      [true, false],
      [false, true],
      [true, true],
      [false, false],
    ] as const)
      for (const batch of [1, 3]) {
        await expectParity(`matmul ta=${ta} tb=${tb} batch=${batch}`, () =>
          tf.tidy(() => {
            const a = seeded(ta ? [batch, 7, 5] : [batch, 5, 7], 4) as tf.Tensor3D;
            const b = seeded(tb ? [batch, 6, 7] : [batch, 7, 6], 5) as tf.Tensor3D;
            return tf.matMul(a, b, ta, tb);
          }),
        );
      }
  });

  test('UnsortedSegmentSum matches cpu (repeated and missing ids)', async () => {
    await expectParity('segment sum', () =>
      tf.tidy(() =>
        tf.unsortedSegmentSum(seeded([6, 2, 3], 6), tf.tensor1d([0, 3, 3, 1, 0, 3], 'int32'), 5),
      ),
    );
  });

  test('Tile matches cpu (float32 and int32, ranks 1-4)', async () => {
    for (const [shape, reps] of [
      [[5], [3]],
      [
        [1, 4],
        [6, 1],
      ],
      [
        [2, 3, 1],
        [1, 2, 4],
      ],
      [
        [1, 1, 1, 5],
        [2, 3, 4, 1],
      ],
      [
        [2, 3],
        [2, 2],
      ],
    ] as const) {
      await expectParity(`tile ${shape} x ${reps}`, () =>
        tf.tidy(() => tf.tile(seeded([...shape], 7), [...reps])),
      );
      await expectParity(`tile int32 ${shape} x ${reps}`, () =>
        tf.tidy(() =>
          tf.cast(
            tf.tile(tf.cast(tf.mul(seeded([...shape], 7), 100), 'int32'), [...reps]),
            'float32',
          ),
        ),
      );
    }
  });

  test('gradients of conv2d, matMul and gather match cpu', async () => {
    await expectParity('grad conv2d', () =>
      tf.tidy(() => {
        const f = (x: tf.Tensor4D, w: tf.Tensor4D) => tf.sum(tf.square(tf.conv2d(x, w, 2, 'same')));
        const [gx, gw] = tf.grads(f as (...a: tf.Tensor[]) => tf.Scalar)([
          seeded([2, 7, 7, 2], 1),
          seeded([3, 3, 2, 3], 2),
        ]);
        return tf.concat([tf.reshape(gx!, [-1]), tf.reshape(gw!, [-1])]);
      }),
    );
    await expectParity('grad matMul', () =>
      tf.tidy(() => {
        const f = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.sum(tf.square(tf.matMul(a, b)));
        const [ga, gb] = tf.grads(f as (...a: tf.Tensor[]) => tf.Scalar)([
          seeded([4, 5], 1),
          seeded([5, 3], 2),
        ]);
        return tf.concat([tf.reshape(ga!, [-1]), tf.reshape(gb!, [-1])]);
      }),
    );
    await expectParity('grad gather', () =>
      tf.tidy(() => {
        const ids = tf.tensor1d([1, 1, 4, 0], 'int32');
        const g = tf.grad((table: tf.Tensor) => tf.sum(tf.square(tf.gather(table, ids))));
        return g(seeded([6, 3], 1));
      }),
    );
  });

  test('kernels leak no tensors or data ids', async () => {
    await useBackend('wasm');
    const backend = tf.backend();
    const x = seeded([2, 9, 8, 3], 1) as tf.Tensor4D;
    const w = seeded([3, 3, 3, 4], 2) as tf.Tensor4D;
    const dy = seeded([2, 5, 4, 4], 3) as tf.Tensor4D;
    const a = seeded([5, 7], 4) as tf.Tensor2D;
    const ids = tf.tensor1d([0, 2, 2, 1, 0], 'int32');
    const batch = seeded([3, 5, 7], 5) as tf.Tensor3D;
    const columnBias = seeded([5], 6);
    const wide = seeded([2, 9, 8, 6], 1) as tf.Tensor4D;
    const dyWide = seeded([2, 5, 4, 4], 3) as tf.Tensor4D;
    const dyValid = seeded([2, 4, 3, 4], 3) as tf.Tensor4D;
    const tensors = tf.memory().numTensors;
    const dataIds = backend.numDataIds();
    const outs = [
      conv2dBackpropFilter(x, dy, [3, 3, 3, 4], 2, 'same'),
      conv2dBackpropFilter(wide, dyWide, [3, 3, 6, 4], 2, 'same'),
      conv2dBackpropFilter(wide, dyValid, [3, 3, 6, 4], 2, 'valid'),
      tf.conv2dTranspose(dy, w, [2, 9, 8, 3], 2, 'same'),
      tf.matMul(a, a, true, false),
      tf.matMul(a, a, false, true),
      tf.unsortedSegmentSum(a, ids, 4),
      tf.gather(a, ids),
      tf.transpose(batch, [0, 2, 1]),
      tf.fused.matMul({ a, b: a, transposeB: true, bias: columnBias, activation: 'relu' }),
      tf.matMul(batch, batch, false, true),
      tf.matMul(batch, a, true, false),
      tf.tile(a, [2, 3]),
    ];
    for (const out of outs) out.dispose();
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(backend.numDataIds(), dataIds);
    tf.dispose([x, w, dy, a, ids, batch, columnBias, wide, dyWide, dyValid]);
  });

  test('undo restores the previous kernel configs; registering twice is safe', () => {
    const names = [
      'BatchMatMul',
      'Conv2DBackpropFilter',
      'Conv2DBackpropInput',
      'UnsortedSegmentSum',
      'MaxPoolGrad',
      'Slice',
      'Sum',
      'Mean',
      'Identity',
      'Tile',
      'DepthwiseConv2dNativeBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput',
      'GatherV2',
      '_FusedMatMul',
      'Transpose',
    ];
    undo();
    const before = names.map((n) => tf.getKernel(n, 'wasm'));
    const gradientNames = ['Tile', 'Sum', 'Mean'];
    const gradientsBefore = gradientNames.map((n) => tf.getGradient(n));
    assert.equal(before[1], undefined);
    for (const g of gradientsBefore) assert.notEqual(g, undefined);
    const first = registerWasmTrainingKernels();
    const installed = names.map((n) => tf.getKernel(n, 'wasm'));
    for (let i = 0; i < names.length; i++) assert.notEqual(installed[i], before[i], names[i]);
    const gradientsInstalled = gradientNames.map((n) => tf.getGradient(n));
    gradientsInstalled.forEach((g, i) => assert.notEqual(g, gradientsBefore[i], gradientNames[i]));
    const second = registerWasmTrainingKernels();
    assert.deepEqual(
      names.map((n) => tf.getKernel(n, 'wasm')),
      installed,
    );
    second();
    assert.deepEqual(
      names.map((n) => tf.getKernel(n, 'wasm')),
      installed,
    );
    assert.deepEqual(
      gradientNames.map((n) => tf.getGradient(n)),
      gradientsInstalled,
    );
    first();
    assert.deepEqual(
      names.map((n) => tf.getKernel(n, 'wasm')),
      before,
    );
    assert.deepEqual(
      gradientNames.map((n) => tf.getGradient(n)),
      gradientsBefore,
    );
    undo = registerWasmTrainingKernels();
  });
});
