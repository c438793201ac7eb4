/**
 * The spam page: a small transformer classifies e-mails of the bundled SpamAssassin sample, trained
 * with AdamW and with a sharpness-aware method over AdamW (from the registry's catalog) on the same
 * batches from the same initial weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { adamw, disposeOptimizer } from '../../src/index.js';
import { transformerClassifier } from '../../src/models/transformer-classifier.js';
import { WordTokenizer } from '../../src/data/text/word-tokenizer.js';
import { encodeTexts } from '../../src/data/text/encode.js';
import { tokensToTensor } from '../../src/data/text/tensors.js';
import { addSymmetricLabelNoise } from '../../src/data/label-noise.js';
import { createRandom, permutation } from '../../src/util/random.js';
import type { TokenDataset } from '../../src/data/text/types.js';
import sample from '../../data/spam-assassin-sample/messages.json';
import { selectBackend } from './backend.js';
import { drawLineChart } from './chart.js';
import { byId } from './dom.js';
import { findOptimizer, sharpnessAwareOptimizers } from './optimizers.js';

const SEQ_LENGTH = 64;
const VOCAB_SIZE = 2000;
const BATCH = 32;
const LEARNING_RATE = 2e-3;
const SEED = 3;

interface Curves {
  id: string;
  label: string;
  trainLoss: number[];
  trainAccuracy: number[];
  testAccuracy: number[];
  msPerStep: number;
}

interface SpamState {
  ready: boolean;
  backend: string;
  running: boolean;
  epochsDone: number;
  method: string;
  noise: number;
  trainCount: number;
  testCount: number;
  contenders: Curves[];
  error: string | null;
}

const state: SpamState = {
  ready: false,
  backend: '',
  running: false,
  epochsDone: 0,
  method: 'sam',
  noise: 0,
  trainCount: 0,
  testCount: 0,
  contenders: [],
  error: null,
};
window.__demoState = state;

const statusLine = byId('spam-status', HTMLElement);
const noiseInput = byId('spam-noise', HTMLInputElement);
const methodSelect = byId('spam-method', HTMLSelectElement);
const rhoInput = byId('spam-rho', HTMLInputElement);
const epochsInput = byId('spam-epochs', HTMLInputElement);
const trainButton = byId('spam-train', HTMLButtonElement);
const scores = byId('scores', HTMLTableElement).tBodies[0] as HTMLTableSectionElement;

const messages = (sample as { messages: Array<{ label: string; text: string }> }).messages;
const labels = Int32Array.from(messages, (m) => (m.label === 'spam' ? 1 : 0));
const order = permutation(messages.length, createRandom(SEED));
const trainRows = order.slice(0, Math.round(0.7 * messages.length));
const testRows = order.slice(trainRows.length);
const pick = (rows: Int32Array) => Array.from(rows, (i) => messages[i]!.text);
const tokenizer = WordTokenizer.fit(pick(trainRows), { vocabSize: VOCAB_SIZE, minCount: 2 });
const encode = (rows: Int32Array, rowLabels: Int32Array): TokenDataset =>
  encodeTexts(pick(rows), rowLabels, 2, tokenizer, SEQ_LENGTH, ['ham', 'spam']).dataset;
const cleanTrainLabels = Int32Array.from(trainRows, (i) => labels[i]!);
const test = encode(
  testRows,
  Int32Array.from(testRows, (i) => labels[i]!),
);

for (const entry of sharpnessAwareOptimizers) {
  methodSelect.add(new Option(entry.label, entry.id, entry.id === 'sam', entry.id === 'sam'));
}
noiseInput.addEventListener('input', () => {
  byId('spam-noise-value', HTMLOutputElement).value =
    `${Math.round(Number(noiseInput.value) * 100)}%`;
});
const examples = byId('examples', HTMLUListElement);
for (const i of [testRows[0]!, testRows[1]!, testRows[2]!]) {
  const item = document.createElement('li');
  item.textContent = `[${messages[i]!.label}] ${messages[i]!.text.slice(0, 140)}…`;
  examples.append(item);
}

function buildModel(): tfl.LayersModel {
  return transformerClassifier({
    vocabSize: tokenizer.vocabSize,
    seqLength: SEQ_LENGTH,
    dModel: 32,
    heads: 2,
    blocks: 1,
    ffDim: 64,
    classes: 2,
    maskPadding: true,
    seed: SEED,
  });
}

function testAccuracy(model: tfl.LayersModel): number {
  return tf.tidy(() => {
    const predictions = tf.argMax(model.predict(tokensToTensor(test)) as tf.Tensor, 1);
    const truth = tf.tensor1d(test.labels, 'int32');
    return tf.mean(tf.cast(tf.equal(predictions, truth), 'float32')).dataSync()[0] as number;
  });
}

function render(): void {
  const colours = ['#ff7f0e', '#1f77b4'];
  drawLineChart(
    byId('spam-loss', HTMLCanvasElement),
    state.contenders.map((c, i) => ({ label: c.label, colour: colours[i]!, values: c.trainLoss })),
    { title: 'Training loss (on the possibly noisy labels)', xLabel: 'epoch' },
  );
  drawLineChart(
    byId('spam-accuracy', HTMLCanvasElement),
    state.contenders.map((c, i) => ({
      label: c.label,
      colour: colours[i]!,
      values: c.testAccuracy,
    })),
    { title: 'Test accuracy (clean labels)', yMin: 0.4, yMax: 1, xLabel: 'epoch' },
  );
  scores.replaceChildren(
    ...state.contenders.map((c) => {
      const row = document.createElement('tr');
      const percent = (v: number | undefined) =>
        v === undefined ? '—' : `${(v * 100).toFixed(1)}%`;
      for (const cell of [
        c.label,
        percent(c.trainAccuracy.at(-1)),
        percent(c.testAccuracy.at(-1)),
        c.msPerStep.toFixed(0),
      ]) {
        const td = document.createElement('td');
        td.textContent = cell;
        row.append(td);
      }
      return row;
    }),
  );
}

async function train(): Promise<void> {
  state.running = true;
  state.error = null;
  state.epochsDone = 0;
  trainButton.disabled = true;
  state.noise = Number(noiseInput.value);
  state.method = methodSelect.value;
  const rho = Number(rhoInput.value);
  const epochs = Math.max(1, Math.round(Number(epochsInput.value)));
  const noisy =
    state.noise > 0
      ? addSymmetricLabelNoise(cleanTrainLabels, { fraction: state.noise, classes: 2, seed: SEED })
          .labels
      : cleanTrainLabels;
  const trainSet = encode(trainRows, noisy);
  state.trainCount = trainSet.count;
  state.testCount = test.count;
  const method = findOptimizer(state.method);
  const contenders = [
    {
      id: 'adamw',
      label: 'AdamW',
      optimizer: adamw({ learningRate: LEARNING_RATE, weightDecay: 0.01 }) as tf.Optimizer,
    },
    {
      id: method.id,
      label: `${method.label} (AdamW)`,
      optimizer: method.wrap!(adamw({ learningRate: LEARNING_RATE, weightDecay: 0.01 }), rho),
    },
  ].map((c) => {
    const model = buildModel();
    model.compile({
      optimizer: c.optimizer,
      loss: 'categoricalCrossentropy',
      metrics: ['accuracy'],
    });
    const curves: Curves = {
      id: c.id,
      label: c.label,
      trainLoss: [],
      trainAccuracy: [],
      testAccuracy: [testAccuracy(model)],
      msPerStep: 0,
    };
    return { model, optimizer: c.optimizer, curves };
  });
  state.contenders = contenders.map((c) => c.curves);
  render();
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const batchOrder = permutation(trainSet.count, createRandom(SEED * 1000 + epoch));
      const sums = contenders.map(() => ({ loss: 0, accuracy: 0, ms: 0, steps: 0 }));
      for (let start = 0; start < batchOrder.length; start += BATCH) {
        const rows = batchOrder.slice(start, start + BATCH);
        const xs = tokensToTensor(trainSet, rows);
        const ys = tf.oneHot(
          tf.tensor1d(
            Array.from(rows, (r) => trainSet.labels[r]!),
            'int32',
          ),
          2,
        );
        for (const [k, c] of contenders.entries()) {
          const begun = performance.now();
          const [loss, accuracy] = (await c.model.trainOnBatch(xs, ys)) as number[];
          const sum = sums[k]!;
          sum.ms += performance.now() - begun;
          sum.steps += 1;
          sum.loss += loss! * rows.length;
          sum.accuracy += accuracy! * rows.length;
          await tf.nextFrame();
        }
        tf.dispose([xs, ys]);
      }
      contenders.forEach((c, k) => {
        const sum = sums[k]!;
        c.curves.trainLoss.push(sum.loss / trainSet.count);
        c.curves.trainAccuracy.push(sum.accuracy / trainSet.count);
        c.curves.testAccuracy.push(testAccuracy(c.model));
        c.curves.msPerStep = sum.ms / sum.steps;
      });
      state.epochsDone = epoch + 1;
      statusLine.textContent = `Epoch ${epoch + 1} of ${epochs} on ${state.backend}: ${contenders.map((c) => `${c.curves.label} ${((c.curves.testAccuracy.at(-1) ?? 0) * 100).toFixed(1)}%`).join(', ')} test accuracy.`;
      render();
    }
  } catch (error) {
    state.error = error instanceof Error ? error.message : String(error);
    statusLine.textContent = `Training failed: ${state.error}`;
  } finally {
    for (const c of contenders) {
      disposeOptimizer(c.optimizer);
      c.model.dispose();
    }
    state.running = false;
    trainButton.disabled = false;
  }
}

byId('spam-controls', HTMLFormElement).addEventListener('submit', (event) => {
  event.preventDefault();
  // Start after the click's event returns: training keeps the main thread busy between yields.
  if (!state.running) void tf.nextFrame().then(train);
});

state.backend = await selectBackend(['webgl', 'cpu']);
state.ready = true;
statusLine.textContent = `Ready on the ${state.backend} backend: ${trainRows.length} training and ${testRows.length} test messages, vocabulary ${tokenizer.vocabSize}.`;
