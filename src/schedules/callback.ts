/** Drives any optimizer's learning rate from a schedule during `model.fit` / `fitDataset`. */
import * as tfl from '@tensorflow/tfjs-layers';
import type * as tf from '@tensorflow/tfjs-core';
import { checkChoice } from '../util/validate.js';
import { setLearningRate } from '../optimizers/registry.js';
import type { LearningRateSchedule } from './learning-rate.js';

export interface SchedulerOptions {
  /** Advance the schedule every batch (default) or every epoch. */
  unit?: 'batch' | 'epoch';
  /** Step to start counting from (e.g. when resuming). Default 0. */
  initialStep?: number;
}

export class LearningRateScheduler extends tfl.Callback {
  /** The schedule step the next batch (or epoch) will use. */
  step: number;
  /** The rate set most recently. */
  currentLearningRate = NaN;
  readonly unit: 'batch' | 'epoch';

  constructor(
    private readonly schedule: LearningRateSchedule,
    options: SchedulerOptions = {},
  ) {
    super();
    this.unit = checkChoice('learningRateScheduler', 'unit', options.unit ?? 'batch', [
      'batch',
      'epoch',
    ]);
    this.step = options.initialStep ?? 0;
  }

  private apply(): void {
    const optimizer = (this.model as unknown as { optimizer?: tf.Optimizer }).optimizer;
    if (optimizer == null) {
      throw new Error(
        'learningRateScheduler: the model has no optimizer; call model.compile() before fit().',
      );
    }
    this.currentLearningRate = this.schedule(this.step);
    setLearningRate(optimizer, this.currentLearningRate);
    this.step += 1;
  }

  override async onBatchBegin(): Promise<void> {
    if (this.unit === 'batch') this.apply();
  }

  override async onEpochBegin(): Promise<void> {
    if (this.unit === 'epoch') this.apply();
  }

  override async onEpochEnd(_epoch: number, logs?: tfl.Logs): Promise<void> {
    if (logs !== undefined) logs['lr'] = this.currentLearningRate;
  }
}

/** `model.fit(x, y, {callbacks: [learningRateScheduler(cosineSchedule({...}))]})` */
export function learningRateScheduler(
  schedule: LearningRateSchedule,
  options: SchedulerOptions = {},
): LearningRateScheduler {
  return new LearningRateScheduler(schedule, options);
}
