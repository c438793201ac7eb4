/**
 * The per-tensor passes of the sharpness-aware math that backends may fuse into one kernel. Each
 * op runs the backend's kernel when one is registered under its name (the wasm backend's SIMD
 * kernels, `registerWasmTrainingKernels`) and otherwise composes stock tfjs ops with the same
 * float32 rounding of every elementwise product and sum; reductions may differ in the order (and
 * precision) of their additions. Gradients are registered, so the ops may sit inside `tf.grad`.
 */
import * as tf from '@tensorflow/tfjs-core';

export const FUSED_KERNEL_NAMES = {
  /** {a, b} → Σ a·b (float32 scalar). */
  dot: 'TfjsSamDot',
  /** {a, b} → [Σ a², Σ b², Σ a·b] (float32, shape [3]). */
  gram: 'TfjsSamGram',
  /** {x} → 0 when every element is finite, NaN otherwise. */
  finiteProbe: 'TfjsSamFiniteProbe',
  /** {x, y, a, b} with scalar a, b → a·x + b·y, each product and the sum rounded to float32. */
  axpby: 'TfjsSamAxpby',
  /**
   * {value, first, second, accumulation?} with SgdStepAttrs → [value', accumulation'?, probe]: one
   * step of SGD (momentum) with the gradient a·first + b·second; probe as finiteProbe's of that sum.
   */
  sgdStep: 'TfjsSamSgdStep',
} as const;

/** The scalars of an sgdStep: c = −lr, as tf.train.sgd and tf.train.momentum hold it. */
export interface SgdStepAttrs {
  a: number;
  b: number;
  /** λ of a coupled decay g + w·λ (WeightDecay); 0: none. */
  weightDecay: number;
  /** μ of the momentum buffer (read only with an accumulation). */
  momentum: number;
  c: number;
}

function fusedFor(name: string, ...tensors: tf.Tensor[]): boolean {
  if (tf.getKernel(name, tf.getBackend()) === undefined) return false;
  const first = tensors[0] as tf.Tensor;
  return tensors.every((t) => t.dtype === 'float32' && tf.util.arraysEqual(t.shape, first.shape));
}

let gradientsRegistered = false;

function registerGradients(): void {
  if (gradientsRegistered) return;
  gradientsRegistered = true;
  tf.registerGradient({
    kernelName: FUSED_KERNEL_NAMES.dot,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      return { a: () => tf.mul(b, dy as tf.Tensor), b: () => tf.mul(a, dy as tf.Tensor) };
    },
  });
  tf.registerGradient({
    kernelName: FUSED_KERNEL_NAMES.gram,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      const [daa, dbb, dab] = tf.unstack(dy as tf.Tensor) as [tf.Scalar, tf.Scalar, tf.Scalar];
      return {
        a: () => tf.add(tf.mul(a, tf.mul(daa, 2)), tf.mul(b, dab)),
        b: () => tf.add(tf.mul(b, tf.mul(dbb, 2)), tf.mul(a, dab)),
      };
    },
  });
  tf.registerGradient({
    kernelName: FUSED_KERNEL_NAMES.finiteProbe,
    inputsToSave: ['x'],
    gradFunc: (_dy, saved) => ({ x: () => tf.zerosLike(saved[0] as tf.Tensor) }),
  });
  tf.registerGradient({
    kernelName: FUSED_KERNEL_NAMES.axpby,
    inputsToSave: ['x', 'y', 'a', 'b'],
    gradFunc: (dy, saved) => {
      const [x, y, a, b] = saved as [tf.Tensor, tf.Tensor, tf.Scalar, tf.Scalar];
      const upstream = dy as tf.Tensor;
      return {
        x: () => tf.mul(upstream, a),
        y: () => tf.mul(upstream, b),
        a: () => tf.sum(tf.mul(upstream, x)),
        b: () => tf.sum(tf.mul(upstream, y)),
      };
    },
  });
}

function run(name: string, inputs: tf.NamedTensorMap): tf.Tensor {
  registerGradients();
  return tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap) as tf.Tensor;
}

/** Σ a·b over all elements. */
export function dotOf(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  if (fusedFor(FUSED_KERNEL_NAMES.dot, a, b)) {
    return run(FUSED_KERNEL_NAMES.dot, { a, b }) as tf.Scalar;
  }
  return tf.tidy(() => tf.sum(a === b ? tf.square(a) : tf.mul(a, b)));
}

/** [Σ a², Σ b², Σ a·b] in one pass where the backend fuses it. */
export function gramOf(a: tf.Tensor, b: tf.Tensor): tf.Tensor1D {
  if (fusedFor(FUSED_KERNEL_NAMES.gram, a, b)) {
    return run(FUSED_KERNEL_NAMES.gram, { a, b }) as tf.Tensor1D;
  }
  return tf.tidy(() =>
    tf.stack([tf.sum(tf.square(a)), tf.sum(tf.square(b)), tf.sum(tf.mul(a, b))]),
  ) as tf.Tensor1D;
}

