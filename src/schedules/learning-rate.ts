/**
 * Learning-rate schedules as plain functions of the step (0-based), usable in custom loops with
 * `setLearningRate(optimizer, schedule(step))` and in `model.fit` through `learningRateScheduler`.
 * They work with every tfjs optimizer, with AdamW, and with SAM (which sets its base's rate).
 */
import { checkKnownOptions, checkNumber } from '../util/validate.js';

export type LearningRateSchedule = (step: number) => number;

export function constantSchedule(learningRate: number): LearningRateSchedule {
  checkNumber('constantSchedule', 'learningRate', learningRate, { min: 0 });
  return () => learningRate;
}

export interface StepScheduleOptions {
  initial: number;
  /** Multiply by `gamma` every `stepSize` steps. */
  stepSize: number;
  gamma?: number;
}

/** initial · gamma^⌊step / stepSize⌋ (PyTorch's StepLR). */
export function stepSchedule(options: StepScheduleOptions): LearningRateSchedule {
  const owner = 'stepSchedule';
  checkKnownOptions(owner, options, ['initial', 'stepSize', 'gamma']);
  const initial = checkNumber(owner, 'initial', options.initial, { min: 0 });
  const stepSize = checkNumber(owner, 'stepSize', options.stepSize, { min: 1, integer: true });
  const gamma = checkNumber(owner, 'gamma', options.gamma ?? 0.1, { min: 0 });
  return (step) => initial * gamma ** Math.floor(step / stepSize);
}

export interface CosineScheduleOptions {
  initial: number;
  /** Steps over which the rate decays from `initial` to `final`; after that it stays at `final`. */
  totalSteps: number;
  final?: number;
}

/** final + (initial − final)·(1 + cos(π·step/totalSteps))/2 (Loshchilov & Hutter 2017, no restarts). */
export function cosineSchedule(options: CosineScheduleOptions): LearningRateSchedule {
  const owner = 'cosineSchedule';
  checkKnownOptions(owner, options, ['initial', 'totalSteps', 'final']);
  const initial = checkNumber(owner, 'initial', options.initial, { min: 0 });
  const totalSteps = checkNumber(owner, 'totalSteps', options.totalSteps, {
    min: 1,
    integer: true,
  });
  const final = checkNumber(owner, 'final', options.final ?? 0, { min: 0 });
  return (step) => {
    const t = Math.min(Math.max(step, 0), totalSteps);
    return final + ((initial - final) * (1 + Math.cos((Math.PI * t) / totalSteps))) / 2;
  };
}

export interface WarmupOptions {
  /** Length of the warm-up; the wrapped schedule starts (at its own step 0) after it. */
  steps: number;
  /** Fraction of the wrapped schedule's first rate used at step 0 (default 0). */
  startFactor?: number;
}

/**
 * Linear warm-up in front of a schedule: for step < steps the rate rises linearly from
 * startFactor·s(0) towards s(0); then s(step − steps).
 */
export function linearWarmup(
  schedule: LearningRateSchedule,
  options: WarmupOptions,
): LearningRateSchedule {
  const owner = 'linearWarmup';
  checkKnownOptions(owner, options, ['steps', 'startFactor']);
  const steps = checkNumber(owner, 'steps', options.steps, { min: 0, integer: true });
  const startFactor = checkNumber(owner, 'startFactor', options.startFactor ?? 0, {
    min: 0,
    max: 1,
  });
  return (step) => {
    if (step >= steps) return schedule(step - steps);
    return schedule(0) * (startFactor + ((1 - startFactor) * step) / steps);
  };
}
