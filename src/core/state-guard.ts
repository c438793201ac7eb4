/**
 * Keeps the extra forward/backward passes of sharpness-aware methods free of side effects:
 *
 * - `NonTrainableRecorder` remembers the value every non-trainable variable (BatchNormalization's
 *   moving mean and variance, …) had before its first assignment while recording, so that the
 *   statistics of a perturbed pass can be undone exactly (tfjs-layers assigns them inside
 *   `call()` in training mode).
 * - `collectKeptScalars` lists the scalars `tf.keep()` marked during a call: tfjs-layers keeps
 *   one metric scalar per metric per call of its loss closure, so a second call would leak them.
 */
import * as tf from '@tensorflow/tfjs-core';

type AssignFn = (this: tf.Variable, newValue: tf.Tensor) => void;

let recorderActive = false;
let originalAssign: AssignFn | null = null;

export class NonTrainableRecorder {
  private readonly saved = new Map<tf.Variable, tf.Tensor>();
  private recording = false;

  get isRecording(): boolean {
    return this.recording;
  }

  /** Variables whose value was recorded so far. */
  get recordedVariables(): tf.Variable[] {
    return [...this.saved.keys()];
  }

  start(): void {
    if (recorderActive) {
      throw new Error(
        'tfjs-sam: a sharpness-aware step is already in progress (perturbed weights are in place). ' +
          'Finish it with secondStep() before starting another firstStep() or step().',
      );
    }
    const original = tf.Variable.prototype.assign as AssignFn;
    originalAssign = original;
    recorderActive = true;
    this.recording = true;
    const saved = this.saved;
    tf.Variable.prototype.assign = function recordingAssign(this: tf.Variable, newValue) {
      if (!this.trainable && !saved.has(this)) saved.set(this, tf.keep(tf.clone(this)));
      original.call(this, newValue);
    };
  }

  stop(): void {
    if (!this.recording) return;
    tf.Variable.prototype.assign = originalAssign as AssignFn;
    originalAssign = null;
    recorderActive = false;
    this.recording = false;
  }

  /** Puts every recorded variable back to its value before recording; frees the copies. */
  restore(): void {
    this.stop();
    for (const [variable, value] of this.saved) {
      if (!variable.isDisposed) variable.assign(value);
      value.dispose();
    }
    this.saved.clear();
  }

  /** Frees the recorded copies and keeps the variables as they are now. */
  discard(): void {
    this.stop();
    for (const value of this.saved.values()) value.dispose();
    this.saved.clear();
  }
}

/**
 * Runs `fn` and returns the rank-0, non-variable tensors that `tf.keep()` marked while it ran
 * and that are still alive afterwards (the caller decides when to dispose them).
 */
export function collectKeptScalars<T>(fn: () => T): { result: T; kept: tf.Tensor[] } {
  const engine = tf.engine() as unknown as { keep: <R extends tf.Tensor>(t: R) => R };
  const kept: tf.Tensor[] = [];
  const ownKeep = Object.prototype.hasOwnProperty.call(engine, 'keep');
  const previousKeep = engine.keep;
  engine.keep = function collectingKeep<R extends tf.Tensor>(tensor: R): R {
    const result = previousKeep.call(engine, tensor) as R;
    if (tensor.rank === 0 && !(tensor instanceof tf.Variable)) kept.push(tensor);
    return result;
  };
  try {
    const result = fn();
    return { result, kept: kept.filter((t) => !t.isDisposed) };
  } finally {
    if (ownKeep) engine.keep = previousKeep;
    else delete (engine as { keep?: unknown }).keep;
  }
}
