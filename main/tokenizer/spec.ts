import { SproutError } from '../errors.js';

/** How a piece takes part in encoding; the numbers are sentencepiece's ModelProto.SentencePiece.Type. */
export const PieceType = {
  normal: 1,
  unknown: 2,
  control: 3,
  userDefined: 4,
  unused: 5,
  byte: 6,
} as const;
export type PieceType = (typeof PieceType)[keyof typeof PieceType];

/** Sentencepiece's normaliser settings; both file formats are reduced to these. */
export interface NormalizerSpec {
  /** Raw darts-clone trie + normalised strings blob, or null for identity. */
  precompiledCharsmap: Uint8Array | null;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
}

/**
 * Everything a unigram tokenizer needs, independent of the file it came from.
 * `specialTokens` are the literals split out of the text before normalisation (HF's added tokens).
 */
export interface TokenizerSpec {
  source: string;
  pieces: string[];
  scores: Float64Array;
  types: Uint8Array;
  unkId: number;
  eosId: number;
  padId: number;
  specialTokens: Map<string, number>;
  normalizer: NormalizerSpec;
  cleanUpTokenizationSpaces: boolean;
}

/** Upper bounds checked before reading or allocating, so that a lying length cannot exhaust memory. */
export const limits = {
  spieceModelBytes: 64 * 1024 * 1024,
  tokenizerJsonBytes: 256 * 1024 * 1024,
  pieces: 1_000_000,
  /** Keeps the piece trie's node * 256 + byte keys within int32. */
  totalPieceBytes: 8_000_000,
  charsmapBytes: 32 * 1024 * 1024,
} as const;

export function invalid(file: string, what: string): SproutError {
  return new SproutError('tokenizer-invalid', what, {
    file,
    hint: 'Use the tokenizer files of a T5 checkpoint as Hugging Face publishes them (tokenizer.json or spiece.model).',
  });
}
