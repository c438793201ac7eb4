import type { Point, Surface } from './surfaces.js';
import { evaluateAt } from './surfaces.js';

const LEVELS = 18;

/** Maps between surface coordinates and canvas pixels. */
export class PlotFrame {
  constructor(
    readonly surface: Surface,
    readonly width: number,
    readonly height: number,
  ) {}

  toPixel(point: Point): Point {
    const { xMin, xMax, yMin, yMax } = this.surface.domain;
    return {
      x: ((point.x - xMin) / (xMax - xMin)) * this.width,
      y: (1 - (point.y - yMin) / (yMax - yMin)) * this.height,
    };
  }

  toSurface(pixel: Point): Point {
    const { xMin, xMax, yMin, yMax } = this.surface.domain;
    return {
      x: xMin + (pixel.x / this.width) * (xMax - xMin),
      y: yMax - (pixel.y / this.height) * (yMax - yMin),
    };
  }
}

/** Viridis-like ramp, dark (low loss) to light (high loss). */
function rampColour(t: number): [number, number, number] {
  const stops: Array<[number, number, number]> = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const scaled = Math.min(Math.max(t, 0), 1) * (stops.length - 1);
  const index = Math.min(Math.floor(scaled), stops.length - 2);
  const fraction = scaled - index;
  const from = stops[index] as [number, number, number];
  const to = stops[index + 1] as [number, number, number];
  return [0, 1, 2].map((c) => Math.round(from[c]! + (to[c]! - from[c]!) * fraction)) as [
    number,
    number,
    number,
  ];
}

/**
 * Renders the loss as filled contour bands with dark lines between bands, evaluating the
 * surface once per pixel of a `resolution`-wide grid.
 */
export function renderContours(surface: Surface, frame: PlotFrame, resolution = 240): ImageData {
  const columns = resolution;
  const rows = Math.round((resolution * frame.height) / frame.width);
  const xs = new Float32Array(columns * rows);
  const ys = new Float32Array(columns * rows);
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      const point = frame.toSurface({
        x: ((column + 0.5) / columns) * frame.width,
        y: ((row + 0.5) / rows) * frame.height,
      });
      xs[row * columns + column] = point.x;
      ys[row * columns + column] = point.y;
    }
  }
  const losses = evaluateAt(surface, xs, ys);
  let lowest = Infinity;
  let highest = -Infinity;
  for (const value of losses) {
    if (!Number.isFinite(value)) continue;
    lowest = Math.min(lowest, value);
    highest = Math.max(highest, value);
  }
  const scale = (value: number) =>
    surface.logContours
      ? Math.log1p(value - lowest) / Math.log1p(highest - lowest)
      : (value - lowest) / (highest - lowest);
  const band = new Int32Array(losses.length);
  for (let i = 0; i < losses.length; i++) {
    band[i] = Math.min(LEVELS - 1, Math.floor(scale(losses[i] ?? highest) * LEVELS));
  }
  const image = new ImageData(columns, rows);
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      const i = row * columns + column;
      const level = band[i] ?? 0;
      const edge =
        (column + 1 < columns && band[i + 1] !== level) ||
        (row + 1 < rows && band[i + columns] !== level);
      const [r, g, b] = rampColour((level + 0.5) / LEVELS);
      const shade = edge ? 0.55 : 1;
      image.data[i * 4] = r * shade;
      image.data[i * 4 + 1] = g * shade;
      image.data[i * 4 + 2] = b * shade;
      image.data[i * 4 + 3] = 255;
    }
  }
  return image;
}
