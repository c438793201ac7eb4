import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { registerWasmTrainingKernels } from './index.js';
import { expectParity, seeded } from '../../testing/wasm-parity.js';
import { useBackend } from '../../testing/backends.js';

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
const FILTERS = [
  [3, 3],
  [1, 1],
  [2, 3],
] as const;

function backpropFilter(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: number[],
  strides: number,
  pad: Padding,
  dilations = 1,
): tf.Tensor {
  return tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, {
    strides,
    pad,
    dilations,
    dimRoundingMode: undefined,
    filterShape,
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

function backpropInput(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: number[],
  strides: number,
  pad: Padding,
): tf.Tensor {
  return tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter }, {
    strides,
    pad,
    dilations: 1,
    dimRoundingMode: undefined,
    inputShape,
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

describe('wasm depthwise conv2d backprop kernels', () => {
  let undo: () => void = () => {};
  before(async () => {
    await useBackend('wasm');
    undo = registerWasmTrainingKernels();
  });
  after(() => undo());

  test('backprop filter and input match cpu over strides, paddings, filters, multipliers', async () => {
    for (const stride of [1, 2, 3])
      for (const pad of PADDINGS)
        for (const [kh, kw] of FILTERS)
          for (const multiplier of [1, 2]) {
            const filterShape = [kh, kw, 3, multiplier];
            const label = `depthwise s${stride} ${JSON.stringify(pad)} k${kh}x${kw} m${multiplier}`;
            await expectParity(`${label} filter`, () =>
              tf.tidy(() => {
                const x = seeded([2, 9, 8, 3], 1) as tf.Tensor4D;
                const y = tf.depthwiseConv2d(x, seeded(filterShape, 2) as tf.Tensor4D, stride, pad);
                const dy = seeded(y.shape, 3) as tf.Tensor4D;
                return backpropFilter(x, dy, filterShape, stride, pad);
              }),
            );
            await expectParity(`${label} input`, () =>
              tf.tidy(() => {
                const filter = seeded(filterShape, 2) as tf.Tensor4D;
                const y = tf.depthwiseConv2d(
                  seeded([2, 9, 8, 3], 1) as tf.Tensor4D,
                  filter,
                  stride,
                  pad,
                );
                const dy = seeded(y.shape, 3) as tf.Tensor4D;
                return backpropInput(dy, filter, [2, 9, 8, 3], stride, pad);
              }),
            );
          }
  });

  test('gradients of depthwiseConv2d and separableConv2d match cpu', async () => {
    await expectParity('grad depthwiseConv2d', () =>
      tf.tidy(() => {
        const f = (x: tf.Tensor, w: tf.Tensor) =>
          tf.sum(tf.square(tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same')));
        const [gx, gw] = tf.grads(f)([seeded([2, 7, 7, 4], 1), seeded([3, 3, 4, 2], 2)]);
        return tf.concat([tf.reshape(gx!, [-1]), tf.reshape(gw!, [-1])]);
      }),
    );
    await expectParity('grad separableConv2d', () =>
      tf.tidy(() => {
        const f = (x: tf.Tensor, d: tf.Tensor, p: tf.Tensor) =>
          tf.sum(
            tf.square(
              tf.separableConv2d(x as tf.Tensor4D, d as tf.Tensor4D, p as tf.Tensor4D, 1, 'valid'),
            ),
          );
        const grads = tf.grads(f)([
          seeded([2, 8, 8, 3], 1),
          seeded([3, 3, 3, 2], 2),
          seeded([1, 1, 6, 5], 3),
        ]);
        return tf.concat(grads.map((g) => tf.reshape(g, [-1])));
      }),
    );
  });

  test('dilations other than 1 are refused with an actionable error', async () => {
    await useBackend('wasm');
    const x = seeded([1, 9, 9, 2], 1) as tf.Tensor4D;
    const dy = seeded([1, 5, 5, 2], 2) as tf.Tensor4D;
    assert.throws(
      () => backpropFilter(x, dy, [3, 3, 2, 1], 1, 'valid', 2),
      /supports dilations 1 only.*got 2/,
    );
    tf.dispose([x, dy]);
  });

  test('no leaked tensors or data ids', async () => {
    await useBackend('wasm');
    const backend = tf.backend();
    const x = seeded([2, 9, 8, 3], 1) as tf.Tensor4D;
    const filter = seeded([3, 3, 3, 2], 2) as tf.Tensor4D;
    const dy = seeded([2, 5, 4, 6], 3) as tf.Tensor4D;
    const tensors = tf.memory().numTensors;
    const dataIds = backend.numDataIds();
    const outs = [
      backpropFilter(x, dy, [3, 3, 3, 2], 2, 'same'),
      backpropInput(dy, filter, [2, 9, 8, 3], 2, 'same'),
    ];
    tf.dispose(outs);
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(backend.numDataIds(), dataIds);
    tf.dispose([x, filter, dy]);
  });
});
