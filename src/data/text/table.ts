/**
 * The user's own labelled text: a CSV file (RFC 4180: a header row, comma-separated, fields in
 * double quotes may hold commas, quotes doubled, and line breaks) or a JSONL file (one JSON object
 * per line). Every error names the file, the line and what to do.
 */
import { readFileSync } from 'node:fs';
import { DataFormatError, DataNotFoundError } from '../errors.js';
import type { TextClassificationCorpus } from './types.js';
import { decodeUtf8 } from './utf8.js';

/** One record of a table and the line it starts on. */
export interface TableRecord {
  line: number;
  fields: string[];
}

/**
 * The records of CSV `text`, each with the 1-based line it starts on. Written here rather than
 * taken from a package: the errors need each record's line, and the format is a few rules.
 */
export function parseCsv(text: string, file: string): TableRecord[] {
  const records: TableRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let quoteLine = 0;
  let atFieldStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && atFieldStart) {
      quoted = true;
      quoteLine = line;
      atFieldStart = false;
    } else if (c === ',') {
      fields.push(field);
      field = '';
      atFieldStart = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      fields.push(field);
      if (!(fields.length === 1 && fields[0] === '')) records.push({ line: recordLine, fields });
      fields = [];
      field = '';
      atFieldStart = true;
      line++;
      recordLine = line;
    } else {
      if (c === '"') {
        throw new DataFormatError(
          file,
          `line ${line}: a double quote inside an unquoted field; quote the whole field ("…") and double the quotes inside it ("").`,
        );
      }
      field += c;
      atFieldStart = false;
    }
  }
  if (quoted) {
    throw new DataFormatError(
      file,
      `line ${quoteLine}: a quoted field is never closed; add the closing double quote.`,
    );
  }
  fields.push(field);
  if (!(fields.length === 1 && fields[0] === '')) records.push({ line: recordLine, fields });
  return records;
}

export interface LabeledTextOptions {
  /** Column (CSV header name or JSON key) holding the text. Default 'text'. */
  textColumn?: string;
  /** Column holding the label. Default 'label'. */
  labelColumn?: string;
}

interface Row {
  line: number;
  text: unknown;
  label: unknown;
}

function csvRows(text: string, file: string, textColumn: string, labelColumn: string): Row[] {
  const records = parseCsv(text, file);
  const header = records[0];
  if (header === undefined)
    throw new DataFormatError(
      file,
      'the file is empty; expected a header row and one row per text.',
    );
  const find = (column: string, flag: string) => {
    const index = header.fields.findIndex((name) => name.trim() === column);
    if (index < 0) {
      throw new DataFormatError(
        file,
        `line ${header.line}: no column '${column}' in the header (columns: ${header.fields.map((f) => `'${f.trim()}'`).join(', ')}); ` +
          `name the column with ${flag}.`,
      );
    }
    return index;
  };
  const textIndex = find(textColumn, '--text-column');
  const labelIndex = find(labelColumn, '--label-column');
  return records.slice(1).map((record) => {
    if (record.fields.length !== header.fields.length) {
      throw new DataFormatError(
        file,
        `line ${record.line}: ${record.fields.length} fields where the header has ${header.fields.length}; quote fields that contain commas.`,
      );
    }
    return { line: record.line, text: record.fields[textIndex], label: record.fields[labelIndex] };
  });
}

function jsonlRows(text: string, file: string, textColumn: string, labelColumn: string): Row[] {
  const rows: Row[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new DataFormatError(
        file,
        `line ${line} is not JSON (${(error as Error).message}); write one JSON object per line.`,
      );
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new DataFormatError(
        file,
        `line ${line} is not a JSON object; write one object per line, e.g. {"${textColumn}": "…", "${labelColumn}": "spam"}.`,
      );
    }
    const record = value as Record<string, unknown>;
    for (const [column, flag] of [
      [textColumn, '--text-column'],
      [labelColumn, '--label-column'],
    ] as const) {
      if (!Object.hasOwn(record, column)) {
        throw new DataFormatError(
          file,
          `line ${line}: no key '${column}' (keys: ${Object.keys(record)
            .map((k) => `'${k}'`)
            .join(', ')}); name it with ${flag}.`,
        );
      }
    }
    rows.push({ line, text: record[textColumn], label: record[labelColumn] });
  });
  return rows;
}

/**
 * Labelled texts from a CSV (`.csv`) or JSONL (`.jsonl`, `.ndjson`) file. Labels are any strings
 * (or numbers); classes are their distinct values in sorted order. Refuses a file that is not
 * UTF-8, a missing column, an empty text and a label column with a single class.
 */
export function loadLabeledTextFile(
  path: string,
  options: LabeledTextOptions = {},
): TextClassificationCorpus {
  const textColumn = options.textColumn ?? 'text';
  const labelColumn = options.labelColumn ?? 'label';
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new DataNotFoundError(
      `cannot read text file '${path}' (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); check the path after --dataset text:.`,
    );
  }
  const text = decodeUtf8(bytes, path);
  const lower = path.toLowerCase();
  const isJsonl = lower.endsWith('.jsonl') || lower.endsWith('.ndjson');
  if (!isJsonl && !lower.endsWith('.csv')) {
    throw new DataFormatError(
      path,
      'unknown file type; expected a .csv file with a header row or a .jsonl file with one object per line.',
    );
  }
  const rows = isJsonl
    ? jsonlRows(text, path, textColumn, labelColumn)
    : csvRows(text, path, textColumn, labelColumn);
  if (rows.length === 0)
    throw new DataFormatError(path, 'no rows after the header; add one row per text.');
  const texts: string[] = [];
  const labelNames: string[] = [];
  const sources: string[] = [];
  for (const row of rows) {
    if (typeof row.text !== 'string' || row.text.trim() === '') {
      throw new DataFormatError(
        path,
        `line ${row.line}: the text in column '${textColumn}' is ${typeof row.text === 'string' ? 'empty' : `not a string (${JSON.stringify(row.text)})`}; remove the row or fill in its text.`,
      );
    }
    if (
      (typeof row.label !== 'string' && typeof row.label !== 'number') ||
      String(row.label).trim() === ''
    ) {
      throw new DataFormatError(
        path,
        `line ${row.line}: the label in column '${labelColumn}' is ${JSON.stringify(row.label) ?? 'missing'}; give every row a label (a string or a number).`,
      );
    }
    texts.push(row.text);
    labelNames.push(String(row.label).trim());
    sources.push(`${path}:${row.line}`);
  }
  const classNames = [...new Set(labelNames)].sort();
  if (classNames.length < 2) {
    throw new DataFormatError(
      path,
      `the label column '${labelColumn}' has one class ('${classNames[0]}') in all ${rows.length} rows; classification needs at least two classes. Check --label-column.`,
    );
  }
  const index = new Map(classNames.map((name, i) => [name, i]));
  const labels = Int32Array.from(labelNames, (name) => index.get(name) as number);
  return { name: path, texts, labels, classes: classNames.length, classNames, sources };
}
