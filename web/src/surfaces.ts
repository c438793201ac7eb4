import * as tf from '@tensorflow/tfjs-core';

export interface Point {
  x: number;
  y: number;
}

export interface NamedMinimum extends Point {
  name: string;
}

export interface Surface {
  id: string;
  label: string;
  description: string;
  /** Element-wise loss: works on scalars and on whole grids of coordinates alike. */
  loss: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor;
  domain: { xMin: number; xMax: number; yMin: number; yMax: number };
  minima: NamedMinimum[];
  /** A path ending within this distance of a minimum is said to end in it. */
  captureRadius: number;
  defaultStarts: Point[];
  defaultLearningRate: number;
  defaultRho: number;
  /** Contours are drawn on log(loss − floor + 1) when the range is large. */
  logContours: boolean;
}

const SHARP_CURVATURE = 60;
const FLAT_CURVATURE = 1;

/**
 * Two valleys joined by a low saddle at x = 0: f(x) = 0.25(x² − 1)² + 0.08x along the floor
 * (the left minimum is slightly lower), and across it a curvature a(x) that is about 59 on the
 * left and about 2 on the right: L = 0.2 + f(x) + a(x)·y²/2. SAM bounces across the narrow valley
 * and the bounce drifts it down a(x) towards the wide one (Bartlett et al. 2023; Wen et al. 2023).
 */
const twoValleys: Surface = {
  id: 'two-valleys',
  label: 'Two valleys (sharp vs flat)',
  description:
    'A sharp valley (left, slightly lower loss) and a flat one (right), joined by a low saddle. Plain gradient descent settles in the sharp valley; SAM bounces across it and drifts into the flat one.',
  loss: (x, y) =>
    tf.tidy(() => {
      const floor = tf.add(tf.mul(0.25, tf.square(tf.sub(tf.square(x), 1))), tf.mul(0.08, x));
      const curvature = tf.add(
        FLAT_CURVATURE,
        tf.mul(SHARP_CURVATURE - FLAT_CURVATURE, tf.sigmoid(tf.mul(-4, x))),
      );
      return tf.add(0.2, tf.add(floor, tf.mul(0.5, tf.mul(curvature, tf.square(y)))));
    }),
  domain: { xMin: -2.2, xMax: 2.2, yMin: -1.5, yMax: 1.5 },
  minima: [
    { name: 'sharp', x: -1.04, y: 0 },
    { name: 'flat', x: 0.96, y: 0 },
  ],
  captureRadius: 0.25,
  defaultStarts: [{ x: -1.8, y: 0.6 }],
  defaultLearningRate: 0.02,
  defaultRho: 0.25,
  logContours: true,
};

const rosenbrock: Surface = {
  id: 'rosenbrock',
  label: 'Rosenbrock',
  description:
    'A curved, narrow valley with its minimum at (1, 1): slow for plain gradient descent, the classic test of momentum and adaptive steps.',
  loss: (x, y) =>
    tf.tidy(() => tf.add(tf.square(tf.sub(1, x)), tf.mul(100, tf.square(tf.sub(y, tf.square(x)))))),
  domain: { xMin: -2, xMax: 2, yMin: -1, yMax: 3 },
  minima: [{ name: 'global', x: 1, y: 1 }],
  captureRadius: 0.1,
  defaultStarts: [{ x: -1.5, y: 2 }],
  defaultLearningRate: 0.0005,
  defaultRho: 0.05,
  logContours: true,
};

const himmelblau: Surface = {
  id: 'himmelblau',
  label: 'Himmelblau',
  description:
    'Four minima of equal loss (zero) but different curvature: which one a start point reaches depends on the optimizer and its settings.',
  loss: (x, y) =>
    tf.tidy(() =>
      tf.add(
        tf.square(tf.sub(tf.add(tf.square(x), y), 11)),
        tf.square(tf.sub(tf.add(x, tf.square(y)), 7)),
      ),
    ),
  domain: { xMin: -5, xMax: 5, yMin: -5, yMax: 5 },
  minima: [
    { name: 'A', x: 3, y: 2 },
    { name: 'B', x: -2.805118, y: 3.131312 },
    { name: 'C', x: -3.77931, y: -3.283186 },
    { name: 'D', x: 3.584428, y: -1.848126 },
  ],
  captureRadius: 0.2,
  defaultStarts: [{ x: -0.5, y: -0.5 }],
  defaultLearningRate: 0.005,
  defaultRho: 0.1,
  logContours: true,
};

