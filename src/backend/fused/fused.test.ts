import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { compileFusedWat } from '../../../scripts/fused-wat.js';
import { FUSED_WASM_BASE64 } from './fused-binary.js';
import { registerWasmTrainingKernels } from '../wasm-kernels/index.js';
import { useBackend } from '../../testing/backends.js';
import {
  axpbyOf,
  dotOf,
  finiteProbeOf,
  FUSED_KERNEL_NAMES,
  gramOf,
  sgdStepOf,
} from '../../math/fused-ops.js';
import { withWeightDecay } from '../../optimizers/weight-decay.js';

// Sizes that hit the empty case, the scalar tail alone, the vector loop alone and both.
const SIZES = [0, 1, 3, 4, 7, 8, 9, 17, 1000, 1023, 4099];

function seededValues(size: number, seed: number): tf.Tensor1D {
  return tf.randomNormal([size], 0, 1, 'float32', seed) as tf.Tensor1D;
}

/** Σ a·b in float64 from the values, rounded to float32 once. */
function exactDot(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += (x[i] as number) * (y[i] as number);
  return Math.fround(sum);
}

function withinUlps(actual: number, expected: number, ulps: number, label: string): void {
  const ulp = Math.max(Math.abs(expected) * 2 ** -23, 2 ** -149);
  assert.ok(
    Math.abs(actual - expected) <= ulps * ulp,
    `${label}: ${actual} vs ${expected} (${Math.abs(actual - expected) / ulp} ulps)`,
  );
}

function bitsOf(t: tf.Tensor): number[] {
  return Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));
}

const SGD_STEPS = [
  { momentum: 0, weightDecay: 0 },
  { momentum: 0.9, weightDecay: 0 },
  { momentum: 0, weightDecay: 5e-4 },
  { momentum: 0.9, weightDecay: 5e-4 },
];

/**
 * sgdStepOf against tf.train.sgd / tf.train.momentum (behind withWeightDecay) applying a·g1 + b·g2,
 * bit for bit, from a momentum buffer the optimizer made itself; and its probe of that sum.
 */
function checkSgdStepAgainstOptimizers(): void {
  const lr = 0.05;
  for (const size of SIZES) {
    for (const { momentum, weightDecay } of SGD_STEPS) {
      for (const [a, b] of [
        [0.8, 0.2],
        [1, 0],
        [0, 1],
      ] as const) {
        const label = `n=${size} μ=${momentum} λ=${weightDecay} a=${a} b=${b}`;
        const w = tf.variable(seededValues(size, 10));
        const inner = momentum === 0 ? tf.train.sgd(lr) : tf.train.momentum(lr, momentum);
        const optimizer = weightDecay === 0 ? inner : withWeightDecay(inner, weightDecay);
        const [g0, g1, g2] = [11, 12, 13].map((seed) => seededValues(size, seed));
        optimizer.applyGradients([{ name: w.name, tensor: g0 as tf.Tensor }]);
        const buffer = (inner as unknown as { accumulations?: Array<{ variable: tf.Variable }> })
          .accumulations?.[0]?.variable;
        const before = tf.clone(w);
        const bufferBefore = buffer === undefined ? null : tf.clone(buffer);
        const fused = sgdStepOf(before, g1 as tf.Tensor, g2 as tf.Tensor, bufferBefore, {
          a,
          b,
          weightDecay,
          momentum,
          c: Math.fround(-lr),
        });
        const sum = axpbyOf(a, g1 as tf.Tensor, b, g2 as tf.Tensor);
        optimizer.applyGradients([{ name: w.name, tensor: sum }]);
        assert.deepEqual(bitsOf(fused.value), bitsOf(w), `weights, ${label}`);
        assert.equal(fused.accumulation === null, buffer === undefined, `buffer, ${label}`);
        if (buffer !== undefined) {
          assert.deepEqual(
            bitsOf(fused.accumulation as tf.Tensor),
            bitsOf(buffer),
            `buffer, ${label}`,
          );
        }
        assert.equal(fused.probe.dataSync()[0], 0, `probe, ${label}`);
        tf.dispose([w, g0, g1, g2, before, sum, fused.value, fused.probe]);
        tf.dispose([bufferBefore, fused.accumulation].filter((t): t is tf.Tensor => t !== null));
        optimizer.dispose();
      }
    }
  }
  for (const size of [1, 4, 9, 1023]) {
    for (const at of [0, size - 1]) {
      for (const [a, b, poisoned] of [
        [0.8, 0.2, 'first'],
        [1, 0, 'second'],
        [0, 1, 'first'],
      ] as const) {
        tf.tidy(() => {
          const values = seededValues(size, 14).dataSync().slice();
          values[at] = poisoned === 'first' ? Infinity : NaN;
          const bad = tf.tensor1d(values);
          const good = seededValues(size, 15);
          const [first, second] = poisoned === 'first' ? [bad, good] : [good, bad];
          const { probe } = sgdStepOf(seededValues(size, 16), first, second, null, {
            a,
            b,
            weightDecay: 0,
            momentum: 0,
            c: -0.1,
          });
          assert.ok(
            Number.isNaN(probe.dataSync()[0]),
            `n=${size}: a non-finite ${poisoned} at ${at} with a=${a}, b=${b} is flagged`,
          );
        });
      }
    }
  }
}

