/**
 * An image folder: one subfolder per class (their names, sorted, are the classes), PNG and JPEG
 * files in them, all of one size. Decoded in JavaScript, no native code: PNG by fast-png (the
 * image-js project), JPEG by jpeg-js.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { decode as decodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { DataFormatError } from 'tfjs-sam/data';
import type { LoadedData } from './types.js';

const EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

interface Pixels {
  width: number;
  height: number;
  /** Interleaved 8-bit channels. */
  data: Uint8Array;
  channels: number;
}

function decode(file: string): Pixels {
  const bytes = readFileSync(file);
  try {
    if (bytes[0] === 0x89 && bytes[1] === 0x50) {
      const png = decodePng(bytes);
      const data =
        png.depth === 16
          ? Uint8Array.from(png.data as Uint16Array, (v) => v >> 8)
          : (png.data as Uint8Array);
      if (png.palette !== undefined)
        throw new Error('palette PNGs are not supported; save it as RGB or grayscale');
      return { width: png.width, height: png.height, data, channels: png.channels };
    }
    if (bytes[0] === 0xff && bytes[1] === 0xd8) {
      const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false });
      return { width: image.width, height: image.height, data: image.data, channels: 3 };
    }
    throw new Error('it is neither a PNG nor a JPEG file');
  } catch (error) {
    throw new DataFormatError(file, `cannot be decoded as an image: ${(error as Error).message}.`);
  }
}

/** Converts interleaved pixels to `channels` (1: luminance; 3: RGB, gray replicated; alpha dropped). */
function toChannels(pixels: Pixels, channels: number): Uint8Array {
  const count = pixels.width * pixels.height;
  const out = new Uint8Array(count * channels);
  const from = pixels.channels;
  for (let p = 0; p < count; p++) {
    const r = pixels.data[p * from] as number;
    const g = from >= 3 ? (pixels.data[p * from + 1] as number) : r;
    const b = from >= 3 ? (pixels.data[p * from + 2] as number) : r;
    if (channels === 1) out[p] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    else {
      out[p * 3] = r;
      out[p * 3 + 1] = g;
      out[p * 3 + 2] = b;
    }
  }
  return out;
}

/**
 * The images under `dir`, one subfolder per class. `channels` is what the model takes (1 or 3);
 * by default 1 when every image is grayscale, else 3.
 */
export function loadImageFolder(dir: string, channels?: number): LoadedData {
  const classNames = readdirSync(dir)
    .filter((name) => statSync(join(dir, name)).isDirectory())
    .sort();
  if (classNames.length === 0) {
    throw new DataFormatError(
      dir,
      'has no subfolders; an image folder has one subfolder per class (cat/, dog/, …) holding PNG or JPEG files.',
    );
  }
  const files: Array<{ file: string; label: number }> = [];
  classNames.forEach((name, label) => {
    for (const file of readdirSync(join(dir, name)).sort()) {
      if (EXTENSIONS.has(extname(file).toLowerCase()))
        files.push({ file: join(dir, name, file), label });
    }
  });
  if (files.length === 0)
    throw new DataFormatError(dir, 'holds no .png, .jpg or .jpeg files in its class subfolders.');
  const decoded = files.map(({ file }) => decode(file));
  const first = decoded[0] as Pixels;
  decoded.forEach((pixels, i) => {
    if (pixels.width !== first.width || pixels.height !== first.height) {
      throw new DataFormatError(
        (files[i] as { file: string }).file,
        `is ${pixels.width}×${pixels.height} pixels; ${(files[0] as { file: string }).file} and the images before it are ${first.width}×${first.height}: resize the images to one size.`,
      );
    }
  });
  const depth = channels ?? (decoded.every((p) => p.channels <= 2) ? 1 : 3);
  if (depth !== 1 && depth !== 3) {
    throw new DataFormatError(
      dir,
      `holds images; the model takes ${depth} channels per pixel, expected 1 (grayscale) or 3 (RGB).`,
    );
  }
  const size = first.width * first.height * depth;
  const images = new Uint8Array(files.length * size);
  decoded.forEach((pixels, i) => images.set(toChannels(pixels, depth), i * size));
  return {
    dataset: {
      images,
      labels: Int32Array.from(files, ({ label }) => label),
      shape: [first.height, first.width, depth],
      count: files.length,
      classes: classNames.length,
      classNames,
    },
    where: (index) => (files[index] as { file: string }).file,
    source: dir,
  };
}
