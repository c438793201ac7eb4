/**
 * Landscape plots: Vega-Lite specs rendered to SVG/PNG, a self-contained HTML page, JSON data;
 * `landscapeReport` computes a model's landscapes (src/diagnostics) and writes them all.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { TopLevelSpec } from 'vega-lite';
import {
  modelLandscapes,
  type Landscape1D,
  type Landscape2D,
  type ModelLandscapes,
  type ModelLandscapesOptions,
} from 'tfjs-sam/diagnostics';
import { checkKnownOptions } from 'tfjs-sam/toolkit';
import { renderChart, type RenderedChart } from './render.js';

export function lineSpec(landscape: Landscape1D, title: string): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 480,
    height: 300,
    data: { values: landscape.points.map((p) => ({ alpha: p.alpha, loss: p.loss })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: 'alpha',
        type: 'quantitative',
        title: landscape.kind === 'interpolation' ? 'α (0 = A, 1 = B)' : 'α',
      },
      y: { field: 'loss', type: 'quantitative', title: 'loss', scale: { zero: false } },
    },
  };
}

export function heatmapSpec(landscape: Landscape2D, title: string): TopLevelSpec {
  const step = (values: number[]) =>
    values.length > 1 ? (values[1] as number) - (values[0] as number) : 1;
  const da = step(landscape.alphas) / 2;
  const db = step(landscape.betas) / 2;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 400,
    height: 400,
    data: {
      values: landscape.points.map((p) => ({
        a0: p.alpha - da,
        a1: p.alpha + da,
        b0: p.beta - db,
        b1: p.beta + db,
        loss: p.loss,
      })),
    },
    mark: 'rect',
    encoding: {
      x: { field: 'a0', type: 'quantitative', title: 'α (direction 1)' },
      x2: { field: 'a1' },
      y: { field: 'b0', type: 'quantitative', title: 'β (direction 2)' },
      y2: { field: 'b1' },
      color: { field: 'loss', type: 'quantitative', scale: { scheme: 'viridis' } },
    },
  };
}

/** Contour lines by marching squares over the grid, drawn as line segments at `levels` levels. */
export function contourSegments(
  landscape: Landscape2D,
  levels = 12,
): { level: number; id: string; x: number; y: number; order: number }[] {
  const nA = landscape.alphas.length;
  const nB = landscape.betas.length;
  const value = (i: number, j: number) => (landscape.points[j * nA + i] as { loss: number }).loss;
  const finite = landscape.points.map((p) => p.loss).filter(Number.isFinite);
  const low = Math.min(...finite);
  const high = Math.max(...finite);
  const rows: { level: number; id: string; x: number; y: number; order: number }[] = [];
  let segment = 0;
  for (let l = 1; l <= levels; l++) {
    const level = low + ((high - low) * l) / (levels + 1);
    for (let j = 0; j + 1 < nB; j++) {
      for (let i = 0; i + 1 < nA; i++) {
        const corners: [number, number, number][] = [
          [landscape.alphas[i] as number, landscape.betas[j] as number, value(i, j)],
          [landscape.alphas[i + 1] as number, landscape.betas[j] as number, value(i + 1, j)],
          [
            landscape.alphas[i + 1] as number,
            landscape.betas[j + 1] as number,
            value(i + 1, j + 1),
          ],
          [landscape.alphas[i] as number, landscape.betas[j + 1] as number, value(i, j + 1)],
        ];
        const crossings: [number, number][] = [];
        for (let e = 0; e < 4; e++) {
          const [x0, y0, v0] = corners[e] as [number, number, number];
          const [x1, y1, v1] = corners[(e + 1) % 4] as [number, number, number];
          if (v0 < level !== v1 < level && Number.isFinite(v0) && Number.isFinite(v1)) {
            const t = (level - v0) / (v1 - v0);
            crossings.push([x0 + t * (x1 - x0), y0 + t * (y1 - y0)]);
          }
        }
        for (let c = 0; c + 1 < crossings.length; c += 2) {
          const id = `s${segment++}`;
          rows.push({
            level,
            id,
            x: (crossings[c] as [number, number])[0],
            y: (crossings[c] as [number, number])[1],
            order: 0,
          });
          rows.push({
            level,
            id,
            x: (crossings[c + 1] as [number, number])[0],
            y: (crossings[c + 1] as [number, number])[1],
            order: 1,
          });
        }
      }
    }
  }
  return rows;
}

