import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';
import { fashionMnistAssets } from './scripts/fashion-mnist-assets.js';

const webRoot = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: webRoot,
  base: './',
  plugins: [fashionMnistAssets()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // TensorFlow.js alone is about 850 kB minified.
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      input: {
        valleys: fileURLToPath(new URL('./index.html', import.meta.url)),
        train: fileURLToPath(new URL('./train.html', import.meta.url)),
        spam: fileURLToPath(new URL('./spam.html', import.meta.url)),
      },
    },
  },
  preview: { host: '127.0.0.1', port: 4173, strictPort: false },
  server: { host: '127.0.0.1' },
});
