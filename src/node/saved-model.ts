/** A saved model read back with its optimizer, from the folder or the model.json. */
import * as tfl from '@tensorflow/tfjs-layers';
import { fileSystem } from './file-io.js';

/**
 * The model saved at `path` — a folder holding `model.json` + `weights.bin` (written by
 * `model.save('file://…')` with tfjs-sam/node or tfjs-node, or by the tfjs-sam CLI), or that
 * model.json — with its optimizer when it was saved with `includeOptimizer: true`. The files are
 * checked first (see `readModelFiles`): a missing, truncated or mismatched file is named.
 */
export function loadSavedModel(path: string): Promise<tfl.LayersModel> {
  return tfl.loadLayersModel(fileSystem(path));
}
