import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from './backend.js';
import { PlotFrame, renderContours } from './contour.js';
import { drawLineChart } from './chart.js';
import { byId, formatNumber } from './dom.js';
import { findOptimizer, optimizerCatalog } from './optimizers.js';
import type { Point, Surface } from './surfaces.js';
import { findSurface, surfaces } from './surfaces.js';
import { Trajectory, type TrajectorySummary } from './trajectory.js';

const DEFAULT_OPTIMIZERS = ['sgd', 'sam'];
const STEPS_PER_FRAME = 4;

interface ValleysState {
  ready: boolean;
  backend: string;
  surface: string;
  learningRate: number;
  rho: number;
  steps: number;
  starts: Point[];
  optimizers: string[];
  running: boolean;
  finished: boolean;
  trajectories: TrajectorySummary[];
}

const state: ValleysState = {
  ready: false,
  backend: '',
  surface: 'two-valleys',
  learningRate: 0,
  rho: 0,
  steps: 300,
  starts: [],
  optimizers: [...DEFAULT_OPTIMIZERS],
  running: false,
  finished: false,
  trajectories: [],
};
window.__demoState = state;

const surfaceCanvas = byId('surface-canvas', HTMLCanvasElement);
const sharpnessCanvas = byId('sharpness-canvas', HTMLCanvasElement);
const lossCanvas = byId('loss-canvas', HTMLCanvasElement);
const surfaceDescription = byId('surface-description', HTMLSpanElement);
const surfaceSelect = byId('surface-select', HTMLSelectElement);
const optimizerChoices = byId('optimizer-choices', HTMLFieldSetElement);
const learningRateInput = byId('learning-rate', HTMLInputElement);
const rhoInput = byId('rho', HTMLInputElement);
const rhoOutput = byId('rho-value', HTMLOutputElement);
const stepsInput = byId('steps', HTMLInputElement);
const startXInput = byId('start-x', HTMLInputElement);
const startYInput = byId('start-y', HTMLInputElement);
const statusLine = byId('status', HTMLElement);
const readoutBody = byId('readout', HTMLTableElement).tBodies[0] as HTMLTableSectionElement;
const controls = byId('controls', HTMLFormElement);

let trajectories: Trajectory[] = [];
let backgroundCanvas: HTMLCanvasElement | null = null;
let backgroundFor = '';
let animationHandle = 0;

function currentSurface(): Surface {
  return findSurface(state.surface);
}

function frame(): PlotFrame {
  return new PlotFrame(currentSurface(), surfaceCanvas.width, surfaceCanvas.height);
}

function buildControls(): void {
  for (const surface of surfaces) {
    surfaceSelect.add(new Option(surface.label, surface.id));
  }
  for (const entry of optimizerCatalog) {
    const label = document.createElement('label');
    label.className = 'check';
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.name = 'optimizer';
    box.value = entry.id;
    box.id = `optimizer-${entry.id}`;
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = entry.colour;
    swatch.setAttribute('aria-hidden', 'true');
    label.append(box, swatch, entry.label);
    optimizerChoices.append(label);
  }
}

function applySurfaceDefaults(surface: Surface): void {
  state.surface = surface.id;
  state.learningRate = surface.defaultLearningRate;
  state.rho = surface.defaultRho;
  state.starts = surface.defaultStarts.map((point) => ({ ...point }));
}

function syncInputsFromState(): void {
  surfaceSelect.value = state.surface;
  surfaceDescription.textContent = currentSurface().description;
  learningRateInput.value = String(state.learningRate);
  rhoInput.value = String(state.rho);
  rhoOutput.value = state.rho.toFixed(2);
  stepsInput.value = String(state.steps);
  for (const box of optimizerChoices.querySelectorAll<HTMLInputElement>('input')) {
    box.checked = state.optimizers.includes(box.value);
  }
  const centre = state.starts[0] ?? { x: 0, y: 0 };
  startXInput.value = centre.x.toFixed(2);
  startYInput.value = centre.y.toFixed(2);
}

function readInputsIntoState(): void {
  const learningRate = Number(learningRateInput.value);
  if (Number.isFinite(learningRate) && learningRate > 0) state.learningRate = learningRate;
  state.rho = Number(rhoInput.value);
  const steps = Math.round(Number(stepsInput.value));
  if (Number.isFinite(steps) && steps > 0) state.steps = Math.min(steps, 3000);
  state.optimizers = Array.from(
    optimizerChoices.querySelectorAll<HTMLInputElement>('input:checked'),
    (box) => box.value,
  );
}

function disposeTrajectories(): void {
  for (const trajectory of trajectories) trajectory.dispose();
  trajectories = [];
}

