/**
 * `tfjs-sam/node`: models on disk in Node without tfjs-node. Importing it registers `file://`
 * save and load handlers with tf.io (unless another library's — tfjs-node's — handle the URL), so
 * `model.save('file://dir', {includeOptimizer: true})` writes `dir/model.json` + `dir/weights.bin`
 * (tfjs-node's layout, atomically) and `tf.loadLayersModel('file://dir/model.json')` reads them,
 * SAM's state included.
 */
import { registerFileSystemRouters } from './file-io.js';

registerFileSystemRouters();

export {
  fileSystem,
  manifestBytes,
  MODEL_FILE,
  ModelFileError,
  readModelFiles,
  registerFileSystemRouters,
  saveModelFiles,
  WEIGHTS_FILE,
} from './file-io.js';
export { loadSavedModel } from './saved-model.js';