export function contourSpec(landscape: Landscape2D, title: string): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 400,
    height: 400,
    data: { values: contourSegments(landscape) },
    mark: { type: 'line', strokeWidth: 1.2 },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        title: 'α (direction 1)',
        scale: { domain: [landscape.alphas[0] as number, landscape.alphas.at(-1) as number] },
      },
      y: {
        field: 'y',
        type: 'quantitative',
        title: 'β (direction 2)',
        scale: { domain: [landscape.betas[0] as number, landscape.betas.at(-1) as number] },
      },
      detail: { field: 'id' },
      order: { field: 'order' },
      color: { field: 'level', type: 'quantitative', title: 'loss', scale: { scheme: 'viridis' } },
    },
  };
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function landscapeHtml(title: string, charts: readonly RenderedChart[]): string {
  const sections = charts
    .map((c) => `<section><h2>${escapeHtml(c.title)}</h2>\n${c.svg}\n</section>`)
    .join('\n');
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>\n<style>body{font-family:sans-serif;margin:2em}section{margin-bottom:2em}</style></head>\n<body><h1>${escapeHtml(title)}</h1>\n${sections}\n</body></html>\n`;
}

export interface LandscapeFiles {
  json: string;
  html: string;
  charts: string[];
}

/** Writes `landscape.json`, one SVG + PNG per chart and `landscape.html` into `outDir`. */
export async function writeLandscapeFiles(
  outDir: string,
  data: { interpolation?: Landscape1D; slice1d?: Landscape1D; slice2d?: Landscape2D },
  title = 'Loss landscape',
): Promise<LandscapeFiles> {
  mkdirSync(outDir, { recursive: true });
  const charts: RenderedChart[] = [];
  if (data.interpolation) {
    charts.push(
      await renderChart(
        'interpolation',
        'Linear interpolation A → B',
        lineSpec(data.interpolation, 'Linear interpolation A → B'),
        outDir,
      ),
    );
  }
  if (data.slice1d) {
    charts.push(
      await renderChart(
        'slice-1d',
        '1D filter-normalized slice',
        lineSpec(data.slice1d, '1D filter-normalized slice'),
        outDir,
      ),
    );
  }
  if (data.slice2d) {
    charts.push(
      await renderChart(
        'slice-2d-contour',
        '2D slice: contours',
        contourSpec(data.slice2d, '2D slice: contours'),
        outDir,
      ),
    );
    charts.push(
      await renderChart(
        'slice-2d-heatmap',
        '2D slice: heatmap',
        heatmapSpec(data.slice2d, '2D slice: heatmap'),
        outDir,
      ),
    );
  }
  const json = join(outDir, 'landscape.json');
  writeFileSync(json, `${JSON.stringify(data, null, 2)}\n`);
  const html = join(outDir, 'landscape.html');
  writeFileSync(html, landscapeHtml(title, charts));
  return { json, html, charts: charts.map((c) => join(outDir, `${c.name}.svg`)) };
}

export interface LandscapeReportOptions extends ModelLandscapesOptions {
  title?: string;
}

export interface LandscapeReport extends ModelLandscapes {
  files: LandscapeFiles;
}

/**
 * Writes landscape plots for `models[0]` (1D and 2D filter-normalized slices) and, with two
 * models of the same architecture, the linear interpolation from models[0] to models[1].
 */
export async function landscapeReport(
  models: tfl.LayersModel | readonly tfl.LayersModel[],
  x: tf.Tensor,
  y: tf.Tensor,
  options: LandscapeReportOptions,
  outDir: string,
): Promise<LandscapeReport> {
  const owner = 'landscapeReport';
  checkKnownOptions(owner, options, [
    'loss',
    'training',
    'seed',
    'points1d',
    'points2d',
    'range',
    'skip2d',
    'title',
  ]);
  if (typeof outDir !== 'string' || outDir.length === 0) {
    throw new Error(`${owner}: 'outDir' must be a non-empty directory path.`);
  }
  const count = Array.isArray(models) ? models.length : 1;
  if (count < 1 || count > 2) {
    throw new Error(`${owner}: 'models' holds ${count} models; expected 1 or 2.`);
  }
  const { title = 'Loss landscape', ...landscapeOptions } = options;
  const landscapes = modelLandscapes(models, x, y, landscapeOptions);
  const files = await writeLandscapeFiles(outDir, landscapes, title);
  return { ...landscapes, files };
}
