import { Charsmap } from './charsmap.js';
import { Normalizer } from './normalizer.js';
import { SpecialTokenSplitter } from './special-tokens.js';
import type { TokenizerSpec } from './spec.js';
import { UnigramModel } from './unigram.js';

export interface EncodeBatchResult {
  ids: number[][];
  /** How many texts were longer than maxLength and cut (their eos kept). */
  truncated: number;
}

/**
 * Cuts encoded ids (ending in eos) to maxLength in place, as transformers' truncation=True does: the first
 * maxLength - 1 ids and the eos. True when it cut. Training, labelling and evaluation all cut inputs by this rule.
 */
export function truncateIds(ids: number[], maxLength: number, eos: number): boolean {
  if (ids.length <= maxLength) return false;
  ids.length = maxLength;
  ids[maxLength - 1] = eos;
  return true;
}

/**
 * T5's tokenizer as Hugging Face's T5Tokenizer (legacy) and tokenizer.json behave: special-token literals are split
 * out first, every other stretch is normalised and segmented by sentencepiece's unigram model on its own (so it gets
 * its own dummy "▁" prefix), and eos is appended. Where two segmentations score alike to the last float bit, it
 * segments as sentencepiece (T5Tokenizer) does, not as the fast tokenizer (see UnigramModel).
 */
export class T5Tokenizer {
  readonly vocabSize: number;
  readonly eosId: number;
  readonly padId: number;
  readonly unkId: number;
  /** The file the tokenizer was read from. */
  readonly source: string;

  private readonly spec: TokenizerSpec;
  private readonly normalizer: Normalizer;
  private readonly model: UnigramModel;
  private readonly splitter: SpecialTokenSplitter;
  private readonly specialIds: Set<number>;
  private readonly encoder = new TextEncoder();
  private utf8 = new Uint8Array(1024);
  private ids = new Map<string, number>();

  /** Throws SproutError('tokenizer-invalid') if the spec's charsmap is malformed. */
  constructor(spec: TokenizerSpec) {
    this.spec = spec;
    this.vocabSize = spec.pieces.length;
    this.eosId = spec.eosId;
    this.padId = spec.padId;
    this.unkId = spec.unkId;
    this.source = spec.source;
    const cm = spec.normalizer.precompiledCharsmap;
    this.normalizer = new Normalizer(spec.normalizer, cm === null ? null : Charsmap.parse(cm, spec.source));
    this.model = new UnigramModel(spec);
    this.splitter = new SpecialTokenSplitter(spec.specialTokens);
    this.specialIds = new Set(spec.specialTokens.values());
  }

  /** Token ids of `text`, ending with eos. */
  encode(text: string): number[] {
    const out: number[] = [];
    this.splitter.split(
      text,
      (start, end) => this.encodePlain(start === 0 && end === text.length ? text : text.slice(start, end), out),
      (id) => out.push(id),
    );
    out.push(this.eosId);
    return out;
  }

  /** Encodes every text; with maxLength, longer ones keep their first maxLength - 1 ids and the eos (HF truncation=True). */
  encodeBatch(texts: readonly string[], options: { maxLength?: number } = {}): EncodeBatchResult {
    const { maxLength } = options;
    if (maxLength !== undefined && !(Number.isInteger(maxLength) && maxLength >= 1)) {
      throw new RangeError(`maxLength must be a positive integer, got ${maxLength}`);
    }
    let truncated = 0;
    const ids = texts.map((t) => {
      const e = this.encode(t);
      if (maxLength !== undefined && truncateIds(e, maxLength, this.eosId)) truncated++;
      return e;
    });
    return { ids, truncated };
  }

  /**
   * Text of `ids` as transformers 4.35's slow T5Tokenizer.decode: <extra_id_N> tokens stand apart (joined with
   * spaces), other special tokens are written out unless skipped, and tokenisation spaces are cleaned up when the
   * tokenizer config asks for it. Ids outside the vocabulary (a model's padding rows) decode to nothing.
   */
  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    const skip = options.skipSpecialTokens ?? false;
    const parts: string[] = [];
    let run: number[] = [];
    const flush = () => {
      if (run.length === 0) return;
      const s = this.decodeRun(run);
      run = [];
      if (s.length > 0) parts.push(s);
    };
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) continue;
      const special = this.specialIds.has(id);
      if (special && skip) continue;
      if (special && id !== this.padId && id !== this.eosId && id !== this.unkId) {
        flush();
        parts.push(this.spec.pieces[id]);
      } else {
        run.push(id);
      }
    }
    if (run.length > 0) parts.push(this.decodeRun(run));
    const text = parts.join(' ');
    return this.spec.cleanUpTokenizationSpaces ? cleanUpTokenization(text) : text;
  }

  idToPiece(id: number): string | undefined {
    return Number.isInteger(id) && id >= 0 && id < this.vocabSize ? this.spec.pieces[id] : undefined;
  }

  pieceToId(piece: string): number | undefined {
    if (this.ids.size === 0) this.ids = new Map(this.spec.pieces.map((p, i) => [p, i]));
    return this.ids.get(piece);
  }

  private encodePlain(text: string, out: number[]): void {
    if (this.utf8.length < text.length * 3) this.utf8 = new Uint8Array(Math.max(text.length * 3, this.utf8.length * 2));
    const { written } = this.encoder.encodeInto(text, this.utf8);
    const n = this.normalizer.normalize(this.utf8, written);
    this.model.encode(this.normalizer.out, n, out);
  }

  /** T5Tokenizer.convert_tokens_to_string: pad/eos/unk written literally between sentencepiece-decoded stretches. */
  private decodeRun(ids: number[]): string {
    const pieces = this.spec.pieces;
    let out = '';
    let prevSpecial = false;
    let sub: string[] = [];
    ids.forEach((id, k) => {
      const piece = k === 0 && pieces[id].startsWith('\u2581') ? pieces[id].slice(1) : pieces[id];
      if (this.specialIds.has(id)) {
        if (!prevSpecial) out += ' ';
        out += this.sentencepieceDecode(sub) + piece;
        prevSpecial = true;
        sub = [];
      } else {
        sub.push(piece);
        prevSpecial = false;
      }
    });
    out += this.sentencepieceDecode(sub);
    return out.trim();
  }

  /**
   * Sentencepiece's DecodePieces for non-special pieces: "▁" becomes a space, except a leading one of the text
   * (which the normaliser added). Special pieces never reach it: decodeRun writes them out itself.
   */
  private sentencepieceDecode(pieces: string[]): string {
    const { addDummyPrefix, removeExtraWhitespaces } = this.spec.normalizer;
    let text = '';
    for (const p of pieces) {
      const piece = text.length === 0 && (addDummyPrefix || removeExtraWhitespaces) && p.startsWith('\u2581') ? p.slice(1) : p;
      text += piece.replaceAll('\u2581', ' ');
    }
    return text;
  }
}

function cleanUpTokenization(s: string): string {
  return s
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}
