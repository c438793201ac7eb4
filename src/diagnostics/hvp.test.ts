import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import {
  enableHigherOrderGradients,
  HIGHER_ORDER_GRADIENT_KERNELS,
  higherOrderGradientsEnabled,
} from './higher-order-gradients.js';
import { hessianVectorProduct } from './hvp.js';
import { modelObjective, type ModelLoss } from './model-loss.js';
import { relativeError } from '../testing/diagnostics.js';
import { LayerNorm } from '../models/layer-norm.js';

type Activation = 'tanh' | 'sigmoid' | 'softmax' | 'linear';
const activate: Record<Activation, (z: number[]) => number[]> = {
  tanh: (z) => z.map(Math.tanh),
  sigmoid: (z) => z.map((v) => 1 / (1 + Math.exp(-v))),
  linear: (z) => z,
  softmax: (z) => {
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  },
};

type LayerSpec =
  | { kind: 'dense'; units: number; activation: Activation }
  | { kind: 'activation'; activation: Activation }
  | { kind: 'layerNorm'; ours?: boolean }
  | { kind: 'batchNorm' };

const NORM_EPSILON = 1e-3;

function normalizeRow(row: number[]): number[] {
  const mean = row.reduce((s, v) => s + v, 0) / row.length;
  const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / row.length;
  return row.map((v) => (v - mean) / Math.sqrt(variance + NORM_EPSILON));
}

function transpose(rows: number[][]): number[][] {
  return (rows[0] as number[]).map((_, j) => rows.map((row) => row[j] as number));
}

/**
 * Float64 replica of the model + loss on a flat parameter vector laid out like the tfjs trainable
 * weights (dense: kernel [in, out] row-major, bias; norms: γ, β). Batch norm in training mode
 * normalizes each feature over the batch with the biased variance, as tfjs-layers does.
 */
function referenceLoss(
  layers: LayerSpec[],
  inputSize: number,
  xs: number[][],
  ys: number[][],
  loss: ModelLoss,
) {
  return (params: Float64Array) => {
    let batch = xs;
    let offset = 0;
    let size = inputSize;
    const affine = (rows: number[][]) => {
      const out = rows.map((row) =>
        row.map(
          (v, j) => v * (params[offset + j] as number) + (params[offset + size + j] as number),
        ),
      );
      offset += 2 * size;
      return out;
    };
    for (const layer of layers) {
      if (layer.kind === 'dense') {
        const units = layer.units;
        batch = batch.map((h) =>
          activate[layer.activation](
            Array.from({ length: units }, (_, o) => {
              let sum = params[offset + size * units + o] as number;
              for (let i = 0; i < size; i++)
                sum += (h[i] as number) * (params[offset + i * units + o] as number);
              return sum;
            }),
          ),
        );
        offset += size * units + units;
        size = units;
      } else if (layer.kind === 'activation') {
        batch = batch.map((h) => activate[layer.activation](h));
      } else if (layer.kind === 'layerNorm') {
        batch = affine(batch.map(normalizeRow));
      } else {
        batch = affine(transpose(transpose(batch).map(normalizeRow)));
      }
    }
    let total = 0;
    batch.forEach((h, n) => {
      const y = ys[n] as number[];
      if (loss === 'categoricalCrossentropy') {
        total -= y.reduce((s, t, k) => s + t * Math.log((h[k] as number) + 1e-7), 0);
      } else {
        const m = Math.max(...h);
        const lse = m + Math.log(h.reduce((s, v) => s + Math.exp(v - m), 0));
        total += lse - y.reduce((s, t, k) => s + t * (h[k] as number), 0);
      }
    });
    return total / xs.length;
  };
}

/** (H v)_i by central differences of the loss in float64: mixed second difference along e_i and v. */
function referenceHvp(
  loss: (p: Float64Array) => number,
  params: Float64Array,
  v: Float64Array,
): Float64Array {
  const h = 1e-4;
  const out = new Float64Array(params.length);
  const at = (si: number, sv: number, i: number) => {
    const p = Float64Array.from(params, (w, k) => w + sv * h * (v[k] as number));
    p[i] = (p[i] as number) + si * h;
    return loss(p);
  };
  for (let i = 0; i < params.length; i++) {
    out[i] = (at(1, 1, i) - at(1, -1, i) - at(-1, 1, i) + at(-1, -1, i)) / (4 * h * h);
  }
  return out;
}

