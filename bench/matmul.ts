/**
 * GFLOP/s of the wasm matrix product on the shapes of the zoo's models: tfjs-backend-wasm's own
 * BatchMatMul (XNNPACK for one untransposed pair, a scalar loop for transposes and batches) against
 * the same op with `registerWasmTrainingKernels()` (the SIMD matmul of src/backend/fused/fused.wat).
 *   npm run bench:matmul [-- --repeats 5] [--out FILE (default runs/bench/matmul.json)]
 * Each shape is timed in turn for both kernels, `--repeats` rounds; the table gives medians.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { parseArgs as parseCommandLine } from 'node:util';
import { registerWasmTrainingKernels } from '../src/backend/wasm-kernels/index.js';
import { formatTable, integerFlag, machineInfo, median, printHeader, writeJson } from './report.js';

/** [batch, m, k, n, transposeA, transposeB, where the shape occurs]. */
const SHAPES: Array<[number, number, number, number, boolean, boolean, string]> = [
  [1, 256, 1024, 1024, false, false, 'mlp: hidden layer, forward'],
  [1, 256, 1024, 1024, false, true, 'mlp: hidden layer, input gradient'],
  [1, 1024, 256, 1024, true, false, 'mlp: hidden layer, weight gradient'],
  [1, 4096, 128, 128, false, false, 'transformer: projection, forward'],
  [1, 128, 4096, 128, true, false, 'transformer: projection, weight gradient'],
  [128, 128, 32, 128, false, true, 'transformer: attention scores Q·Kᵀ'],
  [128, 128, 128, 32, false, false, 'transformer: attention · V'],
  [128, 128, 128, 32, true, false, 'transformer: gradient of V'],
];

const { values } = parseCommandLine({
  args: process.argv.slice(2),
  options: { repeats: { type: 'string', default: '5' }, out: { type: 'string' } },
});
const repeats = integerFlag('--repeats', values.repeats, 1);
const machine = machineInfo();
printHeader('wasm matrix product, GFLOP/s (median over rounds)', machine);
await tf.setBackend('wasm');
await tf.ready();

/** Milliseconds per product, after a warm-up, over enough calls to take about 0.2 s. */
function timeProduct(a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean, flops: number) {
  const run = () => tf.matMul(a, b, ta, tb).dispose();
  for (let i = 0; i < 3; i++) run();
  const calls = Math.max(3, Math.round(4e9 / flops / 1000));
  const start = performance.now();
  for (let i = 0; i < calls; i++) run();
  return (performance.now() - start) / calls;
}

const rows = [];
for (const [batch, m, k, n, ta, tb, where] of SHAPES) {
  const shapeA = ta ? [k, m] : [m, k];
  const shapeB = tb ? [n, k] : [k, n];
  const a = tf.randomNormal(batch > 1 ? [batch, ...shapeA] : shapeA, 0, 1, 'float32', 1);
  const b = tf.randomNormal(batch > 1 ? [batch, ...shapeB] : shapeB, 0, 1, 'float32', 2);
  const flops = 2 * batch * m * k * n;
  const stock: number[] = [];
  const ours: number[] = [];
  for (let round = 0; round < repeats; round++) {
    stock.push(timeProduct(a, b, ta, tb, flops));
    const undo = registerWasmTrainingKernels();
    ours.push(timeProduct(a, b, ta, tb, flops));
    undo();
  }
  tf.dispose([a, b]);
  const gflops = (ms: number) => flops / ms / 1e6;
  rows.push({
    shape: `${batch > 1 ? `${batch} × ` : ''}${m}×${k}·${k}×${n}${ta ? ' Aᵀ' : ''}${tb ? ' Bᵀ' : ''}`,
    where,
    'stock ms': median(stock).toFixed(2),
    'stock GFLOP/s': gflops(median(stock)).toFixed(1),
    'ours ms': median(ours).toFixed(2),
    'ours GFLOP/s': gflops(median(ours)).toFixed(1),
    'speed-up': `${(median(stock) / median(ours)).toFixed(1)}×`,
  });
}
console.log(formatTable(rows));
writeJson(values.out ?? 'runs/bench/matmul.json', { benchmark: 'matmul', machine, repeats, rows });
