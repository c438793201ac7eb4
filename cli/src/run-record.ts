/**
 * `run.json` in each run folder: the data seed, the data and the model the run was made with, so
 * that `--resume` continues a run only on the data it started on.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RunRecord {
  label: string;
  seed: number;
  /** The seed of the training subset, the validation split and the label noise (--data-seed). */
  dataSeed: number;
  /** What the data was: data set, sample counts, label noise. */
  data: string;
  model: string;
}

const FILE = 'run.json';

const RESTART = 'or train it from the start with --restart in place of --resume';

/**
 * Writes `record` into `dir`; when resuming, first refuses a folder made with another data seed,
 * other data or another model. A folder from before run records (no run.json, a checkpoint) is
 * resumed with a note: its data seed was the first of its --seeds.
 */
export function checkAndWriteRunRecord(
  dir: string,
  record: RunRecord,
  resume: boolean,
  warn: (message: string) => void = (message) => console.warn(message),
): void {
  const path = join(dir, FILE);
  if (resume && existsSync(path)) {
    let before: Partial<RunRecord>;
    try {
      before = JSON.parse(readFileSync(path, 'utf8')) as Partial<RunRecord>;
    } catch (error) {
      throw new Error(
        `--resume: ${path} is not valid JSON (${(error as Error).message}); restore it, ${RESTART}.`,
      );
    }
    if (before.dataSeed !== record.dataSeed) {
      throw new Error(
        `--resume: ${record.label} seed ${record.seed} in ${dir} was made with --data-seed ${String(before.dataSeed)}, ` +
          `and this command has --data-seed ${record.dataSeed}: it would continue on another training subset, split ` +
          `and label noise. Resume with --data-seed ${String(before.dataSeed)}, ${RESTART}.`,
      );
    }
    if (before.data !== record.data) {
      throw new Error(
        `--resume: ${record.label} seed ${record.seed} in ${dir} was trained on "${String(before.data)}", and this ` +
          `command prepares "${record.data}". Resume with the run's --dataset, --train-subset, --validation and ` +
          `--label-noise, ${RESTART}.`,
      );
    }
    if (before.model !== record.model) {
      throw new Error(
        `--resume: ${record.label} seed ${record.seed} in ${dir} was made with --model ${String(before.model)}, ` +
          `and this command has --model ${record.model}. Resume with --model ${String(before.model)}, ${RESTART}.`,
      );
    }
  } else if (resume && existsSync(join(dir, 'checkpoint'))) {
    warn(
      `note: ${dir} has no ${FILE} (made before --data-seed): resuming it with --data-seed ${record.dataSeed}; ` +
        'those versions drew the data from the first of --seeds.',
    );
  }
  writeFileSync(path, JSON.stringify(record, null, 2) + '\n');
}
