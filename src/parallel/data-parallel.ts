/**
 * A data-parallel train step over worker threads. Each replica (a worker, and optionally the main
 * thread) computes the gradient of the mean loss over its contiguous slice of the batch; the main
 * thread averages them weighted by slice size (so the mean is the full-batch mean-loss gradient) and
 * lets the optimizer apply it to the main model, which holds the authoritative weights.
 *
 * With SAM, ASAM or SAM-ON each replica perturbs its own copy of w with its own slice gradient and
 * returns ∇L_j(w + ε_j): m-sharpness with m = number of slices (Foret et al. 2021, §4.1, as in the
 * original JAX implementation, where each device perturbs with its own gradient). The base optimizer
 * applies the mean of those.
 *
 * Non-trainable state (BatchNorm moving statistics): every replica starts the step from the main
 * model's state and updates it once, in its forward pass at w, from its own slice; the main model
 * then takes the slice-size-weighted average of the replicas' states. For the moving mean this equals
 * one update from the full batch's mean; for the moving variance it omits the spread between slice
 * means (each slice's variance is about its own mean), as when BatchNorm runs per device.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { buildModel } from '../models/index.js';
import {
  modelLayout,
  numericValuesOf,
  readVariables,
  sectionTensors,
  tensorFrom,
  writeVariables,
  type VariableLayout,
} from './layout.js';
import { planOptimizer, type OptimizerPlan } from './optimizer-plan.js';
import {
  twoPointViews,
  type ReplicaBackend,
  type ReplicatedStep,
  type StepMessage,
  type TwoPointBuffers,
  type TwoPointViews,
  type WorkerInit,
} from './protocol.js';
import { ReplicaPool, defaultWorkerUrl } from './replica-pool.js';
import { sliceGradients, type DataParallelLoss, type SliceGradients } from './replica-step.js';
import { axpbyOf } from '../math/fused-ops.js';
import { splitBatch, type BatchSlice } from './split.js';
import { checkBatch, checkOptions } from './checks.js';
import { pairedStep, type ReplicaSync } from './paired-step.js';
import type { DataParallelOptions, DataParallelTrainer } from './data-parallel-api.js';

/**
 * Whether the main thread computes a slice by default: yes when it trains on the workers' backend.
 * Then "N − 1 workers + main" runs N replicas on N threads with nothing idle, while "N workers"
 * keeps the main thread waiting and pays one more copy of the inputs and one more round trip.
 * Measured with bench/parallel.ts on 2 cores, but on a machine kept busy by two other training
 * processes (1-minute load 3.4-4.3), median ms/step for 2 slices, "1 worker + main" vs "2 workers":
 * MLP SGD 184.0 vs 204.4, MLP SAM 382.2 vs 375.7, CNN SGD 201.5 vs 194.6, CNN SAM 397.1 vs 392.1:
 * a tie within that noise, so the default follows the thread count. Re-measure on an idle machine.
 * On another backend (cpu: much slower; tfjs-node: already multi-threaded) the main thread only
 * combines the workers' gradients.
 */
function defaultMainThreadSlice(workerBackend: ReplicaBackend): boolean {
  return tf.getBackend() === workerBackend;
}

