import * as tf from '@tensorflow/tfjs-core';
import { disposeOptimizer } from '../../src/index.js';
import { selectBackend } from './backend.js';
import { drawLineChart } from './chart.js';
import { Classifier } from './classifier.js';
import {
  datasetCatalog,
  epochOrder,
  findDataset,
  withLabelNoise,
  type ClassificationData,
  type Split,
} from './datasets.js';
import { byId } from './dom.js';
import { findOptimizer, optimizerStep, sharpnessAwareOptimizers } from './optimizers.js';

const MODEL_SEED = 7;
const MOMENTUM = 0.9;
const BOUNDARY_GRID = 90;

interface ContenderCurves {
  id: string;
  label: string;
  trainLoss: number[];
  testAccuracy: number[];
}

interface RunRecord {
  dataset: string;
  noise: number;
  epochs: number;
  sgd: number;
  sam: number;
  backend: string;
}

interface TrainState {
  ready: boolean;
  backend: string;
  dataset: string;
  noise: number;
  learningRate: number;
  /** The sharpness-aware method trained next to SGD (an id of the optimizer catalog). */
  method: string;
  rho: number;
  epochs: number;
  running: boolean;
  epochsDone: number;
  contenders: ContenderCurves[];
  runs: RunRecord[];
  error: string | null;
}

const state: TrainState = {
  ready: false,
  backend: '',
  dataset: 'moons',
  noise: 0,
  learningRate: 0.1,
  method: sharpnessAwareOptimizers[0]?.id ?? 'sam',
  rho: 0.05,
  epochs: 30,
  running: false,
  epochsDone: 0,
  contenders: [],
  runs: [],
  error: null,
};
window.__demoState = state;

const datasetSelect = byId('dataset', HTMLSelectElement);
const noiseInput = byId('noise', HTMLInputElement);
const noiseOutput = byId('noise-value', HTMLOutputElement);
const learningRateInput = byId('train-learning-rate', HTMLInputElement);
const methodSelect = byId('train-method', HTMLSelectElement);
const rhoInput = byId('train-rho', HTMLInputElement);
const epochsInput = byId('epochs', HTMLInputElement);
const trainButton = byId('train', HTMLButtonElement);
const stopButton = byId('stop', HTMLButtonElement);
const statusLine = byId('train-status', HTMLElement);
const boundaryCanvases = {
  sgd: byId('boundary-sgd', HTMLCanvasElement),
  sam: byId('boundary-sam', HTMLCanvasElement),
};
const lossChart = byId('loss-chart', HTMLCanvasElement);
const accuracyChart = byId('accuracy-chart', HTMLCanvasElement);
const resultsBody = byId('results', HTMLTableElement).tBodies[0] as HTMLTableSectionElement;
const controls = byId('train-controls', HTMLFormElement);

const loadedData = new Map<string, Promise<ClassificationData>>();
let stopRequested = false;

function loadData(id: string): Promise<ClassificationData> {
  let pending = loadedData.get(id);
  if (!pending) {
    pending = findDataset(id).load();
    loadedData.set(id, pending);
  }
  return pending;
}

function applyDatasetDefaults(id: string): void {
  const entry = findDataset(id);
  state.dataset = id;
  state.learningRate = entry.defaultLearningRate;
  state.epochs = entry.defaultEpochs;
  datasetSelect.value = id;
  learningRateInput.value = String(state.learningRate);
  epochsInput.value = String(state.epochs);
  updateTitles();
}

/** The boundary plots' titles: the two contenders, and what the plots show for the dataset. */
function updateTitles(): void {
  const caption =
    state.dataset === 'fashion' ? ': predictions on 25 test images (red frame = wrong)' : '';
  byId('boundary-sgd-title', HTMLHeadingElement).textContent = `SGD${caption}`;
  byId('boundary-sam-title', HTMLHeadingElement).textContent =
    `${findOptimizer(state.method).label}${caption}`;
}

function readInputs(): void {
  state.noise = Number(noiseInput.value);
  state.method = methodSelect.value;
  const learningRate = Number(learningRateInput.value);
  if (Number.isFinite(learningRate) && learningRate > 0) state.learningRate = learningRate;
  const rho = Number(rhoInput.value);
  if (Number.isFinite(rho) && rho >= 0) state.rho = rho;
  const epochs = Math.round(Number(epochsInput.value));
  if (Number.isFinite(epochs) && epochs > 0) state.epochs = Math.min(epochs, 200);
}

