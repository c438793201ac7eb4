/** `tfjs-sam report`: re-renders the report of a compare/sweep folder from its logs. */
import type { Command } from 'commander';
import { printSummary, readResults, renderReport } from '../results.js';

export function addReportCommand(program: Command): void {
  program
    .command('report <dir>')
    .description('re-render report.html and the plots of a compare/sweep folder from its logs')
    .action(async (dir: string) => {
      const results = readResults(dir);
      printSummary(results);
      console.log(`\nwrote ${await renderReport(dir, results)}`);
    });
}
