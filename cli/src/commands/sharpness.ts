/** `tfjs-sam sharpness`: the Hessian and sharpness measures of a saved model. */
import * as tf from '@tensorflow/tfjs-core';
import type { Command } from 'commander';
import { sharpnessReport, type SharpnessReport } from 'tfjs-sam/diagnostics';
import { diagnosticData, HVP_BATCH_SIZE, loadDiagnosticModel } from '../diagnose.js';
import {
  addDataOptions,
  positiveInteger,
  positiveNumber,
  type DiagnosticDataFlags,
} from '../flags.js';
import { startBackend } from '../setup.js';

function formatReport(report: SharpnessReport): string {
  const rows: Array<[string, string]> = [
    ['loss', report.loss.toFixed(5)],
    ['accuracy', report.accuracy === undefined ? '-' : `${(report.accuracy * 100).toFixed(2)}%`],
    [
      'λ_max (Hessian)',
      `${report.lambdaMax.toPrecision(5)} (${report.eigenvalueConvergence[0]?.converged ? 'converged' : 'not converged'} after ${report.eigenvalueConvergence[0]?.iterations} iterations)`,
    ],
    [
      'trace (Hutchinson)',
      `${report.trace.toPrecision(5)} ± ${report.traceStandardError.toPrecision(3)} (${report.traceSamples} samples)`,
    ],
    [`worst-case sharpness (ρ ${report.rho})`, report.worstCaseSharpness.toPrecision(5)],
    ['adaptive sharpness', report.adaptiveSharpness.toPrecision(5)],
    ['m-sharpness', report.mSharpness === null ? '-' : report.mSharpness.toPrecision(5)],
    ...report.averageSharpness.map(
      (p) =>
        [`average sharpness σ=${p.sigma}`, p.averageSharpness.toPrecision(5)] as [string, string],
    ),
    ['Hessian-vector products', report.hvpMethod],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

export function addSharpnessCommand(program: Command): void {
  addDataOptions(program.command('sharpness <model>'))
    .description(
      'λ_max and trace of the Hessian, worst-case, adaptive, m- and average sharpness of a saved model',
    )
    .option('--rho <rho>', 'radius of the worst-case sharpness', positiveNumber('--rho'), 0.05)
    .option('--iterations <n>', 'power iterations for λ_max', positiveInteger('--iterations'), 50)
    .option(
      '--trace-samples <n>',
      'Hutchinson samples for the trace',
      positiveInteger('--trace-samples'),
      20,
    )
    .option(
      '--hvp-batch-size <n>',
      "samples per Hessian-vector product: λ_max and the trace sum H·v over parts this large, so memory holds one part's double-backprop graph",
      positiveInteger('--hvp-batch-size'),
      HVP_BATCH_SIZE,
    )
    .option('--seed <n>', 'seed of the random probes', positiveInteger('--seed'), 1)
    .option('--json', 'print one JSON object', false)
    .action(
      async (
        modelPath: string,
        flags: DiagnosticDataFlags & {
          rho: number;
          iterations: number;
          traceSamples: number;
          hvpBatchSize: number;
          seed: number;
          json: boolean;
        },
      ) => {
        const backend = await startBackend(flags.backend, () => undefined);
        const model = await loadDiagnosticModel(modelPath);
        const { x, y, description, loss } = await diagnosticData(flags, modelPath, model);
        const started = performance.now();
        try {
          const report = sharpnessReport(model, x, y, {
            loss,
            rho: flags.rho,
            iterations: flags.iterations,
            traceSamples: flags.traceSamples,
            hvpBatchSize: flags.hvpBatchSize,
            seed: flags.seed,
          });
          const seconds = (performance.now() - started) / 1000;
          if (flags.json) {
            console.log(
              JSON.stringify({ model: modelPath, data: description, backend, seconds, ...report }),
            );
          } else {
            console.log(
              `${modelPath} on ${description}; ${backend} backend; ${seconds.toFixed(1)} s`,
            );
            console.log(formatReport(report));
            for (const warning of report.warnings) console.log(`warning: ${warning}`);
          }
        } finally {
          tf.dispose([x, y]);
          model.dispose();
        }
      },
    );
}
