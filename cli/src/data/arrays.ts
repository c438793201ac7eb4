/**
 * Array files in pairs, samples and labels: NumPy `.npy` and IDX (MNIST's format, gzipped or not).
 *
 * The NPY reader is our own (format versions 1–3, little- and big-endian numbers, C order): the
 * format is one header and raw values, and the npm packages for it fetch over HTTP in browsers
 * rather than read files, or are little used.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataFormatError } from 'tfjs-sam/data';
import { imageShape } from './tables.js';
import type { LoadedData } from './types.js';

interface NdArray {
  shape: number[];
  /** uint8 values stay bytes (scaled by 1/255 like the built-in images); the rest float32. */
  values: Uint8Array | Float32Array;
  integer: boolean;
}

const NPY_TYPES: Record<
  string,
  { bytes: number; read: (view: DataView, at: number, le: boolean) => number; integer: boolean }
> = {
  u1: { bytes: 1, read: (v, at) => v.getUint8(at), integer: true },
  i1: { bytes: 1, read: (v, at) => v.getInt8(at), integer: true },
  b1: { bytes: 1, read: (v, at) => v.getUint8(at), integer: true },
  u2: { bytes: 2, read: (v, at, le) => v.getUint16(at, le), integer: true },
  i2: { bytes: 2, read: (v, at, le) => v.getInt16(at, le), integer: true },
  u4: { bytes: 4, read: (v, at, le) => v.getUint32(at, le), integer: true },
  i4: { bytes: 4, read: (v, at, le) => v.getInt32(at, le), integer: true },
  i8: { bytes: 8, read: (v, at, le) => Number(v.getBigInt64(at, le)), integer: true },
  u8: { bytes: 8, read: (v, at, le) => Number(v.getBigUint64(at, le)), integer: true },
  f4: { bytes: 4, read: (v, at, le) => v.getFloat32(at, le), integer: false },
  f8: { bytes: 8, read: (v, at, le) => v.getFloat64(at, le), integer: false },
};

export function parseNpy(bytes: Uint8Array, file: string): NdArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) {
    throw new DataFormatError(
      file,
      'is not a NumPy .npy file (no \\x93NUMPY magic); save it with numpy.save.',
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6] as number;
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr'\s*:\s*'([<>|=])([a-z])(\d+)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === null || shapeText === undefined) {
    throw new DataFormatError(
      file,
      `has an NPY header without a numeric 'descr' and 'shape': ${header.trim()}`,
    );
  }
  const type = NPY_TYPES[`${descr[2]}${descr[3]}`];
  if (type === undefined) {
    throw new DataFormatError(
      file,
      `holds '${descr[1]}${descr[2]}${descr[3]}' values; expected integers, booleans or floats.`,
    );
  }
  if (fortran === 'True') {
    throw new DataFormatError(
      file,
      'is in Fortran order; save it in C order (numpy.ascontiguousarray).',
    );
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLength;
  if (bytes.length - offset !== count * type.bytes) {
    throw new DataFormatError(
      file,
      `holds ${bytes.length - offset} bytes of values; its header's shape (${shape.join(', ')}) needs ${count * type.bytes}: the file is truncated.`,
    );
  }
  if (`${descr[2]}${descr[3]}` === 'u1') {
    return { shape, values: bytes.slice(offset, offset + count), integer: true };
  }
  const littleEndian = descr[1] !== '>';
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++)
    values[i] = type.read(view, offset + i * type.bytes, littleEndian);
  return { shape, values, integer: type.integer };
}

const IDX_TYPES: Record<
  number,
  { bytes: number; read: (view: DataView, at: number) => number; integer: boolean }
> = {
  0x08: { bytes: 1, read: (v, at) => v.getUint8(at), integer: true },
  0x09: { bytes: 1, read: (v, at) => v.getInt8(at), integer: true },
  0x0b: { bytes: 2, read: (v, at) => v.getInt16(at, false), integer: true },
  0x0c: { bytes: 4, read: (v, at) => v.getInt32(at, false), integer: true },
  0x0d: { bytes: 4, read: (v, at) => v.getFloat32(at, false), integer: false },
  0x0e: { bytes: 8, read: (v, at) => v.getFloat64(at, false), integer: false },
};

export function parseIdx(bytes: Uint8Array, file: string): NdArray {
  const type = IDX_TYPES[bytes[2] as number];
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || type === undefined) {
    throw new DataFormatError(
      file,
      'is not an IDX file (magic 0x00 0x00 <type> <dims>), gzipped or not.',
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = bytes[3] as number;
  const shape = Array.from({ length: dims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const offset = 4 + 4 * dims;
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length - offset !== count * type.bytes) {
    throw new DataFormatError(
      file,
      `holds ${bytes.length - offset} bytes of values; its header's shape (${shape.join(', ')}) needs ${count * type.bytes}: the file is truncated.`,
    );
  }
  if (bytes[2] === 0x08)
    return { shape, values: bytes.slice(offset, offset + count), integer: true };
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = type.read(view, offset + i * type.bytes);
  return { shape, values, integer: type.integer };
}

function read(file: string): NdArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new DataFormatError(file, `cannot be read: ${(error as Error).message}`);
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  return file.endsWith('.npy') || file.endsWith('.npy.gz')
    ? parseNpy(bytes, file)
    : parseIdx(bytes, file);
}

/** Samples and labels from two files (`x.npy,y.npy` or two IDX files), checked against each other. */
export function loadArrayPair(samplesFile: string, labelsFile: string): LoadedData {
  const samples = read(samplesFile);
  const labels = read(labelsFile);
  const count = samples.shape[0];
  if (samples.shape.length < 2 || count === undefined) {
    throw new DataFormatError(
      samplesFile,
      `has shape (${samples.shape.join(', ')}); expected (samples, features…).`,
    );
  }
  const perLabel = labels.shape.slice(1).reduce((a, b) => a * b, 1);
  if (labels.shape[0] !== count || perLabel !== 1) {
    throw new DataFormatError(
      labelsFile,
      `has shape (${labels.shape.join(', ')}); expected (${count},): one class index per sample of ${samplesFile}.`,
    );
  }
  const classIndices = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = labels.values[i] as number;
    if (!Number.isInteger(label) || label < 0) {
      throw new DataFormatError(
        labelsFile,
        `entry ${i}: label ${label} is not a class index (an integer ≥ 0).`,
      );
    }
    classIndices[i] = label;
  }
  return {
    dataset: {
      images: samples.values,
      labels: classIndices,
      shape: imageShape(samples.shape.slice(1)),
      count,
      classes: classIndices.reduce((max, v) => Math.max(max, v), -1) + 1,
    },
    where: (index) => `${samplesFile} sample ${index} (label in ${labelsFile})`,
    source: `${samplesFile},${labelsFile}`,
  };
}
