/** `tfjs-sam/node`: models on disk in Node without tfjs-node. */
export { loadSavedModel } from './saved-model.js';
