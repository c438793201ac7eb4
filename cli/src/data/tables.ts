/**
 * Tabular data: CSV (a header row is optional) and JSON Lines, one sample per row, feature columns
 * and a label column. Labels are class indices (integers ≥ 0) or class names (sorted into indices).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { DataFormatError } from 'tfjs-sam/data';
import type { LoadedData } from './types.js';

export interface TableOptions {
  /** The label column: a header name or a 0-based index; default `label`, else the last one. */
  labelColumn?: string;
}

/** Class indices of `labels`: integers as they are, names sorted alphabetically. */
export function classIndices(
  labels: readonly string[],
  where: (row: number) => string,
  file: string,
): { labels: Int32Array; classes: number; classNames?: string[] } {
  const numeric = labels.every((label) => /^\s*\d+\s*$/.test(label));
  if (numeric) {
    const values = Int32Array.from(labels, (label) => Number(label));
    return { labels: values, classes: values.reduce((max, v) => Math.max(max, v), -1) + 1 };
  }
  const empty = labels.findIndex((label) => label.trim() === '');
  if (empty >= 0) throw new DataFormatError(file, `${where(empty)}: the label is empty.`);
  const names = [...new Set(labels)].sort();
  const index = new Map(names.map((name, i) => [name, i]));
  return {
    labels: Int32Array.from(labels, (label) => index.get(label) as number),
    classes: names.length,
    classNames: names,
  };
}

function feature(text: string, file: string, where: string, column: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) {
    throw new DataFormatError(
      file,
      `${where}, column ${column}: '${text}' is not a number; feature columns hold numbers (the label may be a class name).`,
    );
  }
  return value;
}

export function loadCsv(file: string, options: TableOptions = {}): LoadedData {
  let rows: Array<{ record: string[]; info: { lines: number } }>;
  try {
    rows = parse(readFileSync(file, 'utf8'), {
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
    }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
  } catch (error) {
    throw new DataFormatError(file, `is not readable as CSV: ${(error as Error).message}`);
  }
  if (rows.length === 0) throw new DataFormatError(file, 'has no rows.');
  const first = rows[0]?.record as string[];
  const header = first.some((cell) => cell !== '' && !Number.isFinite(Number(cell)));
  const names = header ? first : first.map((_, i) => String(i));
  const body = header ? rows.slice(1) : rows;
  if (body.length === 0) throw new DataFormatError(file, 'has a header but no data rows.');
  const labelAt = labelColumn(names, options.labelColumn, file);
  const width = names.length;
  const features = width - 1;
  const values = new Float32Array(body.length * features);
  const labels: string[] = [];
  body.forEach(({ record, info }, row) => {
    const where = `line ${info.lines}`;
    if (record.length !== width) {
      throw new DataFormatError(
        file,
        `${where} has ${record.length} columns; expected ${width}, as the ${header ? 'header' : 'first row'} has (${features} features and the label).`,
      );
    }
    let k = 0;
    record.forEach((cell, column) => {
      if (column === labelAt) labels.push(cell);
      else values[row * features + k++] = feature(cell, file, where, names[column] as string);
    });
  });
  const lines = body.map(({ info }) => info.lines);
  const where = (index: number) => `${file} line ${lines[index]}`;
  const classes = classIndices(labels, (row) => `line ${lines[row]}`, file);
  return {
    dataset: {
      images: values,
      labels: classes.labels,
      shape: [1, 1, features],
      count: body.length,
      classes: classes.classes,
      ...(classes.classNames ? { classNames: classes.classNames } : {}),
    },
    where,
    source: file,
  };
}

function labelColumn(names: readonly string[], wanted: string | undefined, file: string): number {
  if (wanted === undefined) {
    const named = names.findIndex((name) => name.toLowerCase() === 'label');
    return named >= 0 ? named : names.length - 1;
  }
  const byName = names.indexOf(wanted);
  if (byName >= 0) return byName;
  const index = Number(wanted);
  if (Number.isInteger(index) && index >= 0 && index < names.length) return index;
  throw new DataFormatError(
    file,
    `has no column '${wanted}' for --label-column; its columns are ${names.join(', ')} (or give a 0-based index).`,
  );
}

function flatten(value: unknown, out: number[], shape: number[], depth: number): boolean {
  if (Array.isArray(value)) {
    if (shape.length <= depth) shape.push(value.length);
    else if (shape[depth] !== value.length) return false;
    return value.every((inner) => flatten(inner, out, shape, depth + 1));
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || shape.length !== depth) return false;
  out.push(value);
  return true;
}

export function loadJsonl(file: string, options: TableOptions = {}): LoadedData {
  const labelKey = options.labelColumn ?? 'label';
  const lines = readFileSync(file, 'utf8').split('\n');
  const values: number[] = [];
  const labels: string[] = [];
  const lineOf: number[] = [];
  let shape: number[] | null = null;
  let keys: string[] | null = null;
  lines.forEach((text, i) => {
    if (text.trim() === '') return;
    const where = `line ${i + 1}`;
    let row: Record<string, unknown>;
    try {
      row = JSON.parse(text) as Record<string, unknown>;
    } catch (error) {
      throw new DataFormatError(file, `${where} is not JSON: ${(error as Error).message}`);
    }
    if (row === null || typeof row !== 'object' || Array.isArray(row) || !(labelKey in row)) {
      throw new DataFormatError(
        file,
        `${where}: expected an object with '${labelKey}' and either 'features' (an array) or numeric fields, e.g. {"features": [0.1, 2], "label": 1}.`,
      );
    }
    labels.push(String(row[labelKey]));
    lineOf.push(i + 1);
    const own: number[] = [];
    const rowShape: number[] = [];
    if ('features' in row) {
      if (!flatten(row['features'], own, rowShape, 0) || rowShape.length === 0) {
        throw new DataFormatError(
          file,
          `${where}: 'features' must be an array of numbers (or of equal-length arrays of numbers).`,
        );
      }
    } else {
      keys ??= Object.keys(row).filter((key) => key !== labelKey);
      for (const key of keys) own.push(feature(String(row[key]), file, where, key));
      rowShape.push(keys.length);
    }
    shape ??= rowShape;
    if (rowShape.join('×') !== shape.join('×')) {
      throw new DataFormatError(
        file,
        `${where} has ${rowShape.join('×')} features; expected ${shape.join('×')}, as the first row has.`,
      );
    }
    values.push(...own);
  });
  if (shape === null) throw new DataFormatError(file, 'has no rows.');
  const dims: number[] = shape;
  const classes = classIndices(labels, (row) => `line ${lineOf[row]}`, file);
  const size = dims.reduce((a, b) => a * b, 1);
  return {
    dataset: {
      images: Float32Array.from(values),
      labels: classes.labels,
      shape: imageShape(dims),
      count: values.length / size,
      classes: classes.classes,
      ...(classes.classNames ? { classNames: classes.classNames } : {}),
    },
    where: (index) => `${file} line ${lineOf[index]}`,
    source: file,
  };
}

/** A sample's dimensions as the [height, width, channels] of the data sets. */
export function imageShape(dims: readonly number[]): [number, number, number] {
  if (dims.length === 1) return [1, 1, dims[0] as number];
  if (dims.length === 2) return [dims[0] as number, dims[1] as number, 1];
  return [dims[0] as number, dims[1] as number, dims.slice(2).reduce((a, b) => a * b, 1)];
}
