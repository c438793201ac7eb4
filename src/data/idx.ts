import { DataFormatError } from './errors.js';

/**
 * The IDX format of LeCun's MNIST page (http://yann.lecun.com/exdb/mnist/): a 4-byte magic
 * `00 00 <type> <ndims>`, then `ndims` big-endian uint32 dimension sizes, then the data in
 * row-major order, big-endian.
 */
const IDX_TYPES: Readonly<Record<number, { name: string; bytes: number }>> = {
  0x08: { name: 'unsigned byte', bytes: 1 },
  0x09: { name: 'signed byte', bytes: 1 },
  0x0b: { name: 'int16', bytes: 2 },
  0x0c: { name: 'int32', bytes: 4 },
  0x0d: { name: 'float32', bytes: 4 },
  0x0e: { name: 'float64', bytes: 8 },
};
const UBYTE = 0x08;

const hex = (value: number): string => `0x${value.toString(16).padStart(2, '0')}`;

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Parses an unsigned-byte IDX file (already decompressed) and checks its header against its size. */
export function parseIdx(bytes: Uint8Array, file: string, expectedDims?: number): IdxArray {
  if (bytes.length < 4) {
    throw new DataFormatError(
      file,
      `is ${bytes.length} bytes long, shorter than the 4-byte IDX magic number; the file is ` +
        'empty or truncated.',
    );
  }
  const [zero0, zero1, typeCode, ndims] = bytes as unknown as [number, number, number, number];
  if (zero0 !== 0 || zero1 !== 0) {
    const found = Array.from(bytes.subarray(0, 4), hex).join(' ');
    throw new DataFormatError(
      file,
      `bad magic number: expected 0x00 0x00 <type> <ndims> (e.g. 0x00000803 for images, ` +
        `0x00000801 for labels), found ${found}. This is not an IDX file (or is compressed ` +
        'with something other than gzip).',
    );
  }
  const type = IDX_TYPES[typeCode];
  if (type === undefined) {
    throw new DataFormatError(
      file,
      `unknown IDX data type code ${hex(typeCode)} in the magic number; expected ${hex(UBYTE)} ` +
        '(unsigned byte).',
    );
  }
  if (typeCode !== UBYTE) {
    throw new DataFormatError(
      file,
      `data type is ${hex(typeCode)} (${type.name}); expected ${hex(UBYTE)} (unsigned byte), ` +
        'the type of MNIST and Fashion-MNIST images and labels.',
    );
  }
  if (expectedDims !== undefined && ndims !== expectedDims) {
    throw new DataFormatError(
      file,
      `has ${ndims} dimension(s) in its magic number; expected ${expectedDims} ` +
        `(${expectedDims === 3 ? 'count, rows, columns: an image file' : 'count: a label file'}).` +
        (ndims === 1 ? ' Is this a label file?' : ndims === 3 ? ' Is this an image file?' : ''),
    );
  }
  if (ndims === 0) {
    throw new DataFormatError(file, 'declares 0 dimensions; expected at least 1.');
  }
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new DataFormatError(
      file,
      `truncated header: ${ndims} dimensions need a ${headerBytes}-byte header, the file has ` +
        `${bytes.length} bytes.`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let axis = 0; axis < ndims; axis++) dims.push(view.getUint32(4 + 4 * axis, false));
  const dataBytes = dims.reduce((product, size) => product * size, 1) * type.bytes;
  const expectedBytes = headerBytes + dataBytes;
  if (bytes.length !== expectedBytes) {
    const what =
      bytes.length < expectedBytes
        ? `truncated: ${expectedBytes - bytes.length} bytes missing`
        : `${bytes.length - expectedBytes} unexpected trailing bytes`;
    throw new DataFormatError(
      file,
      `${what}. The header declares dimensions ${dims.join('×')} = ${dataBytes} data bytes, ` +
        `so the file should be ${expectedBytes} bytes (after gunzip); found ${bytes.length}. ` +
        'Fetch the file again.',
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

export interface IdxImages {
  images: Uint8Array;
  count: number;
  rows: number;
  columns: number;
}

/** Parses an IDX image file (magic 0x00000803): count × rows × columns unsigned bytes. */
export function parseIdxImages(
  bytes: Uint8Array,
  file: string,
  expected?: { rows: number; columns: number },
): IdxImages {
  const { dims, data } = parseIdx(bytes, file, 3);
  const [count, rows, columns] = dims as [number, number, number];
  if (expected && (rows !== expected.rows || columns !== expected.columns)) {
    throw new DataFormatError(
      file,
      `images are ${rows}×${columns}; expected ${expected.rows}×${expected.columns}.`,
    );
  }
  return { images: data, count, rows, columns };
}

/** Parses an IDX label file (magic 0x00000801) and checks every label is below `classes`. */
export function parseIdxLabels(bytes: Uint8Array, file: string, classes: number): Uint8Array {
  const { data } = parseIdx(bytes, file, 1);
  checkLabelRange(data, classes, file);
  return data;
}

export function checkLabelRange(
  labels: ArrayLike<number>,
  classes: number,
  file: string,
  what = 'label',
): void {
  for (let index = 0; index < labels.length; index++) {
    const label = labels[index] as number;
    if (label >= classes || label < 0) {
      throw new DataFormatError(
        file,
        `${what} ${label} at sample ${index} is out of range; expected 0..${classes - 1} ` +
          `(${classes} classes).`,
      );
    }
  }
}

export function checkSameCount(
  imagesFile: string,
  imageCount: number,
  labelsFile: string,
  labelCount: number,
): void {
  if (imageCount !== labelCount) {
    throw new DataFormatError(
      labelsFile,
      `has ${labelCount} labels but ${imagesFile} has ${imageCount} images; expected equal ` +
        'counts. The two files come from different downloads or splits (train vs t10k).',
    );
  }
}

/** Encodes unsigned bytes as an IDX file (the inverse of `parseIdx`). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const expected = dims.reduce((product, size) => product * size, 1);
  if (data.length !== expected) {
    throw new Error(
      `encodeIdx: dims ${dims.join('×')} need ${expected} bytes of data; got ${data.length}.`,
    );
  }
  const headerBytes = 4 + 4 * dims.length;
  const out = new Uint8Array(headerBytes + data.length);
  const view = new DataView(out.buffer);
  out[2] = UBYTE;
  out[3] = dims.length;
  dims.forEach((size, axis) => view.setUint32(4 + 4 * axis, size, false));
  out.set(data, headerBytes);
  return out;
}
