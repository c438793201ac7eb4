/**
 * `tfjs-sam/text`: text data for training — the SpamAssassin and State of the Union corpora (npm
 * packages looked up at run time), the user's CSV/JSONL files and text folders, word-level and
 * byte-pair-encoding tokenizers fitted on a training split, the preparation of a named text
 * dataset (splits, subsets, label noise, encoding) and the tensors of encoded examples.
 */
export type {
  LanguageCorpus,
  NextTokenDataset,
  TextClassificationCorpus,
  TextDataset,
  TextDocument,
  TokenDataset,
} from './types.js';
export {
  loadSotu,
  loadSotuAddresses,
  loadSpamAssassin,
  loadTextFolder,
  SOTU_PACKAGE,
  SPAM_ASSASSIN_PACKAGE,
  type CorpusOptions,
  type SotuAddress,
} from './corpora.js';
export { htmlToText, mailText, parseMail, type MailText } from './mail.js';
export {
  loadLabeledTextFile,
  parseCsv,
  type LabeledTextOptions,
  type TableRecord,
} from './table.js';
export {
  END_ID,
  PAD_ID,
  splitWords,
  Tokenizer,
  TOKENIZER_KINDS,
  TokenizerError,
  UNKNOWN_ID,
  type TokenizerJSON,
  type TokenizerKind,
  type TokenizerOptions,
} from './tokenizer.js';
export { WordTokenizer } from './word-tokenizer.js';
export { BpeTokenizer } from './bpe-tokenizer.js';
export { fitTokenizer, tokenizerFromJSON } from './tokenizers.js';
export {
  encodeTexts,
  encodeWindows,
  isTextDatasetName,
  prepareTextData,
  TEXT_DATASETS,
  TextDataError,
  textTask,
  type PreparedTextData,
  type TextDataOptions,
  type TextTask,
} from './prepare.js';
export { tokensToTensor, windowsToTensors } from './tensors.js';