test('cpu: the composed sgdStep is tf.train.sgd / momentum / withWeightDecay bit for bit', async () => {
  await useBackend('cpu');
  checkSgdStepAgainstOptimizers();
});

test('the committed fused binary is fused.wat compiled', async () => {
  const bytes = await compileFusedWat();
  assert.equal(
    Buffer.from(bytes).toString('base64'),
    FUSED_WASM_BASE64,
    'fused-binary.ts is stale: run `npm run build:fused`',
  );
});

describe('fused SIMD kernels on the wasm heap', () => {
  let undo: () => void = () => {};
  before(async () => {
    await useBackend('wasm');
    undo = registerWasmTrainingKernels();
  });
  after(() => undo());

  test('are registered by registerWasmTrainingKernels once the wasm backend is ready', () => {
    for (const name of Object.values(FUSED_KERNEL_NAMES)) {
      assert.ok(tf.getKernel(name, 'wasm') !== undefined, `${name} is not registered`);
    }
  });

  test('dot and gram equal the float64 sums rounded once (within 1 float32 ulp)', () => {
    for (const size of SIZES) {
      tf.tidy(() => {
        const a = seededValues(size, 1);
        const b = seededValues(size, 2);
        withinUlps(dotOf(a, b).dataSync()[0] as number, exactDot(a, b), 1, `dot n=${size}`);
        withinUlps(dotOf(a, a).dataSync()[0] as number, exactDot(a, a), 1, `Σa² n=${size}`);
        const [aa, bb, ab] = Array.from(gramOf(a, b).dataSync());
        withinUlps(aa as number, exactDot(a, a), 1, `gram aa n=${size}`);
        withinUlps(bb as number, exactDot(b, b), 1, `gram bb n=${size}`);
        withinUlps(ab as number, exactDot(a, b), 1, `gram ab n=${size}`);
      });
    }
  });

  test('axpby is bit-identical to the composed ops, with and without scaling x', () => {
    for (const size of SIZES) {
      tf.tidy(() => {
        const x = seededValues(size, 3);
        const y = seededValues(size, 4);
        assert.deepEqual(
          bitsOf(axpbyOf(0.3, x, -0.7, y)),
          bitsOf(tf.add(tf.mul(x, 0.3), tf.mul(y, -0.7))),
          `a·x + b·y n=${size}`,
        );
        assert.deepEqual(
          bitsOf(axpbyOf(1, x, tf.scalar(1 / 3), y)),
          bitsOf(tf.add(x, tf.mul(y, 1 / 3))),
          `x + b·y n=${size}`,
        );
      });
    }
  });

  test('sgdStep is tf.train.sgd / momentum / withWeightDecay bit for bit, and probes the sum', () => {
    assert.ok(tf.getKernel(FUSED_KERNEL_NAMES.sgdStep, 'wasm') !== undefined);
    checkSgdStepAgainstOptimizers();
  });

  test('the finite probe flags NaN and ±Inf in the vector part and in the tail', () => {
    for (const size of [1, 4, 9, 1023]) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        for (const at of [0, Math.floor(size / 2), size - 1]) {
          const value = tf.tidy(() => {
            const values = seededValues(size, 5).dataSync().slice();
            values[at] = bad;
            return finiteProbeOf(tf.tensor1d(values)).dataSync()[0] as number;
          });
          assert.ok(Number.isNaN(value), `n=${size}, ${bad} at ${at}: probe ${value}`);
        }
      }
      const finite = tf.tidy(
        () =>
          finiteProbeOf(
            tf.mul(tf.clipByValue(seededValues(size, 6), -1, 1), 3e38),
          ).dataSync()[0] as number,
      );
      assert.equal(finite, 0, `n=${size}: large finite values are finite`);
    }
  });

  test('other shapes and dtypes take the composed path with the same results', () => {
    tf.tidy(() => {
      const x = tf.tensor2d([
        [1, 2],
        [3, 4],
      ]);
      const row = tf.tensor1d([10, 20]);
      assert.deepEqual(Array.from(axpbyOf(1, x, 2, row).dataSync()), [21, 42, 23, 44]);
      const ints = tf.tensor1d([1, 2, 3], 'int32');
      assert.equal(dotOf(ints, ints).dataSync()[0], 14);
      assert.equal(finiteProbeOf(ints).dataSync()[0], 0);
    });
  });

  test('gradients through the fused ops equal those of the composed ops', () => {
    tf.tidy(() => {
      const a = seededValues(13, 7);
      const b = seededValues(13, 8);
      const fused = tf.grads((p: tf.Tensor, q: tf.Tensor) => {
        const [aa, bb, ab] = tf.unstack(gramOf(p, q));
        const mixed = axpbyOf(tf.scalar(0.5), p, tf.scalar(2), q);
        return tf.addN([
          tf.mul(aa as tf.Tensor, 0.1),
          tf.mul(bb as tf.Tensor, 0.2),
          tf.mul(ab as tf.Tensor, 0.3),
          dotOf(mixed, q),
          finiteProbeOf(p),
        ]) as tf.Scalar;
      })([a, b]);
      const composed = tf.grads(
        (p: tf.Tensor, q: tf.Tensor) =>
          tf.addN([
            tf.mul(tf.sum(tf.square(p)), 0.1),
            tf.mul(tf.sum(tf.square(q)), 0.2),
            tf.mul(tf.sum(tf.mul(p, q)), 0.3),
            tf.sum(tf.mul(tf.add(tf.mul(p, 0.5), tf.mul(q, 2)), q)),
          ]) as tf.Scalar,
      )([a, b]);
      fused.forEach((g, i) => {
        const expected = composed[i] as tf.Tensor;
        const error = tf.max(tf.abs(tf.sub(g, expected))).dataSync()[0] as number;
        assert.ok(error < 1e-5, `gradient ${i}: max error ${error}`);
      });
    });
  });

  test('keep working after the wasm heap grows, and leak no tensors', () => {
    const before = tf.memory().numTensors;
    const small = seededValues(33, 9);
    const expected = exactDot(small, small);
    // 256 MB on the heap forces it to grow; the kernels import the memory object, not a view.
    const big = tf.zeros([64 * 1024 * 1024]);
    withinUlps(
      tf.tidy(() => dotOf(small, small).dataSync()[0] as number),
      expected,
      1,
      'dot',
    );
    assert.equal(
      tf.tidy(() => dotOf(big, big).dataSync()[0] as number),
      0,
    );
    tf.dispose([big, small]);
    assert.equal(tf.memory().numTensors, before);
  });
});
