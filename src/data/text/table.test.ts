import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataFormatError } from '../errors.js';
import { loadLabeledTextFile, parseCsv } from './table.js';

const dir = mkdtempSync(join(tmpdir(), 'tfjs-sam-table-'));
function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

test('parseCsv: quotes, doubled quotes, commas and line breaks inside quotes, CRLF; line numbers', () => {
  const records = parseCsv('a,b\r\n"x, ""y""",1\n"two\nlines",2\n\nlast,3', 'f.csv');
  assert.deepEqual(records, [
    { line: 1, fields: ['a', 'b'] },
    { line: 2, fields: ['x, "y"', '1'] },
    { line: 3, fields: ['two\nlines', '2'] },
    { line: 6, fields: ['last', '3'] },
  ]);
  assert.throws(
    () => parseCsv('a\n"open', 'f.csv'),
    /f\.csv: line 2: a quoted field is never closed/,
  );
});

test('CSV and JSONL with named columns: classes sorted, sources name file and line', () => {
  const csv = file(
    'mail.csv',
    'id,body,kind\n1,hello there,ham\n2,"buy now, cheap",spam\n3,see you,ham\n',
  );
  const corpus = loadLabeledTextFile(csv, { textColumn: 'body', labelColumn: 'kind' });
  assert.deepEqual(corpus.texts, ['hello there', 'buy now, cheap', 'see you']);
  assert.deepEqual([...corpus.labels], [0, 1, 0]);
  assert.deepEqual(corpus.classNames, ['ham', 'spam']);
  assert.equal(corpus.sources?.[1], `${csv}:3`);
  const jsonl = file('mail.jsonl', '{"text":"a","label":1}\n\n{"text":"b","label":0}\n');
  assert.deepEqual([...loadLabeledTextFile(jsonl).labels], [1, 0]);
});

test('bad input: each error names the file, the line or flag and what to do', () => {
  const check = (path: string, pattern: RegExp, options = {}) =>
    assert.throws(
      () => loadLabeledTextFile(path, options),
      (e: Error) =>
        e instanceof DataFormatError && pattern.test(e.message) && e.message.includes(path),
    );
  check(
    file('nocol.csv', 'body,label\nx,1\n'),
    /line 1: no column 'text' .*'body', 'label'.*--text-column/,
  );
  check(file('nolabel.csv', 'text,y\nx,1\n'), /no column 'label'.*--label-column/);
  check(
    file('empty-text.csv', 'text,label\nfine,a\n  ,b\n'),
    /line 3: the text in column 'text' is empty/,
  );
  check(
    file('one-class.csv', 'text,label\nx,a\ny,a\n'),
    /one class \('a'\) in all 2 rows.*--label-column/,
  );
  check(
    file(
      'latin1.csv',
      Uint8Array.from([...Buffer.from('text,label\ncaf'), 0xe9, ...Buffer.from(',a\n')]),
    ),
    /line 2, column 4: byte 0xe9 is not UTF-8.*iconv/,
  );
  check(file('fields.csv', 'text,label\nx,a,extra\n'), /line 2: 3 fields where the header has 2/);
  check(file('bad.jsonl', '{"text":"x","label":"a"}\nnot json\n'), /line 2 is not JSON/);
  check(file('key.jsonl', '{"body":"x","label":"a"}\n'), /line 1: no key 'text'.*--text-column/);
  check(file('notes.txt', 'hello'), /unknown file type.*\.csv.*\.jsonl/);
  assert.throws(
    () => loadLabeledTextFile(join(dir, 'missing.csv')),
    /cannot read text file .*missing\.csv.*ENOENT/,
  );
});
