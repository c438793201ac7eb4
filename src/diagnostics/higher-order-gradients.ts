/**
 * Opt-in gradient re-registrations that make nested gradients (Hessian-vector products) exact in
 * tfjs 4.22. Stock Exp/Sigmoid/Tanh/Softmax gradients read the kernel's saved *output*, which the
 * engine clones before the kernel's own tape node, so a second backward sweep treats it as
 * unreachable and drops the curvature term (tensorflow/tfjs#3252). Ours recompute the output from
 * the saved *input*. Comparison and logical ops get zero gradients so that second-order sweeps
 * through `where`/clip/max-style gradients do not throw.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';

function single(dy: Tensor | Tensor[]): Tensor {
  return Array.isArray(dy) ? (dy[0] as Tensor) : dy;
}

function savedInput(saved: Tensor[]): Tensor {
  return saved[0] as Tensor;
}

const recomputingGradients: GradConfig[] = [
  {
    kernelName: 'Exp',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(single(dy), tf.exp(savedInput(saved))) }),
  },
  {
    kernelName: 'Sigmoid',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({
      x: () => {
        const y = tf.sigmoid(savedInput(saved));
        return tf.mul(single(dy), tf.mul(y, tf.sub(1, y)));
      },
    }),
  },
  {
    kernelName: 'Tanh',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({
      x: () => tf.mul(single(dy), tf.sub(1, tf.square(tf.tanh(savedInput(saved))))),
    }),
  },
  {
    kernelName: 'Softmax',
    inputsToSave: ['logits'],
    gradFunc: (dy, saved, attrs: NamedAttrMap) => ({
      logits: () => {
        const dim = (attrs as { dim?: number }).dim ?? -1;
        const y = tf.softmax(savedInput(saved), dim);
        const upstream = single(dy);
        const weighted = tf.mul(y, upstream);
        // ∂softmax: dx = y ⊙ dy − y · Σ_dim(y ⊙ dy)
        return tf.sub(weighted, tf.mul(y, tf.sum(weighted, dim, true)));
      },
    }),
  },
];

/**
 * Conv2DBackpropFilter has no gradient in tfjs, so conv layers could not be differentiated twice.
 * dW(x, dy) is bilinear with ⟨G, dW(x, dy)⟩ = ⟨conv2d(x, G), dy⟩, hence
 * ∂/∂dy = conv2d(x, G) and ∂/∂x = conv2dTranspose(dy, G) (NHWC, no dilation).
 */
const convFilterGradient: GradConfig = {
  kernelName: 'Conv2DBackpropFilter',
  inputsToSave: ['x', 'dy'],
  gradFunc: (upstream, saved, attrs: NamedAttrMap) => {
    const [x, dy] = saved as [tf.Tensor4D, tf.Tensor4D];
    const filterGradient = single(upstream) as tf.Tensor4D;
    const { strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as {
      strides: [number, number] | number;
      pad: 'valid' | 'same' | number;
      dataFormat: 'NHWC' | 'NCHW';
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
    };
    if (dataFormat !== undefined && dataFormat !== 'NHWC') {
      throw new Error(
        `second-order gradient of Conv2DBackpropFilter supports NHWC only, got ${dataFormat}`,
      );
    }
    return {
      x: () =>
        tf.conv2dTranspose(
          dy,
          filterGradient,
          x.shape,
          strides,
          pad as 'valid' | 'same',
          dimRoundingMode,
        ),
      dy: () => tf.conv2d(x, filterGradient, strides, pad, 'NHWC', 1, dimRoundingMode),
    };
  },
};

const BINARY_NON_DIFFERENTIABLE = [
  'Greater',
  'GreaterEqual',
  'Less',
  'LessEqual',
  'Equal',
  'NotEqual',
  'LogicalAnd',
  'LogicalOr',
];

recomputingGradients.push(convFilterGradient);

const zeroGradients: GradConfig[] = [
  ...BINARY_NON_DIFFERENTIABLE.map((kernelName): GradConfig => ({
    kernelName,
    inputsToSave: ['a', 'b'],
    gradFunc: (_dy, saved) => ({
      a: () => tf.zerosLike(saved[0] as Tensor),
      b: () => tf.zerosLike(saved[1] as Tensor),
    }),
  })),
  {
    kernelName: 'LogicalNot',
    inputsToSave: ['x'],
    gradFunc: (_dy, saved) => ({ x: () => tf.zerosLike(savedInput(saved)) }),
  },
];

/** Kernel names whose gradient `enableHigherOrderGradients` replaces. */
export const HIGHER_ORDER_GRADIENT_KERNELS: readonly string[] = [
  ...recomputingGradients,
  ...zeroGradients,
].map((config) => config.kernelName);

const ownConfigs = new Set<GradConfig>([...recomputingGradients, ...zeroGradients]);

function replaceGradient(kernelName: string, config: GradConfig | undefined): void {
  if (tf.getGradient(kernelName) !== undefined) tf.unregisterGradient(kernelName);
  if (config !== undefined) tf.registerGradient(config);
}

/** True when every gradient this module provides is the one currently registered. */
export function higherOrderGradientsEnabled(): boolean {
  return [...recomputingGradients, ...zeroGradients].every(
    (config) => tf.getGradient(config.kernelName) === config,
  );
}

/**
 * Registers gradients that make double backprop exact through exp, sigmoid, tanh, softmax (and
 * the cross-entropy losses built from them) and that let it pass comparison/logical ops.
 * Returns a function that puts back exactly the gradient configs registered before the call.
 * Calling it again while enabled changes nothing (its undo is then a no-op for those kernels).
 * Note: tfjs-core's own gradients are registered by importing `@tensorflow/tfjs-layers` (or
 * `@tensorflow/tfjs`); import one of them before taking gradients.
 */
export function enableHigherOrderGradients(): () => void {
  const previous = new Map<string, GradConfig | undefined>();
  for (const config of [...recomputingGradients, ...zeroGradients]) {
    const current = tf.getGradient(config.kernelName) as GradConfig | undefined;
    previous.set(config.kernelName, current);
    if (current !== config) replaceGradient(config.kernelName, config);
  }
  let undone = false;
  return () => {
    if (undone) return;
    undone = true;
    for (const [kernelName, config] of previous) {
      const current = tf.getGradient(kernelName) as GradConfig | undefined;
      if (current !== config && (current === undefined || ownConfigs.has(current))) {
        replaceGradient(kernelName, config);
      }
    }
  };
}