/** Builds the main model, starts the workers and waits until every replica is ready. */
export async function createDataParallel(
  options: DataParallelOptions,
): Promise<DataParallelTrainer> {
  checkOptions(options);
  const loss = options.loss ?? 'categoricalCrossentropy';
  // Throws the zoo's ModelOptionError (naming the option and what to use) before any worker starts.
  const built = buildModel(options.model.name, options.model.options ?? {});
  if (options.mainModel !== undefined) built.dispose();
  const model = options.mainModel ?? built;
  try {
    const layout = modelLayout(model);
    const plan = planOptimizer(
      options.optimizer,
      layout.trainable.map((v) => v.name),
    );
    if (model.optimizer !== options.optimizer) {
      model.compile({ optimizer: options.optimizer, loss, metrics: ['accuracy'] });
    }
    const workerBackend = options.workerBackend ?? 'wasm';
    const mainThreadSlice = options.mainThreadSlice ?? defaultMainThreadSlice(workerBackend);
    const weights = new SharedArrayBuffer(layout.totalSize * 4);
    const section = () => new SharedArrayBuffer(layout.trainableSize * 4);
    const twoPoint: TwoPointBuffers | null =
      plan.kind === 'paired'
        ? { stored: section(), accumulations: section(), mainGradients: [section(), section()] }
        : null;
    const inits: WorkerInit[] = Array.from({ length: options.workers }, (_, index) => ({
      index,
      model: options.model,
      loss,
      backend: workerBackend,
      weights,
      output: new SharedArrayBuffer(layout.totalSize * 4),
      perturbation: plan.kind === 'sam' ? plan.perturbation : null,
      twoPoint,
      expected: {
        trainableSize: layout.trainableSize,
        totalSize: layout.totalSize,
        variables: layout.trainable.length + layout.state.length,
      },
    }));
    if (plan.kind === 'paired' && !(options.workers === 1 && mainThreadSlice)) {
      throw new Error(
        `createDataParallel: ${options.optimizer.getClassName()} takes its two gradients on two threads, the main one and one worker (workers: 1 with the main thread on the workers' backend, wasm); got ${options.workers} worker(s)${mainThreadSlice ? '' : ' and no main-thread slice'}.`,
      );
    }
    const pool = await ReplicaPool.start(inits, options.workerUrl ?? defaultWorkerUrl());
    return new DataParallel(model, layout, plan, loss, pool, inits, mainThreadSlice);
  } catch (error) {
    if (options.mainModel === undefined) model.dispose();
    throw error;
  }
}

class DataParallel implements DataParallelTrainer {
  readonly slices: number;
  private readonly weights: Float32Array;
  private readonly outputs: Float32Array[];
  private readonly mainOutput: Float32Array;
  private readonly combined: Float32Array;
  private inputs: SharedArrayBuffer[];
  private stepId = 0;
  private busy = false;
  /** The two-point step's buffers shared with the worker, and what its replica holds. */
  private readonly twoPoint: TwoPointViews | null;
  private readonly replicaSync: ReplicaSync = { tokens: null, parity: 0 };
  /** The previous step's batch, for a step that takes it too (SAMPa). */
  private lastBatch: { inputs: tf.Tensor; targets: tf.Tensor } | null = null;
  private disposed = false;

  constructor(
    readonly model: tfl.LayersModel,
    private readonly layout: VariableLayout,
    private readonly plan: OptimizerPlan,
    private readonly loss: DataParallelLoss,
    private readonly pool: ReplicaPool,
    inits: readonly WorkerInit[],
    readonly mainThreadSlice: boolean,
  ) {
    this.slices = pool.size + (mainThreadSlice ? 1 : 0);
    this.weights = new Float32Array((inits[0] as WorkerInit).weights);
    this.outputs = inits.map((init) => new Float32Array(init.output));
    // Shared like the workers' outputs, so that combine() sees one kind of array.
    this.mainOutput = new Float32Array(new SharedArrayBuffer(layout.totalSize * 4));
    this.combined = new Float32Array(layout.totalSize);
    this.inputs = inits.map(() => new SharedArrayBuffer(0));
    const shared = (inits[0] as WorkerInit).twoPoint;
    this.twoPoint = shared === null ? null : twoPointViews(shared);
  }

  get workers(): number {
    return this.pool.size;
  }

  get workerTensorCounts(): readonly number[] {
    return [...this.pool.tensorCounts];
  }

  get runningWorkers(): number {
    return this.pool.running;
  }

  async trainOnBatch(
    xs: tf.Tensor,
    ys: tf.Tensor,
    previous?: { inputs: tf.Tensor; targets: tf.Tensor } | null,
  ): Promise<[number, number]> {
    if (this.disposed) {
      throw new Error('trainOnBatch: this data-parallel trainer was disposed; create a new one.');
    }
    if (this.pool.error !== null) throw this.pool.error;
    if (this.busy) {
      throw new Error(
        'trainOnBatch: a step is still running; await each trainOnBatch() before the next.',
      );
    }
    const rows = checkBatch(this.model, xs, ys);
    this.busy = true;
    try {
      if (this.plan.kind !== 'paired') return await this.step(xs, ys, rows);
      const before = previous ?? this.lastBatch ?? { inputs: xs, targets: ys };
      const result = await pairedStep(
        {
          model: this.model,
          layout: this.layout,
          loss: this.loss,
          weights: this.weights,
          mainOutput: this.mainOutput,
          workerOutput: this.outputs[0] as Float32Array,
          twoPoint: this.twoPoint,
          replicaSync: this.replicaSync,
          runWorker: (inputs, targets, replicated) =>
            this.pool.step(
              this.stepMessages(
                inputs,
                targets,
                [{ start: 0, size: inputs.shape[0] as number, weight: 1 }],
                0,
                replicated,
              ),
            ),
          postGradient: (loss) => this.pool.post(0, { type: 'gradient', id: this.stepId, loss }),
          withSection: (values, use) => this.applySection(values, use),
        },
        this.plan.optimizer,
        xs,
        ys,
        before,
      );
      this.keepLastBatch(xs, ys);
      return result;
    } finally {
      this.busy = false;
    }
  }