function startRun(): void {
  cancelAnimationFrame(animationHandle);
  readInputsIntoState();
  disposeTrajectories();
  const surface = currentSurface();
  const settings = { learningRate: state.learningRate, rho: state.rho };
  for (const start of state.starts) {
    for (const id of state.optimizers) {
      trajectories.push(new Trajectory(surface, findOptimizer(id), settings, start));
    }
  }
  state.running = true;
  state.finished = false;
  statusLine.textContent = `Running ${trajectories.length} path(s) for ${state.steps} steps…`;
  animationHandle = requestAnimationFrame(animate);
}

function animate(): void {
  let active = false;
  for (const trajectory of trajectories) {
    const remaining = state.steps - trajectory.steps;
    if (remaining > 0 && !trajectory.hasDiverged) {
      trajectory.advance(Math.min(STEPS_PER_FRAME, remaining));
      active = true;
    }
  }
  state.trajectories = trajectories.map((trajectory) => trajectory.summary());
  draw();
  if (active) {
    animationHandle = requestAnimationFrame(animate);
  } else {
    state.running = false;
    state.finished = true;
    statusLine.textContent = describeOutcome(state.trajectories);
  }
}

function describeOutcome(summaries: readonly TrajectorySummary[]): string {
  if (summaries.length === 0) return 'Pick at least one optimizer and one start point.';
  return (
    'Done. ' +
    summaries
      .map(
        (s) =>
          `${s.label}: ${s.diverged ? 'diverged' : s.minimum ? `${s.minimum} minimum` : 'no minimum yet'}`,
      )
      .join('; ') +
    '.'
  );
}

function draw(): void {
  const context = surfaceCanvas.getContext('2d');
  if (!context) return;
  const plot = frame();
  const key = `${state.surface}:${surfaceCanvas.width}x${surfaceCanvas.height}`;
  if (!backgroundCanvas || backgroundFor !== key) {
    const image = renderContours(currentSurface(), plot);
    const scratch = document.createElement('canvas');
    scratch.width = image.width;
    scratch.height = image.height;
    scratch.getContext('2d')?.putImageData(image, 0, 0);
    backgroundFor = key;
    backgroundCanvas = scratch;
  }
  context.imageSmoothingEnabled = true;
  if (backgroundCanvas) {
    context.drawImage(backgroundCanvas, 0, 0, surfaceCanvas.width, surfaceCanvas.height);
  }
  for (const trajectory of trajectories) drawPath(context, plot, trajectory);
  drawMinima(context, plot);
  for (const start of state.starts) drawStart(context, plot, start);
  drawLegend(context);
  renderReadout();
  drawLineChart(
    lossCanvas,
    trajectories.map((trajectory) => ({
      label: trajectory.optimizerEntry.label,
      colour: trajectory.optimizerEntry.colour,
      values: trajectory.points.map((point) => point.loss),
    })),
    { title: 'Loss by step', logScale: currentSurface().logContours, xLabel: 'step' },
  );
  drawLineChart(
    sharpnessCanvas,
    trajectories.map((trajectory) => ({
      label: trajectory.optimizerEntry.label,
      colour: trajectory.optimizerEntry.colour,
      values: trajectory.points.map((point) => point.sharpness),
    })),
    { title: `Sharpness (ρ = ${state.rho.toFixed(2)}) by step`, xLabel: 'step' },
  );
}

function drawMinima(context: CanvasRenderingContext2D, plot: PlotFrame): void {
  context.save();
  context.font = 'bold 15px system-ui, sans-serif';
  for (const minimum of currentSurface().minima) {
    const pixel = plot.toPixel(minimum);
    context.strokeStyle = 'white';
    context.lineWidth = 2;
    context.beginPath();
    context.moveTo(pixel.x - 6, pixel.y - 6);
    context.lineTo(pixel.x + 6, pixel.y + 6);
    context.moveTo(pixel.x + 6, pixel.y - 6);
    context.lineTo(pixel.x - 6, pixel.y + 6);
    context.stroke();
    context.lineWidth = 3;
    context.strokeStyle = 'rgba(0,0,0,0.75)';
    context.strokeText(minimum.name, pixel.x + 8, pixel.y - 10);
    context.fillStyle = 'white';
    context.fillText(minimum.name, pixel.x + 8, pixel.y - 10);
  }
  context.restore();
}