function buildModel(layers: LayerSpec[], inputSize: number): tfl.Sequential {
  const model = tfl.sequential();
  layers.forEach((layer, i) => {
    const input = i === 0 ? { inputShape: [inputSize] } : {};
    if (layer.kind === 'dense') {
      model.add(
        tfl.layers.dense({
          units: layer.units,
          activation: layer.activation,
          kernelInitializer: tfl.initializers.randomNormal({ stddev: 0.8, seed: 11 + i }),
          biasInitializer: tfl.initializers.randomNormal({ stddev: 0.3, seed: 23 + i }),
          ...input,
        }),
      );
    } else if (layer.kind === 'activation') {
      model.add(tfl.layers.activation({ activation: layer.activation, ...input }));
    } else {
      const options = {
        epsilon: NORM_EPSILON,
        gammaInitializer: tfl.initializers.randomUniform({
          minval: 0.5,
          maxval: 1.5,
          seed: 31 + i,
        }),
        betaInitializer: tfl.initializers.randomUniform({
          minval: -0.3,
          maxval: 0.3,
          seed: 37 + i,
        }),
        ...input,
      };
      model.add(
        layer.kind === 'layerNorm'
          ? layer.ours === true
            ? new LayerNorm(options)
            : tfl.layers.layerNormalization(options)
          : tfl.layers.batchNormalization(options),
      );
    }
  });
  return model;
}

const CASES: { name: string; layers: LayerSpec[]; loss: ModelLoss; training?: boolean }[] = [
  {
    name: 'tanh → sigmoid → softmax, categorical cross-entropy',
    layers: [
      { kind: 'dense', units: 4, activation: 'tanh' },
      { kind: 'dense', units: 3, activation: 'sigmoid' },
      { kind: 'dense', units: 3, activation: 'softmax' },
    ],
    loss: 'categoricalCrossentropy',
  },
  {
    name: 'tanh → logits, softmax cross-entropy from logits',
    layers: [
      { kind: 'dense', units: 4, activation: 'tanh' },
      { kind: 'dense', units: 3, activation: 'linear' },
    ],
    loss: 'categoricalCrossentropyFromLogits',
  },
  {
    name: 'dense → LayerNorm → tanh → softmax, categorical cross-entropy',
    layers: [
      { kind: 'dense', units: 4, activation: 'linear' },
      { kind: 'layerNorm' },
      { kind: 'activation', activation: 'tanh' },
      { kind: 'dense', units: 3, activation: 'softmax' },
    ],
    loss: 'categoricalCrossentropy',
  },
  {
    name: 'dense → LayerNorm of tfjs-sam → tanh → softmax, categorical cross-entropy',
    layers: [
      { kind: 'dense', units: 4, activation: 'linear' },
      { kind: 'layerNorm', ours: true },
      { kind: 'activation', activation: 'tanh' },
      { kind: 'dense', units: 3, activation: 'softmax' },
    ],
    loss: 'categoricalCrossentropy',
  },
  {
    name: 'dense → BatchNorm (training) → sigmoid → logits cross-entropy',
    layers: [
      { kind: 'dense', units: 4, activation: 'linear' },
      { kind: 'batchNorm' },
      { kind: 'activation', activation: 'sigmoid' },
      { kind: 'dense', units: 3, activation: 'linear' },
    ],
    loss: 'categoricalCrossentropyFromLogits',
    training: true,
  },
];