  /** Calls `use` with the trainable section of `values` as tensors, and frees them. */
  private applySection(values: Float32Array, use: (gradients: tf.Tensor[]) => void): void {
    const gradients = sectionTensors(this.layout, values);
    try {
      use(gradients);
    } finally {
      tf.dispose(gradients);
    }
  }

  /** Keeps this step's batch for the next one (SAMPa's previous batch). */
  private keepLastBatch(xs: tf.Tensor, ys: tf.Tensor): void {
    if (this.lastBatch !== null) tf.dispose([this.lastBatch.inputs, this.lastBatch.targets]);
    this.lastBatch = { inputs: tf.keep(tf.clone(xs)), targets: tf.keep(tf.clone(ys)) };
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (this.lastBatch !== null) tf.dispose([this.lastBatch.inputs, this.lastBatch.targets]);
    this.lastBatch = null;
    await this.pool.terminate();
  }

  private async step(xs: tf.Tensor, ys: tf.Tensor, rows: number): Promise<[number, number]> {
    const { layout, plan } = this;
    const slices = splitBatch(rows, this.slices);
    const mainSlice = this.mainThreadSlice ? (slices[0] as BatchSlice) : null;
    const workerSlices = this.mainThreadSlice ? slices.slice(1) : slices;
    const rho = plan.kind === 'sam' ? plan.optimizer.rhoForNextStep() : 0;
    const perturbation = plan.kind === 'sam' ? plan.perturbation : null;

    writeVariables(layout.trainable, layout.trainableSlots, this.weights);
    writeVariables(layout.state, layout.stateSlots, this.weights);
    const messages = this.stepMessages(xs, ys, workerSlices, rho);
    const fromWorkers = this.pool.step(messages);
    let mainResult: SliceGradients | null = null;
    try {
      if (mainSlice !== null && mainSlice.size > 0) {
        const [xsPart, ysPart] = [xs, ys].map((t) => tf.slice(t, mainSlice.start, mainSlice.size));
        try {
          mainResult = sliceGradients(
            this.model,
            layout,
            xsPart as tf.Tensor,
            ysPart as tf.Tensor,
            this.loss,
            perturbation,
            rho,
            this.mainOutput,
          );
        } finally {
          tf.dispose([xsPart as tf.Tensor, ysPart as tf.Tensor]);
        }
      }
    } catch (error) {
      await fromWorkers.catch(() => undefined);
      this.restoreState();
      throw error;
    }
    let replies: Awaited<typeof fromWorkers>;
    try {
      replies = await fromWorkers;
    } catch (error) {
      tf.dispose(mainResult?.gradients ?? []);
      this.restoreState();
      throw error;
    }

    const parts: Array<{
      values: Float32Array;
      gradients?: tf.Tensor[];
      weight: number;
      loss: number;
      accuracy: number;
    }> = [];
    if (mainSlice !== null && mainResult !== null) {
      parts.push({ values: this.mainOutput, weight: mainSlice.weight, ...mainResult });
    }
    replies.forEach((reply, i) => {
      if (reply !== null) {
        const weight = (workerSlices[i] as BatchSlice).weight;
        parts.push({ values: this.outputs[i] as Float32Array, weight, ...reply });
      }
    });
    const gradients = this.meanGradients(parts);
    try {
      this.apply(gradients);
    } finally {
      tf.dispose(gradients);
    }
    this.combineState(parts);
    readVariables(layout.state, layout.stateSlots, this.combined);
    return [
      parts.reduce((sum, p) => sum + p.weight * p.loss, 0),
      parts.reduce((sum, p) => sum + p.weight * p.accuracy, 0),
    ];
  }

  /** Undoes the main thread's own slice pass on the non-trainable state (a failed step). */
  private restoreState(): void {
    readVariables(this.layout.state, this.layout.stateSlots, this.weights);
  }