interface Contender {
  curves: ContenderCurves;
  model: Classifier;
  optimizer: tf.Optimizer;
}

function createContenders(data: ClassificationData, hidden: readonly number[]): Contender[] {
  const method = findOptimizer(state.method);
  const make = (id: 'sgd' | 'sam', label: string, optimizer: tf.Optimizer): Contender => ({
    curves: { id, label, trainLoss: [], testAccuracy: [] },
    model: new Classifier(data.features, hidden, data.classes, MODEL_SEED),
    optimizer,
  });
  const momentum = () => tf.train.momentum(state.learningRate, MOMENTUM);
  return [
    make('sgd', 'SGD (momentum)', momentum()),
    make(
      'sam',
      `${method.label} (ρ = ${state.rho})`,
      method.wrap?.(momentum(), state.rho) ?? momentum(),
    ),
  ];
}

function batchTensors(split: Split, features: number, classes: number, indices: Int32Array) {
  const batchFeatures = new Float32Array(indices.length * features);
  const batchLabels = new Int32Array(indices.length);
  indices.forEach((index, row) => {
    batchFeatures.set(
      split.features.subarray(index * features, (index + 1) * features),
      row * features,
    );
    batchLabels[row] = split.labels[index] ?? 0;
  });
  return {
    inputs: tf.tensor2d(batchFeatures, [indices.length, features]),
    targets: tf.oneHot(tf.tensor1d(batchLabels, 'int32'), classes) as tf.Tensor2D,
  };
}

async function train(): Promise<void> {
  readInputs();
  const entry = findDataset(state.dataset);
  state.running = true;
  state.epochsDone = 0;
  state.error = null;
  stopRequested = false;
  trainButton.disabled = true;
  stopButton.disabled = false;
  statusLine.textContent = `Loading ${entry.label}…`;
  const data = await loadData(state.dataset);
  const { split: noisyTrain, flipped } = withLabelNoise(data, state.noise, 11);
  const contenders = createContenders(data, entry.hiddenUnits);
  state.contenders = contenders.map((contender) => contender.curves);
  for (const contender of contenders) recordEpoch(contender, data, noisyTrain);
  drawProgress(contenders, data, noisyTrain, flipped);
  // The previous batch stays one step longer, for a method whose step also takes it (SAMPa).
  let previous: { inputs: tf.Tensor2D; targets: tf.Tensor2D } | null = null;
  try {
    for (let epoch = 0; epoch < state.epochs && !stopRequested; epoch++) {
      const order = epochOrder(noisyTrain.count, 1000 + epoch);
      for (let start = 0; start < order.length && !stopRequested; start += entry.batchSize) {
        const indices = order.subarray(start, start + entry.batchSize);
        const batch = batchTensors(noisyTrain, data.features, data.classes, indices);
        for (const contender of contenders) {
          const before = previous;
          optimizerStep(
            contender.optimizer,
            () => contender.model.loss(batch.inputs, batch.targets),
            before === null ? null : () => contender.model.loss(before.inputs, before.targets),
            contender.model.variables,
          )?.dispose();
        }
        if (previous !== null) tf.dispose([previous.inputs, previous.targets]);
        previous = batch;
        await tf.nextFrame();
      }
      for (const contender of contenders) recordEpoch(contender, data, noisyTrain);
      state.epochsDone = epoch + 1;
      drawProgress(contenders, data, noisyTrain, flipped);
      statusLine.textContent = `Epoch ${epoch + 1} of ${state.epochs}: ${describeAccuracies(contenders)}`;
    }
    const [sgd, sam] = contenders.map((contender) => contender.curves.testAccuracy.at(-1) ?? NaN);
    state.runs.push({
      dataset: entry.label,
      noise: state.noise,
      epochs: state.epochsDone,
      sgd: sgd ?? NaN,
      sam: sam ?? NaN,
      backend: state.backend,
    });
    renderRuns();
    statusLine.textContent = `${stopRequested ? 'Stopped' : 'Done'} after ${state.epochsDone} epoch(s): ${describeAccuracies(contenders)}`;
  } finally {
    const last = previous as { inputs: tf.Tensor2D; targets: tf.Tensor2D } | null;
    if (last !== null) tf.dispose([last.inputs, last.targets]);
    for (const contender of contenders) {
      contender.model.dispose();
      disposeOptimizer(contender.optimizer);
    }
    state.running = false;
    trainButton.disabled = false;
    stopButton.disabled = true;
  }
}

