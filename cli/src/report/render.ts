/**
 * Plots as files: a Vega-Lite specification is compiled and rendered to SVG in Node (no browser,
 * no canvas) and to PNG through resvg. The HTML report embeds the SVG, so it is self-contained.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface RenderedChart {
  name: string;
  title: string;
  svg: string;
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export function svgToPng(svg: string, scale = 2): Uint8Array {
  return new Resvg(svg, { fitTo: { mode: 'zoom', value: scale }, background: 'white' })
    .render()
    .asPng();
}

/** Renders a chart and writes `<dir>/<name>.svg` and `<dir>/<name>.png`. */
export async function renderChart(
  name: string,
  title: string,
  spec: TopLevelSpec,
  dir: string,
): Promise<RenderedChart> {
  const svg = await renderSvg(spec);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.svg`), svg);
  writeFileSync(join(dir, `${name}.png`), svgToPng(svg));
  return { name, title, svg };
}
