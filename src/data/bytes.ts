import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { DataFormatError } from './errors.js';

/** gzip member header, RFC 1952 §2.3.1: ID1 = 0x1f, ID2 = 0x8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Inflates `bytes` when they start with the gzip magic, whatever the file is called. */
export function gunzipIfCompressed(bytes: Uint8Array, file: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    const inflated = gunzipSync(bytes);
    return new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.byteLength);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DataFormatError(
      file,
      `starts with the gzip magic 1f 8b but does not decompress (${reason}); the download is ` +
        'probably truncated or corrupt: fetch the file again.',
    );
  }
}

/** Reads a file, transparently decompressing gzip content. */
export async function readDataFile(file: string): Promise<Uint8Array> {
  const raw = await readFile(file);
  return gunzipIfCompressed(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), file);
}
