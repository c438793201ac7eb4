import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { registerWasmTrainingKernels } from '../backend/wasm-kernels/index.js';
import { sam } from '../core/sam.js';
import { adamw } from '../optimizers/adamw.js';
import { fitTokenizer } from '../data/text/tokenizers.js';
import type { NextTokenDataset, TokenDataset } from '../data/text/types.js';
import { windowsToTensors } from '../data/text/tensors.js';
import { languageModel } from '../models/language-model.js';
import { transformerClassifier } from '../models/transformer-classifier.js';
import { useBackend } from '../testing/backends.js';
import { evaluate, train, TOKENIZER_FILE } from './trainer.js';
import { tokenCrossEntropy } from './objective.js';

/** Rows of 6 ids (1..9, padded with 0); class 1 exactly when token 7 occurs. */
function tokenData(count: number, seed: number): TokenDataset {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const tokens = new Int32Array(count * 6);
  const labels = new Int32Array(count);
  for (let r = 0; r < count; r++) {
    const length = 2 + Math.floor(next() * 4);
    for (let c = 0; c < length; c++) tokens[r * 6 + c] = 1 + Math.floor(next() * 9);
    labels[r] = tokens.subarray(r * 6, r * 6 + 6).includes(7) ? 1 : 0;
  }
  return { kind: 'tokens', tokens, seqLength: 6, count, labels, classes: 2, vocabSize: 10 };
}

/** Windows of 8 + 1 ids over the cycle 3, 4, 5, 6, 7 (each token determines the next). */
function windows(count: number, offset: number): NextTokenDataset {
  const tokens = Int32Array.from({ length: count * 9 }, (_, i) => 3 + ((i + offset) % 5));
  return { kind: 'next-token', tokens, seqLength: 8, count, vocabSize: 12 };
}

const tokenizer = fitTokenizer(['a b c d e f g'], { vocabSize: 10, minCount: 1 });

test('token classification: the trainer learns, saves the tokenizer, refuses to resume with another', async () => {
  await useBackend('wasm');
  const undo = registerWasmTrainingKernels();
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-sam-text-'));
  try {
    const build = () =>
      transformerClassifier({
        vocabSize: 10,
        seqLength: 6,
        dModel: 16,
        heads: 2,
        blocks: 1,
        ffDim: 16,
        maskPadding: true,
        seed: 1,
      });
    const options = {
      data: { train: tokenData(256, 1), test: tokenData(128, 2), tokenizer },
      buildModel: build,
      buildOptimizer: () => sam(adamw({ learningRate: 0.01, weightDecay: 0.01 }), { rho: 0.05 }),
      epochs: 6,
      batchSize: 32,
      seed: 3,
      checkpointDir: dir,
    };
    const before = tf.memory().numTensors;
    const result = await train(options);
    const last = result.history.at(-1)!;
    assert.ok(last.testAccuracy! > 0.85, `test accuracy ${last.testAccuracy}`);
    assert.equal(last.testPerplexity, undefined, 'no perplexity for a classifier');
    assert.ok(existsSync(join(dir, TOKENIZER_FILE)));
    (result.model.optimizer as tf.Optimizer).dispose();
    result.model.dispose();
    assert.equal(tf.memory().numTensors, before, 'checkpoints every epoch leak nothing');
    const other = fitTokenizer(['x y z w v u t'], { vocabSize: 10, minCount: 1 });
    await assert.rejects(
      train({ ...options, data: { ...options.data, tokenizer: other }, resume: true, epochs: 7 }),
      /tokenizer.json differs from the tokenizer fitted on this data; resume with the same data flags/,
    );
  } finally {
    undo();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('next-token windows: a language model trains on the token loss and reports perplexity', async () => {
  await useBackend('wasm');
  const undo = registerWasmTrainingKernels();
  try {
    const result = await train({
      data: { train: windows(64, 0), validation: windows(8, 2), test: windows(8, 4) },
      buildModel: () =>
        languageModel({ vocabSize: 12, seqLength: 8, dModel: 16, heads: 2, blocks: 1, seed: 2 }),
      buildOptimizer: () => sam(adamw({ learningRate: 0.01 }), { rho: 0.05 }),
      epochs: 12,
      batchSize: 16,
      seed: 1,
      mSharpness: 2,
    });
    const [first, last] = [result.history[0]!, result.history.at(-1)!];
    assert.ok(last.testPerplexity! < first.testPerplexity!, 'perplexity falls');
    assert.ok(last.testPerplexity! < 2, `the cycle is learned: perplexity ${last.testPerplexity}`);
    assert.ok(Math.abs(last.validationPerplexity! - Math.exp(last.validationLoss!)) < 1e-9);
    assert.ok(Math.abs(last.trainPerplexity! - Math.exp(last.trainLoss)) < 1e-9);
    assert.ok(last.testAccuracy! > 0.9);
    // evaluate = exp of the mean token cross-entropy, computed directly.
    const data = windows(8, 4);
    const direct = tf.tidy(() => {
      const { xs, ys } = windowsToTensors(data);
      return tf.mean(tokenCrossEntropy(ys, result.model.predict(xs) as tf.Tensor)).dataSync()[0]!;
    });
    const evaluation = evaluate(result.model, data, 3)!;
    assert.ok(Math.abs(evaluation.loss - direct) < 1e-5, `${evaluation.loss} vs ${direct}`);
    assert.ok(Math.abs(evaluation.perplexity! - Math.exp(direct)) < 1e-4);
    result.model.dispose();
  } finally {
    undo();
  }
});

test('a language model refuses label smoothing, augmentation and data-parallel steps, saying why', async () => {
  await useBackend('cpu');
  const base = {
    data: { train: windows(8, 0) },
    buildModel: () =>
      languageModel({ vocabSize: 12, seqLength: 8, dModel: 8, heads: 2, blocks: 1 }),
    buildOptimizer: () => tf.train.sgd(0.1),
    epochs: 1,
    batchSize: 4,
    seed: 1,
  };
  await assert.rejects(
    train({ ...base, labelSmoothing: 0.1 }),
    /label smoothing applies to classification/,
  );
  await assert.rejects(train({ ...base, augment: { flip: true } }), /augment .* applies to images/);
  await assert.rejects(
    train({ ...base, dataParallel: { model: { name: 'mlp' }, replicas: 2 } }),
    /data-parallel steps .* train classifiers only; .*use --workers 1/,
  );
});
