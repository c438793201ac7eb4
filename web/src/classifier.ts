import * as tf from '@tensorflow/tfjs-core';
import type { Split } from './datasets.js';

/** A small fully connected ReLU network written with core ops, so any tfjs optimizer trains it. */
export class Classifier {
  readonly variables: tf.Variable[] = [];

  constructor(inputs: number, hidden: readonly number[], classes: number, seed: number) {
    const sizes = [inputs, ...hidden, classes];
    for (let layer = 0; layer + 1 < sizes.length; layer++) {
      const fanIn = sizes[layer] as number;
      const fanOut = sizes[layer + 1] as number;
      // Glorot & Bengio (2010) uniform initialization.
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      const [kernel, bias] = tf.tidy(() => [
        tf.variable(
          tf.randomUniform([fanIn, fanOut], -limit, limit, 'float32', seed + layer),
          true,
          `classifier${instanceCounter}/dense${layer}/kernel`,
        ),
        tf.variable(tf.zeros([fanOut]), true, `classifier${instanceCounter}/dense${layer}/bias`),
      ]);
      this.variables.push(kernel as tf.Variable, bias as tf.Variable);
    }
    instanceCounter += 1;
  }

  logits(inputs: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      let activations: tf.Tensor2D = inputs;
      const layers = this.variables.length / 2;
      for (let layer = 0; layer < layers; layer++) {
        const kernel = this.variables[layer * 2] as tf.Variable;
        const bias = this.variables[layer * 2 + 1] as tf.Variable;
        const linear = tf.add(tf.matMul(activations, kernel as tf.Tensor2D), bias) as tf.Tensor2D;
        activations = layer + 1 < layers ? tf.relu(linear) : linear;
      }
      return activations;
    });
  }

  loss(inputs: tf.Tensor2D, oneHotLabels: tf.Tensor2D): tf.Scalar {
    return tf.losses.softmaxCrossEntropy(oneHotLabels, this.logits(inputs));
  }

  /** Predicted class of each row. */
  predict(inputs: tf.Tensor2D): Int32Array {
    return tf.tidy(() => tf.argMax(this.logits(inputs), 1).dataSync() as Int32Array);
  }

  /** Probability of class 1 for each row (2-class problems). */
  positiveProbability(inputs: tf.Tensor2D): Float32Array {
    return tf.tidy(() => {
      const probabilities = tf.softmax(this.logits(inputs));
      return tf.slice(probabilities, [0, 1], [-1, 1]).dataSync() as Float32Array;
    });
  }

  accuracy(split: Split, features: number): number {
    const predictions = tf.tidy(() =>
      this.predict(tf.tensor2d(split.features, [split.count, features])),
    );
    let correct = 0;
    for (let i = 0; i < split.count; i++) if (predictions[i] === split.labels[i]) correct++;
    return correct / split.count;
  }

  meanLoss(split: Split, features: number, classes: number): number {
    return tf.tidy(() => {
      const inputs = tf.tensor2d(split.features, [split.count, features]);
      const targets = tf.oneHot(tf.tensor1d(split.labels, 'int32'), classes) as tf.Tensor2D;
      return this.loss(inputs, targets).dataSync()[0] ?? NaN;
    });
  }

  dispose(): void {
    for (const variable of this.variables) variable.dispose();
  }
}

let instanceCounter = 0;