function recordEpoch(contender: Contender, data: ClassificationData, noisyTrain: Split): void {
  contender.curves.trainLoss.push(
    contender.model.meanLoss(noisyTrain, data.features, data.classes),
  );
  contender.curves.testAccuracy.push(contender.model.accuracy(data.test, data.features));
}

function describeAccuracies(contenders: readonly Contender[]): string {
  return contenders
    .map((contender) => {
      const accuracy = contender.curves.testAccuracy.at(-1) ?? NaN;
      return `${contender.curves.label} test accuracy ${(accuracy * 100).toFixed(1)}%`;
    })
    .join(', ');
}

const COLOURS: Record<string, string> = { sgd: '#d62728', sam: '#1f77b4' };

function drawProgress(
  contenders: readonly Contender[],
  data: ClassificationData,
  noisyTrain: Split,
  flipped: Int32Array,
): void {
  drawLineChart(
    lossChart,
    contenders.map((contender) => ({
      label: contender.curves.label,
      colour: COLOURS[contender.curves.id] ?? '#333',
      values: contender.curves.trainLoss,
    })),
    { title: 'Training loss (on the noisy labels)', xLabel: 'epoch' },
  );
  drawLineChart(
    accuracyChart,
    contenders.map((contender) => ({
      label: contender.curves.label,
      colour: COLOURS[contender.curves.id] ?? '#333',
      values: contender.curves.testAccuracy,
    })),
    { title: 'Test accuracy (clean labels)', yMin: 0, yMax: 1, xLabel: 'epoch' },
  );
  for (const contender of contenders) {
    const canvas = boundaryCanvases[contender.curves.id as 'sgd' | 'sam'];
    if (data.plane) drawBoundary(canvas, contender.model, data, noisyTrain, flipped);
    else drawPredictions(canvas, contender.model, data);
  }
}

const GALLERY_SIDE = 5;

function drawPredictions(
  canvas: HTMLCanvasElement,
  model: Classifier,
  data: ClassificationData,
): void {
  const context = canvas.getContext('2d');
  if (!context) return;
  const count = GALLERY_SIDE * GALLERY_SIDE;
  const stride = Math.floor(data.test.count / count);
  const indices = Array.from({ length: count }, (_, i) => i * stride);
  const pixels = data.features * count;
  const batch = new Float32Array(pixels);
  indices.forEach((index, row) =>
    batch.set(
      data.test.features.subarray(index * data.features, (index + 1) * data.features),
      row * data.features,
    ),
  );
  const predictions = tf.tidy(() => model.predict(tf.tensor2d(batch, [count, data.features])));
  const cell = canvas.width / GALLERY_SIDE;
  const imageSize = cell - 22;
  context.fillStyle = '#fff';
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.font = '10px system-ui, sans-serif';
  context.textAlign = 'center';
  const thumbnail = new ImageData(28, 28);
  const scratch = document.createElement('canvas');
  scratch.width = 28;
  scratch.height = 28;
  indices.forEach((index, i) => {
    for (let p = 0; p < 784; p++) {
      const value = 255 - Math.round((data.test.features[index * 784 + p] ?? 0) * 255);
      thumbnail.data.set([value, value, value, 255], p * 4);
    }
    scratch.getContext('2d')?.putImageData(thumbnail, 0, 0);
    const x = (i % GALLERY_SIDE) * cell + (cell - imageSize) / 2;
    const y = Math.floor(i / GALLERY_SIDE) * cell + 2;
    context.drawImage(scratch, x, y, imageSize, imageSize);
    const predicted = predictions[i] ?? 0;
    const correct = predicted === data.test.labels[index];
    context.strokeStyle = correct ? '#2ca02c' : '#d62728';
    context.lineWidth = correct ? 1.5 : 3;
    context.strokeRect(x, y, imageSize, imageSize);
    context.fillStyle = correct ? '#1b5e20' : '#b71c1c';
    context.fillText(data.classNames[predicted] ?? '?', x + imageSize / 2, y + imageSize + 12);
  });
  context.textAlign = 'start';
}

