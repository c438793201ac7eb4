import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Plugin } from 'vite';
import { parseIdxImages, parseIdxLabels } from '../../src/data/idx.js';

const DATA_DIRECTORY = fileURLToPath(new URL('../../data/fashion-mnist-mini/', import.meta.url));
const ASSET_PREFIX = 'data/fashion-mnist/';

/**
 * The bundled Fashion-MNIST subset as headerless byte files the page fetches directly
 * (images: count × 784 bytes; labels: count bytes) plus a small JSON manifest.
 */
export function fashionMnistFiles(): Map<string, Uint8Array | string> {
  const read = (name: string) => new Uint8Array(gunzipSync(readFileSync(DATA_DIRECTORY + name)));
  const files = new Map<string, Uint8Array | string>();
  const manifest: Record<string, number> = {};
  for (const [split, prefix] of [
    ['train', 'train'],
    ['test', 't10k'],
  ] as const) {
    const images = parseIdxImages(read(`${prefix}-images-idx3-ubyte.gz`), `${prefix}-images`, {
      rows: 28,
      columns: 28,
    });
    const labels = parseIdxLabels(read(`${prefix}-labels-idx1-ubyte.gz`), `${prefix}-labels`, 10);
    files.set(`${ASSET_PREFIX}${split}-images.bin`, images.images);
    files.set(`${ASSET_PREFIX}${split}-labels.bin`, labels);
    manifest[split] = images.count;
  }
  files.set(`${ASSET_PREFIX}manifest.json`, JSON.stringify({ ...manifest, rows: 28, columns: 28 }));
  return files;
}

export function fashionMnistAssets(): Plugin {
  let files: Map<string, Uint8Array | string> | null = null;
  const load = () => (files ??= fashionMnistFiles());
  return {
    name: 'fashion-mnist-assets',
    configureServer(server) {
      server.middlewares.use((request, response, next) => {
        const path = (request.url ?? '').split('?')[0]?.replace(/^\//, '') ?? '';
        const body = load().get(path);
        if (body === undefined) return next();
        response.setHeader(
          'Content-Type',
          typeof body === 'string' ? 'application/json' : 'application/octet-stream',
        );
        response.end(body);
      });
    },
    generateBundle() {
      for (const [fileName, source] of load()) {
        this.emitFile({ type: 'asset', fileName, source });
      }
    },
  };
}