for (const backend of TEST_BACKENDS) {
  describe(`diagnostics/hvp [${backend}]`, () => {
    before(async () => useBackend(backend));

    for (const testCase of CASES) {
      test(`exact HVP after enableHigherOrderGradients: ${testCase.name}`, () => {
        const inputSize = 3;
        const model = buildModel(testCase.layers, inputSize);
        const xs = [
          [0.5, -1.2, 0.3],
          [-0.7, 0.4, 1.1],
          [1.5, 0.2, -0.6],
          [0.1, -0.3, -1.4],
        ];
        const ys = [
          [1, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
          [0, 1, 0],
        ];
        const x = tf.tensor2d(xs);
        const y = tf.tensor2d(ys);
        const objective = modelObjective(
          'test',
          model,
          x,
          y,
          testCase.loss,
          testCase.training ?? false,
        );
        const params = Float64Array.from(
          objective.variables.flatMap((v) => Array.from(v.dataSync())),
        );
        const direction = Float64Array.from(
          Float32Array.from(params, (_, i) => Math.sin(0.7 * i + 0.3)),
        );
        const vector: tf.Tensor[] = [];
        let offset = 0;
        for (const v of objective.variables) {
          vector.push(
            tf.tensor(Float32Array.from(direction.subarray(offset, offset + v.size)), v.shape),
          );
          offset += v.size;
        }
        const reference = referenceHvp(
          referenceLoss(testCase.layers, inputSize, xs, ys, testCase.loss),
          params,
          direction,
        );

        const measure = (): number => {
          const result = hessianVectorProduct(objective.lossFn, objective.variables, vector, {
            method: 'double-backprop',
          });
          const flat = result.product.flatMap((t) => Array.from(t.dataSync()));
          result.product.forEach((t) => t.dispose());
          return relativeError(flat, reference);
        };
        let stockError = NaN;
        try {
          stockError = measure();
        } catch {
          stockError = Infinity;
        }
        const undo = enableHigherOrderGradients();
        const startTensors = tf.memory().numTensors;
        let fixedError: number;
        try {
          fixedError = measure();
          assert.equal(tf.memory().numTensors, startTensors);
        } finally {
          undo();
        }
        console.log(
          `  [${backend}] ${testCase.name}: relative error stock ${stockError.toExponential(2)}, fixed ${fixedError.toExponential(2)}`,
        );
        assert.ok(fixedError <= 1e-4, `relative error ${fixedError}`);
        assert.ok(
          stockError > 1e-3,
          `stock tfjs was expected to be wrong here (error ${stockError})`,
        );
        tf.dispose([x, y, ...vector]);
        model.dispose();
      });
    }

    test(
      'exact HVP through conv2d (stride 2, same) + tanh, kernel and bias',
      { skip: backend === 'wasm' ? 'tfjs-backend-wasm has no Conv2DBackpropFilter kernel' : false },
      () => {
        const [height, width, inChannels, outChannels, size, stride] = [5, 5, 2, 2, 3, 2];
        const input = Array.from({ length: height * width * inChannels }, (_, i) =>
          Math.sin(0.37 * i + 1),
        );
        const x = tf.tensor4d(input, [1, height, width, inChannels]);
        const kernel = tf.variable(
          tf.tensor4d(
            Array.from(
              { length: size * size * inChannels * outChannels },
              (_, i) => 0.4 * Math.cos(0.9 * i),
            ),
            [size, size, inChannels, outChannels],
          ),
        );
        const bias = tf.variable(tf.tensor1d([0.1, -0.2]));
        const lossFn = () =>
          tf.tidy(
            () =>
              tf.mean(
                tf.square(tf.tanh(tf.add(tf.conv2d(x, kernel, stride, 'same'), bias))),
              ) as tf.Scalar,
          );
        // 'same' with stride 2 on 5×5 and a 3×3 kernel: output 3×3, padding 1 on each side.
        const outSize = Math.ceil(height / stride);
        const reference = (params: Float64Array) => {
          let total = 0;
          for (let oy = 0; oy < outSize; oy++)
            for (let ox = 0; ox < outSize; ox++)
              for (let o = 0; o < outChannels; o++) {
                let sum = params[size * size * inChannels * outChannels + o] as number;
                for (let ky = 0; ky < size; ky++)
                  for (let kx = 0; kx < size; kx++)
                    for (let c = 0; c < inChannels; c++) {
                      const iy = oy * stride + ky - 1;
                      const ix = ox * stride + kx - 1;
                      if (iy < 0 || ix < 0 || iy >= height || ix >= width) continue;
                      sum +=
                        (input[(iy * width + ix) * inChannels + c] as number) *
                        (params[((ky * size + kx) * inChannels + c) * outChannels + o] as number);
                    }
                total += Math.tanh(sum) ** 2;
              }
          return total / (outSize * outSize * outChannels);
        };
        const params = Float64Array.from([...kernel.dataSync(), ...bias.dataSync()]);
        const direction = Float64Array.from(Float32Array.from(params, (_, i) => Math.cos(1.3 * i)));
        const vector = [
          tf.tensor(Float32Array.from(direction.subarray(0, kernel.size)), kernel.shape),
          tf.tensor(Float32Array.from(direction.subarray(kernel.size)), bias.shape),
        ];
        const expected = referenceHvp(reference, params, direction);
        const undo = enableHigherOrderGradients();
        try {
          const result = hessianVectorProduct(lossFn, [kernel, bias], vector, {
            method: 'double-backprop',
          });
          const error = relativeError(
            result.product.flatMap((t) => Array.from(t.dataSync())),
            expected,
          );
          console.log(`  [${backend}] conv2d + tanh: relative error ${error.toExponential(2)}`);
          assert.ok(error <= 1e-4, `relative error ${error}`);
          tf.dispose(result.product);
        } finally {
          undo();
        }
        assert.throws(
          () => hessianVectorProduct(lossFn, [kernel, bias], vector, { method: 'double-backprop' }),
          /Conv2DBackpropFilter/,
        );
        tf.dispose([x, kernel, bias, ...vector]);
      },
    );

    test('enable is idempotent and undo restores the exact previous gradient configs', () => {
      const before = HIGHER_ORDER_GRADIENT_KERNELS.map((k) => tf.getGradient(k));
      assert.equal(higherOrderGradientsEnabled(), false);
      const undoFirst = enableHigherOrderGradients();
      const enabled = HIGHER_ORDER_GRADIENT_KERNELS.map((k) => tf.getGradient(k));
      const undoSecond = enableHigherOrderGradients();
      assert.deepEqual(
        HIGHER_ORDER_GRADIENT_KERNELS.map((k) => tf.getGradient(k)),
        enabled,
      );
      assert.equal(higherOrderGradientsEnabled(), true);
      undoSecond();
      assert.equal(higherOrderGradientsEnabled(), true);
      undoFirst();
      HIGHER_ORDER_GRADIENT_KERNELS.forEach((k, i) =>
        assert.equal(tf.getGradient(k), before[i], k),
      );
      assert.equal(higherOrderGradientsEnabled(), false);
    });

    test('finite differences: on request and as fallback, with a warning; exact on a quadratic', () => {
      const w = tf.variable(tf.tensor1d([0.4, -0.3]));
      const v = [tf.tensor1d([1, 2])];
      // L = w0² w1 + w1²: H = [[2 w1, 2 w0], [2 w0, 2]].
      const lossFn = () =>
        tf.tidy(
          () =>
            tf.sum(
              tf.add(
                tf.mul(tf.square(tf.slice(w, 0, 1)), tf.slice(w, 1, 1)),
                tf.square(tf.slice(w, 1, 1)),
              ),
            ) as tf.Scalar,
        );
      const expected = [2 * -0.3 * 1 + 2 * 0.4 * 2, 2 * 0.4 * 1 + 2 * 2];
      const start = tf.memory().numTensors;
      const fd = hessianVectorProduct(lossFn, [w], v, { method: 'finite-difference' });
      assert.equal(fd.method, 'finite-difference');
      assert.match(fd.warning ?? '', /requested.*2e-5 relative/);
      assert.ok(relativeError(fd.product[0]!.dataSync(), expected) < 1e-3);
      const exact = hessianVectorProduct(lossFn, [w], v);
      assert.equal(exact.method, 'double-backprop');
      assert.equal(exact.warning, undefined);
      assert.ok(relativeError(exact.product[0]!.dataSync(), expected) < 1e-6);
      tf.dispose([...fd.product, ...exact.product]);
      assert.equal(tf.memory().numTensors, start);
      assert.deepEqual(Array.from(w.dataSync()), Array.from(new Float32Array([0.4, -0.3])));
      tf.dispose([w, ...v]);
    });

    test('auto falls back to finite differences when double backprop throws, and says so', () => {
      assert.equal(higherOrderGradientsEnabled(), false);
      const w = tf.variable(tf.tensor1d([0.4, -0.3, 0.1]));
      const v = [tf.tensor1d([1, 0, -1])];
      // Stock tfjs cannot differentiate logSumExp twice (Max's gradient uses Equal).
      const lossFn = () => tf.logSumExp(w) as tf.Scalar;
      assert.throws(() => hessianVectorProduct(lossFn, [w], v, { method: 'double-backprop' }));
      const result = hessianVectorProduct(lossFn, [w], v);
      assert.equal(result.method, 'finite-difference');
      assert.match(
        result.warning ?? '',
        /double backprop failed .*fell back to finite differences/,
      );
      // Hessian of logSumExp: diag(p) − p pᵀ.
      const e = [0.4, -0.3, 0.1].map(Math.exp);
      const p = e.map((x) => x / e.reduce((a, b) => a + b, 0));
      const direction = [1, 0, -1];
      const pv = p.reduce((s, x, i) => s + x * direction[i]!, 0);
      const expected = p.map((x, i) => x * direction[i]! - x * pv);
      assert.ok(relativeError(result.product[0]!.dataSync(), expected) < 1e-3);
      tf.dispose([...result.product, w, ...v]);
    });

    test("a loss in parts: H·v summed over unequal parts equals the whole loss's; tensors flat", () => {
      const layers: LayerSpec[] = [
        { kind: 'dense', units: 4, activation: 'tanh' },
        { kind: 'dense', units: 3, activation: 'softmax' },
      ];
      const model = buildModel(layers, 3);
      const x = tf.tensor2d([
        [0.5, -1.2, 0.3],
        [-0.7, 0.4, 1.1],
        [1.5, 0.2, -0.6],
        [0.1, -0.3, -1.4],
        [0.9, 0.8, -0.2],
      ]);
      const y = tf.oneHot(tf.tensor1d([0, 1, 2, 1, 0], 'int32'), 3);
      const objective = modelObjective('test', model, x, y, 'categoricalCrossentropy', false);
      const parts = objective.lossParts(2);
      assert.deepEqual(
        parts.weights.map((w) => w * 5),
        [1, 2, 2],
      );
      const vector = objective.variables.map((v, i) =>
        tf.tidy(() => tf.reshape(tf.sin(tf.add(tf.mul(tf.range(0, v.size), 0.7), i)), v.shape)),
      );
      const undo = enableHigherOrderGradients();
      try {
        const product = (loss: Parameters<typeof hessianVectorProduct>[0]) => {
          const result = hessianVectorProduct(loss, objective.variables, vector);
          const flat = result.product.flatMap((t) => Array.from(t.dataSync()));
          tf.dispose(result.product);
          return flat;
        };
        const whole = product(objective.lossFn);
        const start = tf.memory().numTensors;
        const inParts = product(parts);
        assert.equal(tf.memory().numTensors, start);
        assert.ok(
          relativeError(inParts, whole) <= 1e-5,
          `relative error ${relativeError(inParts, whole)}`,
        );
        // Equal weights on unequal parts are another loss: the check above can fail.
        const unweighted = product({ parts: parts.parts, weights: [1 / 3, 1 / 3, 1 / 3] });
        assert.ok(relativeError(unweighted, whole) > 1e-3);
      } finally {
        undo();
      }
      assert.throws(
        () => hessianVectorProduct({ parts: [], weights: [] }, objective.variables, vector),
        /at least one part and one weight per part; got 0 parts/,
      );
      assert.throws(
        () =>
          hessianVectorProduct(
            { parts: parts.parts, weights: [0.5, 0.5, 0.5] },
            objective.variables,
            vector,
          ),
        /positive and summing to 1; got \[0.5, 0.5, 0.5\] \(sum 1.5\)/,
      );
      tf.dispose([x, y, ...vector]);
      model.dispose();
    });

    test('bad inputs name the option, value and range', () => {
      const w = tf.variable(tf.tensor1d([1, 2]));
      const lossFn = () => tf.sum(tf.square(w)) as tf.Scalar;
      assert.throws(
        () => hessianVectorProduct(lossFn, [w], [tf.zeros([3])]),
        /vector\[0\]' has shape \[3\] but variable/,
      );
      assert.throws(
        () => hessianVectorProduct(lossFn, [w], [tf.zeros([2])], { method: 'magic' as 'auto' }),
        /option 'method' is 'magic'; expected one of 'auto'/,
      );
      assert.throws(
        () => hessianVectorProduct(lossFn, [w], [tf.zeros([2])], { finiteDifferenceStep: -1 }),
        /'finiteDifferenceStep' is -1; expected a finite number > 0/,
      );
      assert.throws(() => hessianVectorProduct(lossFn, [], []), /non-empty array of tf.Variable/);
      w.dispose();
    });
  });
}
