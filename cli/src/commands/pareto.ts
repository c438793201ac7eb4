/**
 * `tfjs-sam pareto`: which optimizer to pick for a compute budget — the optimizers of several
 * compare folders (same data and model) by clean test accuracy against passes and wall-clock,
 * with the Pareto front of each; a table, pareto.json and report.html with both plots.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { paretoPoints, type ParetoPoint } from '../pareto.js';
import { paretoChart } from '../report/charts.js';
import { reportHtml, type ReportTable } from '../report/html.js';
import { renderChart } from '../report/render.js';
import { readResults } from '../results.js';

const percent = (v: number) => `${(v * 100).toFixed(2)}%`;

function table(points: readonly ParetoPoint[]): ReportTable {
  return {
    title: 'Clean test accuracy against compute (front: no other optimizer is better for less)',
    columns: [
      'optimizer',
      'seeds',
      'test acc',
      'passes/step',
      'passes (base steps)',
      'ms/step',
      'minutes per run',
      'front (passes)',
      'front (time)',
    ],
    rows: points.map((p) => [
      p.label,
      p.seeds,
      `${percent(p.testAccuracy)} ± ${(p.testAccuracyStd * 100).toFixed(2)}`,
      p.passesPerStep.toFixed(2),
      Math.round(p.passes),
      `${p.msPerStep.toFixed(1)}${p.timing === 'timing' ? '' : ' (runs)'}`,
      p.minutes.toFixed(1),
      p.frontByPasses ? 'yes' : '',
      p.frontByTime ? 'yes' : '',
    ]),
  };
}

export function addParetoCommand(program: Command): void {
  program
    .command('pareto <dirs...>')
    .description(
      'clean test accuracy against passes and wall-clock for the optimizers of compare folders, with the Pareto front',
    )
    .requiredOption('--out <dir>', 'where to write pareto.json, report.html and the plots')
    .option(
      '--timing <dir>',
      "a compare folder whose ms/step replace the runs' own (e.g. one epoch of every optimizer on an otherwise idle machine)",
    )
    .action(async (dirs: string[], flags: { out: string; timing?: string }) => {
      const folders = dirs.map((dir) => ({ dir, results: readResults(dir) }));
      const datas = new Set(
        folders.map(
          (f) =>
            `${f.results.data} · model ${f.results.model}${f.results.dataSeed === undefined ? '' : ` · data seed ${f.results.dataSeed}`}`,
        ),
      );
      if (datas.size > 1) {
        throw new Error(
          `the folders were trained on different data or models (${[...datas].join(' | ')}); compare optimizers on one footing: give folders of the same data and model.`,
        );
      }
      const timing = flags.timing === undefined ? undefined : readResults(flags.timing);
      const points = paretoPoints(folders, timing);
      const summary = table(points);
      const widths = summary.columns.map((c, i) =>
        Math.max(c.length, ...summary.rows.map((r) => String(r[i]).length)),
      );
      const line = (cells: Array<string | number>) =>
        cells.map((c, i) => String(c).padEnd(widths[i] as number)).join('  ');
      console.log(`${[...datas][0]}\n\n${line(summary.columns)}`);
      console.log(widths.map((w) => '-'.repeat(w)).join('  '));
      for (const row of summary.rows) console.log(line(row));

      mkdirSync(flags.out, { recursive: true });
      writeFileSync(
        join(flags.out, 'pareto.json'),
        JSON.stringify(
          { data: [...datas][0], folders: dirs, timing: flags.timing ?? null, points },
          null,
          2,
        ) + '\n',
      );
      const plots = join(flags.out, 'plots');
      const charts = [
        await renderChart(
          'accuracy-vs-passes',
          'Clean test accuracy against the passes of a run',
          paretoChart(
            points.map((p) => ({ ...p, cost: p.passes, front: p.frontByPasses })),
            'passes per run (forward-backward passes, in base steps)',
          ),
          plots,
        ),
        await renderChart(
          'accuracy-vs-time',
          'Clean test accuracy against wall-clock',
          paretoChart(
            points.map((p) => ({ ...p, cost: p.minutes, front: p.frontByTime })),
            'minutes per run',
          ),
          plots,
        ),
      ];
      writeFileSync(
        join(flags.out, 'report.html'),
        reportHtml({
          title: 'tfjs-sam pareto',
          subtitle: [...datas][0] as string,
          facts: [
            ['folders', dirs.join(', ')],
            ['timing', flags.timing ?? "each optimizer's own runs"],
          ],
          tables: [summary],
          charts,
        }),
      );
      console.log(
        `\nwrote ${join(flags.out, 'pareto.json')} and ${join(flags.out, 'report.html')}`,
      );
    });
}
