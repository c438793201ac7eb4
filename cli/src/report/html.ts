/** A self-contained HTML report: tables and inline SVG plots, no scripts, no external files. */
import type { RenderedChart } from './render.js';

export interface ReportTable {
  title: string;
  columns: string[];
  rows: Array<Array<string | number>>;
}

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function reportHtml(options: {
  title: string;
  subtitle: string;
  facts: Array<[string, string]>;
  tables: ReportTable[];
  charts: RenderedChart[];
}): string {
  const facts = options.facts
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join('');
  const tables = options.tables
    .map(
      (t) =>
        `<h2>${escapeHtml(t.title)}</h2><table class="data"><thead><tr>${t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>${t.rows
          .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(String(c))}</td>`).join('')}</tr>`)
          .join('')}</tbody></table>`,
    )
    .join('\n');
  const charts = options.charts
    .map(
      (c) =>
        `<figure><figcaption>${escapeHtml(c.title)} <a href="plots/${c.name}.svg">SVG</a> · <a href="plots/${c.name}.png">PNG</a></figcaption>${c.svg}</figure>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222}
h1{margin-bottom:.2rem} .sub{color:#555;margin-top:0}
table{border-collapse:collapse;margin:1rem 0} th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}
table.data td{font-variant-numeric:tabular-nums}
figure{display:inline-block;margin:1rem;vertical-align:top} figcaption{font-weight:600;margin-bottom:.4rem}
</style></head><body>
<h1>${escapeHtml(options.title)}</h1><p class="sub">${escapeHtml(options.subtitle)}</p>
<table>${facts}</table>
${tables}
<h2>Plots</h2>
${charts}
</body></html>
`;
}