function drawBoundary(
  canvas: HTMLCanvasElement,
  model: Classifier,
  data: ClassificationData,
  noisyTrain: Split,
  flipped: Int32Array,
): void {
  const plane = data.plane;
  const context = canvas.getContext('2d');
  if (!plane || !context) return;
  const span = plane.max - plane.min;
  const grid = new Float32Array(BOUNDARY_GRID * BOUNDARY_GRID * 2);
  for (let row = 0; row < BOUNDARY_GRID; row++) {
    for (let column = 0; column < BOUNDARY_GRID; column++) {
      const i = row * BOUNDARY_GRID + column;
      grid[i * 2] = plane.min + ((column + 0.5) / BOUNDARY_GRID) * span;
      grid[i * 2 + 1] = plane.max - ((row + 0.5) / BOUNDARY_GRID) * span;
    }
  }
  const probability = tf.tidy(() =>
    model.positiveProbability(tf.tensor2d(grid, [BOUNDARY_GRID * BOUNDARY_GRID, 2])),
  );
  const image = new ImageData(BOUNDARY_GRID, BOUNDARY_GRID);
  probability.forEach((p, i) => {
    const shade = (value: number, low: number, high: number) => low + (high - low) * value;
    image.data[i * 4] = shade(p, 250, 170);
    image.data[i * 4 + 1] = shade(p, 190, 205);
    image.data[i * 4 + 2] = shade(p, 170, 250);
    image.data[i * 4 + 3] = 255;
  });
  const scratch = document.createElement('canvas');
  scratch.width = BOUNDARY_GRID;
  scratch.height = BOUNDARY_GRID;
  scratch.getContext('2d')?.putImageData(image, 0, 0);
  context.imageSmoothingEnabled = true;
  context.drawImage(scratch, 0, 0, canvas.width, canvas.height);
  const flippedSet = new Set(flipped);
  const toPixel = (value: number, axis: 'x' | 'y') =>
    axis === 'x'
      ? ((value - plane.min) / span) * canvas.width
      : ((plane.max - value) / span) * canvas.height;
  for (let i = 0; i < noisyTrain.count; i++) {
    const x = toPixel(noisyTrain.features[i * 2] ?? 0, 'x');
    const y = toPixel(noisyTrain.features[i * 2 + 1] ?? 0, 'y');
    context.fillStyle = noisyTrain.labels[i] === 1 ? '#1f4fa8' : '#c0392b';
    context.strokeStyle = flippedSet.has(i) ? '#000' : 'rgba(255,255,255,0.8)';
    context.lineWidth = flippedSet.has(i) ? 1.5 : 0.8;
    context.beginPath();
    context.arc(x, y, flippedSet.has(i) ? 3.5 : 2.6, 0, 2 * Math.PI);
    context.fill();
    context.stroke();
  }
}

function renderRuns(): void {
  resultsBody.replaceChildren(
    ...state.runs.map((run) => {
      const row = document.createElement('tr');
      for (const text of [
        run.dataset,
        `${Math.round(run.noise * 100)}%`,
        String(run.epochs),
        `${(run.sgd * 100).toFixed(1)}%`,
        `${(run.sam * 100).toFixed(1)}%`,
        run.backend,
      ]) {
        const cell = document.createElement('td');
        cell.textContent = text;
        row.append(cell);
      }
      return row;
    }),
  );
}

function wireEvents(): void {
  for (const entry of datasetCatalog) datasetSelect.add(new Option(entry.label, entry.id));
  for (const entry of sharpnessAwareOptimizers) methodSelect.add(new Option(entry.label, entry.id));
  methodSelect.value = state.method;
  methodSelect.addEventListener('change', () => {
    state.method = methodSelect.value;
    updateTitles();
  });
  datasetSelect.addEventListener('change', () => applyDatasetDefaults(datasetSelect.value));
  noiseInput.addEventListener('input', () => {
    noiseOutput.value = `${Math.round(Number(noiseInput.value) * 100)}%`;
  });
  controls.addEventListener('submit', (event) => {
    event.preventDefault();
    if (state.running) return;
    train().catch(reportError);
  });
  stopButton.addEventListener('click', () => {
    stopRequested = true;
  });
}

function reportError(error: unknown): void {
  state.error = String(error);
  statusLine.textContent = `Training failed: ${String(error)}`;
  console.error(error);
}

async function main(): Promise<void> {
  state.backend = await selectBackend(['webgl', 'cpu']);
  tf.enableProdMode();
  wireEvents();
  applyDatasetDefaults('moons');
  state.ready = true;
  statusLine.textContent = `Ready (TensorFlow.js backend: ${state.backend}). Press Train.`;
}

main().catch(reportError);
