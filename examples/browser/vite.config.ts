// Builds the browser example into web/dist/example/, where the demo's end-to-end test
// (web/e2e/run.ts) opens it. In the repository `tfjs-sam` is the library's source, as tsconfig's
// paths say; an application gets the package's ES modules instead.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  resolve: {
    alias: { 'tfjs-sam': fileURLToPath(new URL('../../src/index.ts', import.meta.url)) },
  },
  build: {
    outDir: fileURLToPath(new URL('../../web/dist/example', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
});
