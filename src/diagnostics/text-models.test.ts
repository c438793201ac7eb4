import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { registerWasmTrainingKernels } from '../backend/wasm-kernels/index.js';
import { languageModel } from '../models/language-model.js';
import { transformerClassifier } from '../models/transformer-classifier.js';
import { useBackend } from '../testing/backends.js';
import { enableHigherOrderGradients } from './higher-order-gradients.js';
import { doubleBackpropHvp, finiteDifferenceHvp } from './hvp.js';
import { modelObjective } from './model-loss.js';

function relativeError(a: tf.Tensor[], b: tf.Tensor[]): number {
  return tf.tidy(() => {
    const difference = a.map((t, i) => tf.sum(tf.square(tf.sub(t, b[i]!))));
    const norm = b.map((t) => tf.sum(tf.square(t)));
    return Math.sqrt(tf.addN(difference).dataSync()[0]! / tf.addN(norm).dataSync()[0]!);
  });
}

function randomVector(variables: tf.Variable[]): tf.Tensor[] {
  return variables.map((v, i) => tf.randomNormal(v.shape, 0, 1, 'float32', 100 + i));
}

for (const backend of ['cpu', 'wasm'] as const) {
  test(`${backend}: exact Hessian-vector products through the lm (causal attention, gelu, tied output) and the masked classifier`, async () => {
    await useBackend(backend);
    const undoKernels = backend === 'wasm' ? registerWasmTrainingKernels() : () => undefined;
    const undo = enableHigherOrderGradients();
    try {
      const lm = languageModel({
        vocabSize: 9,
        seqLength: 5,
        dModel: 8,
        heads: 2,
        blocks: 1,
        seed: 5,
      });
      const x = tf.tensor2d(
        [
          [1, 4, 6, 8, 3],
          [2, 2, 7, 5, 0],
        ],
        [2, 5],
        'int32',
      );
      const y = tf.tensor3d(
        [
          [[4], [6], [8], [3], [2]],
          [[2], [7], [5], [1], [4]],
        ],
        [2, 5, 1],
      );
      const objective = modelObjective(
        'test',
        lm,
        x,
        y,
        'sparseCategoricalCrossentropyFromLogits',
        false,
      );
      const evaluation = objective.evaluate();
      assert.ok(evaluation.accuracy !== undefined);
      tf.dispose([evaluation.loss, evaluation.accuracy!]);
      const vector = randomVector(objective.variables);
      const exact = doubleBackpropHvp(objective.lossFn, objective.variables, vector);
      const approximate = finiteDifferenceHvp(objective.lossFn, objective.variables, vector, 1e-2);
      const error = relativeError(exact, approximate);
      assert.ok(error < 2e-2, `lm: relative difference ${error}`);
      tf.dispose([...exact, ...approximate, ...vector, x, y]);
      lm.dispose();

      const classifier = transformerClassifier({
        vocabSize: 9,
        seqLength: 5,
        dModel: 8,
        heads: 2,
        blocks: 1,
        ffDim: 8,
        classes: 2,
        maskPadding: true,
        seed: 6,
      });
      const xc = tf.tensor2d(
        [
          [1, 4, 6, 0, 0],
          [2, 2, 7, 5, 0],
        ],
        [2, 5],
        'int32',
      );
      const yc = tf.tensor2d([
        [1, 0],
        [0, 1],
      ]);
      const objectiveC = modelObjective('test', classifier, xc, yc, undefined, false);
      const vectorC = randomVector(objectiveC.variables);
      const exactC = doubleBackpropHvp(objectiveC.lossFn, objectiveC.variables, vectorC);
      const approximateC = finiteDifferenceHvp(
        objectiveC.lossFn,
        objectiveC.variables,
        vectorC,
        1e-3,
      );
      const errorC = relativeError(exactC, approximateC);
      assert.ok(errorC < 5e-2, `masked transformer: relative difference ${errorC}`);
      tf.dispose([...exactC, ...approximateC, ...vectorC, xc, yc]);
      classifier.dispose();
    } finally {
      undo();
      undoKernels();
    }
  });
}