function drawPath(
  context: CanvasRenderingContext2D,
  plot: PlotFrame,
  trajectory: Trajectory,
): void {
  context.save();
  context.strokeStyle = trajectory.optimizerEntry.colour;
  context.lineWidth = 2.5;
  context.lineJoin = 'round';
  context.beginPath();
  trajectory.points.forEach((point, index) => {
    const pixel = plot.toPixel(point);
    if (index === 0) context.moveTo(pixel.x, pixel.y);
    else context.lineTo(pixel.x, pixel.y);
  });
  context.stroke();
  const end = plot.toPixel(trajectory.last);
  context.fillStyle = trajectory.optimizerEntry.colour;
  context.strokeStyle = 'white';
  context.lineWidth = 2;
  context.beginPath();
  context.arc(end.x, end.y, 6, 0, 2 * Math.PI);
  context.fill();
  context.stroke();
  context.restore();
}

function drawStart(context: CanvasRenderingContext2D, plot: PlotFrame, start: Point): void {
  const pixel = plot.toPixel(start);
  context.save();
  context.fillStyle = 'white';
  context.strokeStyle = 'black';
  context.lineWidth = 1.5;
  context.beginPath();
  context.rect(pixel.x - 5, pixel.y - 5, 10, 10);
  context.fill();
  context.stroke();
  context.restore();
}

function drawLegend(context: CanvasRenderingContext2D): void {
  const entries = state.optimizers.map(findOptimizer);
  if (entries.length === 0) return;
  context.save();
  context.font = '14px system-ui, sans-serif';
  const width =
    20 + Math.max(...entries.map((entry) => context.measureText(entry.label).width)) + 24;
  const height = 10 + entries.length * 20;
  context.fillStyle = 'rgba(255,255,255,0.88)';
  context.fillRect(surfaceCanvas.width - width - 10, 10, width, height);
  entries.forEach((entry, index) => {
    const y = 26 + index * 20;
    context.fillStyle = entry.colour;
    context.fillRect(surfaceCanvas.width - width, y - 9, 14, 10);
    context.fillStyle = '#111';
    context.fillText(entry.label, surfaceCanvas.width - width + 20, y);
  });
  context.restore();
}

function renderReadout(): void {
  const rows = state.trajectories.map((summary) => {
    const row = document.createElement('tr');
    const cells = [
      summary.label,
      `(${formatNumber(summary.start.x, 2)}, ${formatNumber(summary.start.y, 2)})`,
      String(summary.steps),
      formatNumber(summary.loss, 4),
      formatNumber(summary.sharpness, 4),
      formatNumber(summary.topEigenvalue, 2),
      summary.diverged ? 'diverged' : (summary.minimum ?? '—'),
    ];
    for (const text of cells) {
      const cell = document.createElement('td');
      cell.textContent = text;
      row.append(cell);
    }
    return row;
  });
  readoutBody.replaceChildren(...rows);
}

function addStart(point: Point): void {
  state.starts.push(point);
  startRun();
}

function wireEvents(): void {
  controls.addEventListener('submit', (event) => {
    event.preventDefault();
    startRun();
  });
  surfaceSelect.addEventListener('change', () => {
    applySurfaceDefaults(findSurface(surfaceSelect.value));
    backgroundCanvas = null;
    syncInputsFromState();
    startRun();
  });
  rhoInput.addEventListener('input', () => {
    rhoOutput.value = Number(rhoInput.value).toFixed(2);
  });
  surfaceCanvas.addEventListener('click', (event) => {
    const bounds = surfaceCanvas.getBoundingClientRect();
    const pixel = {
      x: ((event.clientX - bounds.left) / bounds.width) * surfaceCanvas.width,
      y: ((event.clientY - bounds.top) / bounds.height) * surfaceCanvas.height,
    };
    addStart(frame().toSurface(pixel));
  });
  byId('add-start', HTMLButtonElement).addEventListener('click', () => {
    const x = Number(startXInput.value);
    const y = Number(startYInput.value);
    if (Number.isFinite(x) && Number.isFinite(y)) addStart({ x, y });
  });
  byId('clear-starts', HTMLButtonElement).addEventListener('click', () => {
    state.starts = [];
    startRun();
  });
  byId('reset', HTMLButtonElement).addEventListener('click', () => {
    state.optimizers = [...DEFAULT_OPTIMIZERS];
    state.steps = 300;
    applySurfaceDefaults(findSurface('two-valleys'));
    backgroundCanvas = null;
    syncInputsFromState();
    startRun();
  });
}

async function main(): Promise<void> {
  // Tiny 2-element tensors read back every step: the cpu backend is the fastest here.
  state.backend = await selectBackend(['cpu']);
  tf.enableProdMode();
  buildControls();
  applySurfaceDefaults(findSurface('two-valleys'));
  syncInputsFromState();
  wireEvents();
  state.ready = true;
  startRun();
}

main().catch((error: unknown) => {
  statusLine.textContent = `Could not start: ${String(error)}`;
  console.error(error);
});
