export {
  selectBackend,
  useFastestBackend,
  type BackendChoice,
  type SelectBackendOptions,
} from './select.js';
export { registerWasmTrainingKernels } from './wasm-kernels/index.js';
export { registerCpuTrainingKernels } from './cpu-kernels.js';
export { floatView } from './heap.js';