export const surfaces: readonly Surface[] = [twoValleys, rosenbrock, himmelblau];

export function findSurface(id: string): Surface {
  const surface = surfaces.find((candidate) => candidate.id === id);
  if (!surface) throw new Error(`Unknown surface "${id}"`);
  return surface;
}

/** Loss at many points at once (one tensor op chain), returned as plain numbers. */
export function evaluateAt(surface: Surface, xs: Float32Array, ys: Float32Array): Float32Array {
  return tf.tidy(() => {
    const values = surface.loss(tf.tensor1d(xs), tf.tensor1d(ys));
    return values.dataSync() as Float32Array;
  });
}

export function lossAt(surface: Surface, point: Point): number {
  return evaluateAt(surface, Float32Array.of(point.x), Float32Array.of(point.y))[0] ?? NaN;
}

const RING_DIRECTIONS = 72;

/**
 * SAM's sharpness (Foret et al. 2021, eq. 1): max over ‖ε‖ ≤ ρ of L(w + ε) − L(w), here sampled
 * on rings of radius ρ/2 and ρ around w.
 */
export function worstCaseIncrease(surface: Surface, point: Point, rho: number): number {
  const count = RING_DIRECTIONS * 2 + 1;
  const xs = new Float32Array(count);
  const ys = new Float32Array(count);
  xs[0] = point.x;
  ys[0] = point.y;
  for (let ring = 0; ring < 2; ring++) {
    const radius = (rho * (ring + 1)) / 2;
    for (let i = 0; i < RING_DIRECTIONS; i++) {
      const angle = (2 * Math.PI * i) / RING_DIRECTIONS;
      xs[1 + ring * RING_DIRECTIONS + i] = point.x + radius * Math.cos(angle);
      ys[1 + ring * RING_DIRECTIONS + i] = point.y + radius * Math.sin(angle);
    }
  }
  const values = evaluateAt(surface, xs, ys);
  const centre = values[0] ?? NaN;
  let worst = centre;
  for (const value of values) worst = Math.max(worst, value);
  return worst - centre;
}

/** Largest eigenvalue of the 2×2 Hessian, by central finite differences. */
export function topHessianEigenvalue(surface: Surface, point: Point, step = 1e-2): number {
  const offsets: Array<[number, number]> = [
    [0, 0],
    [step, 0],
    [-step, 0],
    [0, step],
    [0, -step],
    [step, step],
    [step, -step],
    [-step, step],
    [-step, -step],
  ];
  const xs = Float32Array.from(offsets, ([dx]) => point.x + dx);
  const ys = Float32Array.from(offsets, ([, dy]) => point.y + dy);
  const values = Array.from(evaluateAt(surface, xs, ys));
  const [f0, fxp, fxm, fyp, fym, fpp, fpm, fmp, fmm] = values as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const hxx = (fxp - 2 * f0 + fxm) / (step * step);
  const hyy = (fyp - 2 * f0 + fym) / (step * step);
  const hxy = (fpp - fpm - fmp + fmm) / (4 * step * step);
  const mean = (hxx + hyy) / 2;
  return mean + Math.sqrt(((hxx - hyy) / 2) ** 2 + hxy * hxy);
}

/** Which named minimum a point lies in, or null when it is near none. */
export function minimumNear(surface: Surface, point: Point): string | null {
  for (const minimum of surface.minima) {
    if (Math.hypot(point.x - minimum.x, point.y - minimum.y) <= surface.captureRadius) {
      return minimum.name;
    }
  }
  return null;
}
