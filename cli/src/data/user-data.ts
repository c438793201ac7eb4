/**
 * The user's data for --data / --test-data, by what the path is: a folder (one subfolder of PNG or
 * JPEG images per class), a .csv or .jsonl file (feature columns and a label), or two files
 * `samples,labels` (.npy, or IDX as MNIST ships it, gzipped or not).
 */
import { existsSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { DataFormatError, DataNotFoundError } from 'tfjs-sam/data';
import { loadArrayPair } from './arrays.js';
import { loadImageFolder } from './images.js';
import { loadCsv, loadJsonl, type TableOptions } from './tables.js';
import type { LoadedData } from './types.js';

export type { LoadedData } from './types.js';

export interface UserDataOptions extends TableOptions {
  /** Channels the model takes (image folders convert to it). */
  channels?: number;
}

export const DATA_FORMATS =
  'a folder with one subfolder of PNG/JPEG images per class, a .csv or .jsonl file (feature columns and a label), or two files samples,labels (.npy or IDX)';

export function loadUserData(path: string, options: UserDataOptions = {}): LoadedData {
  const parts = path.split(',');
  if (parts.length === 2) {
    for (const part of parts) {
      if (!existsSync(part))
        throw new DataNotFoundError(`--data: '${part}' does not exist (from '${path}').`);
    }
    return loadArrayPair(parts[0] as string, parts[1] as string);
  }
  if (!existsSync(path)) {
    throw new DataNotFoundError(`--data: '${path}' does not exist; give ${DATA_FORMATS}.`);
  }
  if (statSync(path).isDirectory()) return loadImageFolder(path, options.channels);
  const extension = extname(path).toLowerCase();
  if (extension === '.csv') return loadCsv(path, options);
  if (extension === '.jsonl' || extension === '.ndjson') return loadJsonl(path, options);
  throw new DataFormatError(
    path,
    `is not a format the CLI reads by itself; give ${DATA_FORMATS}. (.npy and IDX files come in pairs: --data samples.npy,labels.npy.)`,
  );
}