/** 0 when every element of x is finite, NaN otherwise (x − x is 0 exactly for finite x). */
export function finiteProbeOf(x: tf.Tensor): tf.Scalar {
  if (fusedFor(FUSED_KERNEL_NAMES.finiteProbe, x)) {
    return run(FUSED_KERNEL_NAMES.finiteProbe, { x }) as tf.Scalar;
  }
  return tf.tidy(() => tf.sum(tf.sub(x, x)));
}

/** a·x + b·y (a = 1: x + b·y, as tf.add(x, tf.mul(y, b)) rounds it). */
export function axpbyOf(
  a: tf.Scalar | number,
  x: tf.Tensor,
  b: tf.Scalar | number,
  y: tf.Tensor,
): tf.Tensor {
  if (fusedFor(FUSED_KERNEL_NAMES.axpby, x, y)) {
    return tf.tidy(() =>
      run(FUSED_KERNEL_NAMES.axpby, {
        x,
        y,
        a: typeof a === 'number' ? tf.scalar(a) : a,
        b: typeof b === 'number' ? tf.scalar(b) : b,
      }),
    );
  }
  return tf.tidy(() => tf.add(a === 1 ? x : tf.mul(x, a), tf.mul(y, b)));
}

/** What {@link sgdStepOf} returns; the caller disposes the tensors. */
export interface SgdStepResult {
  value: tf.Tensor;
  /** The new momentum buffer (null without one). */
  accumulation: tf.Tensor | null;
  /** 0 when a·first + b·second is finite everywhere, NaN otherwise. */
  probe: tf.Scalar;
}

/**
 * The step tf.train.sgd (c = −lr) or, given a buffer, tf.train.momentum (μ, no Nesterov) takes on
 * `value` with the gradient a·first + b·second, behind WeightDecay's g + w·λ when λ ≠ 0 — rounded
 * as those ops round it, in one pass where the backend fuses it.
 */
export function sgdStepOf(
  value: tf.Tensor,
  first: tf.Tensor,
  second: tf.Tensor,
  accumulation: tf.Tensor | null,
  attrs: SgdStepAttrs,
): SgdStepResult {
  const tensors =
    accumulation === null ? [value, first, second] : [value, first, second, accumulation];
  if (fusedFor(FUSED_KERNEL_NAMES.sgdStep, ...tensors)) {
    const inputs: tf.NamedTensorMap = { value, first, second };
    if (accumulation !== null) inputs['accumulation'] = accumulation;
    const outputs = tf
      .engine()
      .runKernel(
        FUSED_KERNEL_NAMES.sgdStep,
        inputs,
        attrs as unknown as tf.NamedAttrMap,
      ) as unknown as tf.Tensor[];
    return {
      value: outputs[0] as tf.Tensor,
      accumulation: accumulation === null ? null : (outputs[1] as tf.Tensor),
      probe: outputs[outputs.length - 1] as tf.Scalar,
    };
  }
  const [next, probe, buffer] = tf.tidy(() => {
    const sum = axpbyOf(attrs.a, first, attrs.b, second);
    const gradient = attrs.weightDecay === 0 ? sum : tf.add(sum, tf.mul(value, attrs.weightDecay));
    const momentum =
      accumulation === null
        ? null
        : tf.add(tf.mul(tf.scalar(attrs.momentum), accumulation), gradient);
    const stepped = tf.add(tf.mul(tf.scalar(attrs.c), momentum ?? gradient), value);
    return [stepped, finiteProbeOf(sum), ...(momentum === null ? [] : [momentum])];
  }) as [tf.Tensor, tf.Scalar, tf.Tensor | undefined];
  return { value: next, accumulation: buffer ?? null, probe };
}

/** {@link sgdStepOf} over lists (`accumulations` null: plain SGD); `probe` sums their probes. */
export function sgdStepsOf(
  values: readonly tf.Tensor[],
  first: readonly tf.Tensor[],
  second: readonly tf.Tensor[],
  accumulations: readonly tf.Tensor[] | null,
  attrs: SgdStepAttrs,
): { values: tf.Tensor[]; accumulations: tf.Tensor[] | null; probe: tf.Scalar } {
  const steps = values.map((v, i) =>
    sgdStepOf(v, first[i] as tf.Tensor, second[i] as tf.Tensor, accumulations?.[i] ?? null, attrs),
  );
  const probes = steps.map((s) => s.probe);
  const probe = tf.tidy(() => (probes.length === 0 ? tf.scalar(0) : tf.addN(probes))) as tf.Scalar;
  tf.dispose(probes);
  return {
    values: steps.map((s) => s.value),
    accumulations: accumulations === null ? null : steps.map((s) => s.accumulation as tf.Tensor),
    probe,
  };
}