  /** Copies each worker's rows into its input buffer (grown when a batch needs more room). */
  private stepMessages(
    xs: tf.Tensor,
    ys: tf.Tensor,
    workerSlices: readonly BatchSlice[],
    rho: number,
    replicated?: ReplicatedStep,
  ): Array<StepMessage | null> {
    // Views of the wasm heap, not copies: nothing is allocated before they are read.
    const xsValues = numericValuesOf(xs);
    const ysValues = numericValuesOf(ys);
    const xsRow = xs.size / (xs.shape[0] as number);
    const ysRow = ys.size / (ys.shape[0] as number);
    this.stepId += 1;
    return workerSlices.map((slice, i) => {
      if (slice.size === 0) return null;
      const xsCount = slice.size * xsRow;
      const ysCount = slice.size * ysRow;
      if ((this.inputs[i] as SharedArrayBuffer).byteLength < (xsCount + ysCount) * 4) {
        this.inputs[i] = new SharedArrayBuffer((xsCount + ysCount) * 4);
      }
      const input = this.inputs[i] as SharedArrayBuffer;
      const view = new Float32Array(input);
      view.set(xsValues.subarray(slice.start * xsRow, slice.start * xsRow + xsCount), 0);
      view.set(ysValues.subarray(slice.start * ysRow, slice.start * ysRow + ysCount), xsCount);
      return {
        type: 'step',
        id: this.stepId,
        input,
        xsShape: [slice.size, ...xs.shape.slice(1)],
        xsDtype: xs.dtype as 'float32' | 'int32',
        ysShape: [slice.size, ...ys.shape.slice(1)],
        rho,
        ...(replicated === undefined ? {} : { replicated }),
      };
    });
  }

  /**
   * Σ_j weight_j · g_j on the backend (fused a·x + b·y passes on wasm, the first for two
   * slices): the main thread's gradient stays where it was computed, each worker's is copied in
   * once.
   */
  private meanGradients(
    parts: ReadonlyArray<{ values: Float32Array; gradients?: tf.Tensor[]; weight: number }>,
  ): tf.Tensor[] {
    const { layout } = this;
    return layout.trainable.map((v, i) => {
      const { offset, size } = layout.trainableSlots[i] as { offset: number; size: number };
      const gradientOf = (part: (typeof parts)[number]) =>
        part.gradients?.[i] ?? tensorFrom(part.values, offset, size, v.shape);
      const [first, second, ...rest] = parts;
      if (first === undefined) throw new Error('meanGradients: no replica returned a gradient');
      const firstGradient = gradientOf(first);
      if (second === undefined) {
        const only = tf.mul(firstGradient, first.weight);
        firstGradient.dispose();
        return only;
      }
      // The first two slices in one a·x + b·y pass, then one more pass per further slice.
      const secondGradient = gradientOf(second);
      let sum = axpbyOf(first.weight, firstGradient, second.weight, secondGradient);
      tf.dispose([firstGradient, secondGradient]);
      for (const part of rest) {
        const gradient = gradientOf(part);
        const next = axpbyOf(1, sum, part.weight, gradient);
        tf.dispose([gradient, sum]);
        sum = next;
      }
      return sum;
    });
  }

  /** The state section of `combined`: Σ_j weight_j · state_j, the averaged non-trainable state. */
  private combineState(parts: ReadonlyArray<{ values: Float32Array; weight: number }>): void {
    const { trainableSize, totalSize } = this.layout;
    this.combined.fill(0, trainableSize, totalSize);
    for (const { values, weight } of parts) {
      addScaled(this.combined, values, weight, trainableSize, totalSize);
    }
  }

  private apply(gradients: readonly tf.Tensor[]): void {
    const { layout, plan } = this;
    if (plan.kind === 'sam') {
      plan.optimizer.applyPerturbedGradients(layout.trainable, [...gradients]);
    } else {
      plan.optimizer.applyGradients(
        layout.trainable.map((v, i) => ({ name: v.name, tensor: gradients[i] as tf.Tensor })),
      );
    }
  }
}

/** target[from, to) += scale · values[from, to) (top-level: V8 optimizes such loops best). */
function addScaled(
  target: Float32Array,
  values: Float32Array,
  scale: number,
  from: number,
  to: number,
): void {
  for (let k = from; k < to; k++) target[k] = (target[k] as number) + scale * (values[k] as number);
}
