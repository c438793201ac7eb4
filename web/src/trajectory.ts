import * as tf from '@tensorflow/tfjs-core';
import { disposeOptimizer } from '../../src/index.js';
import { optimizerStep, type OptimizerEntry, type OptimizerSettings } from './optimizers.js';
import type { Point, Surface } from './surfaces.js';
import { lossAt, minimumNear, topHessianEigenvalue, worstCaseIncrease } from './surfaces.js';

export interface PathSample extends Point {
  step: number;
  loss: number;
  /** Worst-case loss increase within the ρ-ball around the point. */
  sharpness: number;
}

/** One optimizer walking down one surface from one start point, a step at a time. */
export class Trajectory {
  readonly points: PathSample[] = [];
  private readonly position: tf.Variable;
  private readonly optimizer: tf.Optimizer;
  private diverged = false;

  constructor(
    readonly surface: Surface,
    readonly optimizerEntry: OptimizerEntry,
    readonly settings: OptimizerSettings,
    readonly start: Point,
  ) {
    this.position = tf.tidy(() =>
      tf.variable(tf.tensor1d([start.x, start.y]), true, `position_${nextId()}`),
    );
    this.optimizer = optimizerEntry.create(settings);
    this.points.push(this.sample(0, start));
  }

  get last(): PathSample {
    return this.points[this.points.length - 1] as PathSample;
  }

  get steps(): number {
    return this.points.length - 1;
  }

  get hasDiverged(): boolean {
    return this.diverged;
  }

  advance(count: number): void {
    for (let i = 0; i < count && !this.diverged; i++) {
      try {
        const loss = () => {
          const [x, y] = tf.split(this.position, 2) as [tf.Tensor, tf.Tensor];
          return tf.sum(this.surface.loss(x, y)) as tf.Scalar;
        };
        optimizerStep(this.optimizer, loss, loss, [this.position])?.dispose();
      } catch {
        // The library refuses a non-finite loss or gradient (nonFinite: 'throw'): the path blew up.
        this.diverged = true;
        break;
      }
      const [x = NaN, y = NaN] = this.position.dataSync();
      const { domain } = this.surface;
      const span = Math.max(domain.xMax - domain.xMin, domain.yMax - domain.yMin);
      if (!Number.isFinite(x) || !Number.isFinite(y) || Math.hypot(x, y) > 20 * span) {
        this.diverged = true;
        break;
      }
      this.points.push(this.sample(this.points.length, { x, y }));
    }
  }

  private sample(step: number, point: Point): PathSample {
    return {
      step,
      x: point.x,
      y: point.y,
      loss: lossAt(this.surface, point),
      sharpness: worstCaseIncrease(this.surface, point, this.settings.rho),
    };
  }

  /** Where the path is now: loss, sharpness (ρ-ball and Hessian), and the minimum it sits in. */
  summary(): TrajectorySummary {
    const end = this.last;
    return {
      optimizer: this.optimizerEntry.id,
      label: this.optimizerEntry.label,
      start: this.start,
      steps: this.steps,
      end: { x: end.x, y: end.y },
      loss: end.loss,
      sharpness: end.sharpness,
      topEigenvalue: topHessianEigenvalue(this.surface, end),
      minimum: this.diverged ? null : minimumNear(this.surface, end),
      diverged: this.diverged,
    };
  }

  dispose(): void {
    this.position.dispose();
    disposeOptimizer(this.optimizer);
  }
}

export interface TrajectorySummary {
  optimizer: string;
  label: string;
  start: Point;
  steps: number;
  end: Point;
  loss: number;
  sharpness: number;
  topEigenvalue: number;
  minimum: string | null;
  diverged: boolean;
}

let idCounter = 0;
function nextId(): number {
  idCounter += 1;
  return idCounter;
}
