/**
 * Text data, before and after tokenization. Raw corpora hold strings; encoded datasets hold token
 * ids in one flat Int32Array, one fixed-length row per example, padded with the tokenizer's pad id.
 */

/** Labelled texts for classification, as read from a corpus or a user's file. */
export interface TextClassificationCorpus {
  name: string;
  texts: string[];
  /** One class index in `0..classes-1` per text. */
  labels: Int32Array;
  classes: number;
  classNames: readonly string[];
  /** Where each text came from (file and line, or file name), for error messages. */
  sources?: readonly string[];
}

/** A document of a language-modelling corpus (an address, a file). */
export interface TextDocument {
  id: string;
  text: string;
}

export interface LanguageCorpus {
  name: string;
  documents: TextDocument[];
}

/** Token-id sequences with one class each: the input of text classifiers. */
export interface TokenDataset {
  kind: 'tokens';
  /** `count × seqLength` ids, row-major; rows shorter than seqLength end in pad ids. */
  tokens: Int32Array;
  seqLength: number;
  count: number;
  labels: Int32Array;
  classes: number;
  classNames?: readonly string[];
  /** Ids lie in [0, vocabSize). */
  vocabSize: number;
}

/**
 * Windows of a token stream for next-token prediction: row r holds `seqLength + 1` ids; the model
 * reads the first `seqLength` and predicts each following one.
 */
export interface NextTokenDataset {
  kind: 'next-token';
  /** `count × (seqLength + 1)` ids, row-major. */
  tokens: Int32Array;
  seqLength: number;
  count: number;
  vocabSize: number;
}

export type TextDataset = TokenDataset | NextTokenDataset;
