/**
 * Softmax cross-entropy of integer targets from logits, fused: the loss per row is
 * logSumExp(z) − z[target] and its gradient (softmax(z) − onehot(target))·dy is formed in the
 * backward pass directly, without the chain of elementwise ops (clip, divide, log, their
 * gradients) that a loss on probabilities costs on a [rows, classes] tensor — the bulk of a
 * language model's loss over a vocabulary. First-order only (a custom gradient): for
 * Hessian-vector products write the loss as logSumExp − ⟨onehot, z⟩ with primitive ops.
 */
import * as tf from '@tensorflow/tfjs-core';

const fused = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [logits, targets, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  const z = logits as tf.Tensor2D;
  const [rows, classes] = z.shape;
  const ids = targets as tf.Tensor1D;
  // One exp pass: the shifted exponentials give both logSumExp and the softmax the gradient needs.
  const max = tf.max(z, 1, true);
  const exponentials = tf.exp(tf.sub(z, max));
  const sums = tf.sum(exponentials, 1, true);
  const probabilities = tf.div(exponentials, sums);
  const logSumExp = tf.reshape(tf.add(max, tf.log(sums)), [rows]);
  const offsets = tf.add(tf.mul(tf.range(0, rows, 1, 'int32'), tf.scalar(classes, 'int32')), ids);
  const picked = tf.gather(tf.reshape(z, [-1]), offsets);
  save([probabilities, ids]);
  return {
    value: tf.sub(logSumExp, picked),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [savedProbabilities, savedIds] = saved as [tf.Tensor2D, tf.Tensor1D];
      const oneHot = tf.oneHot(savedIds, classes, 1, 0, 'float32');
      const gradient = tf.mul(
        tf.sub(savedProbabilities, oneHot),
        tf.expandDims(dy as tf.Tensor, 1),
      );
      return [gradient, tf.zerosLike(savedIds)];
    },
  };
});

/**
 * Cross-entropy per row of `logits` [rows, classes] against class ids `targets` [rows] (int32 or
 * float holding integers): logSumExp(z) − z[target], shape [rows].
 */
export function sparseSoftmaxCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  const ids = targets.dtype === 'int32' ? targets : tf.cast(targets, 'int32');
  const loss = fused(logits, ids) as tf.Tensor1D;
  if (ids !== targets) ids.dispose();
  return loss;
}
