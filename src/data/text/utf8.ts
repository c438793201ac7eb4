import { DataFormatError } from '../errors.js';

const strict = new TextDecoder('utf-8', { fatal: true });

/** The line (1-based) and column of byte `offset` in `bytes`. */
function position(bytes: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

/** The first byte offset where `bytes` stops being valid UTF-8, or -1. */
function firstInvalidByte(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    const extra =
      b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : 0;
    if (extra === 0 || i + extra >= bytes.length) return i;
    // The second byte's range is narrower after E0, ED, F0 and F4 (no overlong forms, surrogates).
    const second = bytes[i + 1] as number;
    const low = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
    const high = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
    if (second < low || second > high) return i;
    for (let k = 2; k <= extra; k++) {
      if (((bytes[i + k] as number) & 0xc0) !== 0x80) return i;
    }
    i += extra + 1;
  }
  return -1;
}

/**
 * `bytes` decoded as UTF-8 (a leading byte-order mark dropped); throws a {@link DataFormatError}
 * naming the file, line and column of the first byte that is not UTF-8.
 */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    const text = strict.decode(bytes);
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch {
    const offset = Math.max(0, firstInvalidByte(bytes));
    const { line, column } = position(bytes, offset);
    throw new DataFormatError(
      file,
      `line ${line}, column ${column}: byte 0x${(bytes[offset] ?? 0).toString(16).padStart(2, '0')} is not UTF-8. ` +
        'Save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8 in.csv > out.csv`).',
    );
  }
}
