import { PieceTrie } from './piece-trie.js';
import { PieceType, type TokenizerSpec } from './spec.js';
import { utf8CharLength } from './normalizer.js';

/** Sentencepiece's penalty below the lowest piece score for a character no piece covers. */
const unkPenalty = 10;

/**
 * Unigram segmentation of normalised UTF-8 by Viterbi over the piece lattice, as sentencepiece's
 * unigram_model.cc (Model::EncodeOptimized, which Encode uses): ties go to the path found first (earliest start),
 * a character with no single-character piece becomes an unknown node scored min_score - 10, and runs of unknowns are
 * merged into one unk id.
 *
 * It follows sentencepiece's arithmetic too, as near-ties occur ("xx"+"x" against "x"+"xx", runs of "zz"): scores
 * and best path scores are float32; a piece's candidate is added and compared in double (the user-defined-symbol
 * branch makes the score a double there) and only rounded to float32 when it is kept, while an unknown's candidate is
 * a float32 sum.
 * Plain float64 (Hugging Face's fast tokenizer) or plain float32 picks another path in 5 or 1 of SST-2's 67,349
 * training sentences; Sprout follows sentencepiece, i.e. T5Tokenizer, whichever tokenizer file it reads.
 */
export class UnigramModel {
  private readonly trie: PieceTrie;
  private readonly scores: Float32Array;
  private readonly unkId: number;
  private readonly unkScore: number;
  // Per byte position of the current text: best path score ending there (float32, as sentencepiece keeps it), where
  // that last piece starts, its id.
  private best = new Float32Array(256);
  private from = new Int32Array(256);
  private via = new Int32Array(256);

  constructor(spec: TokenizerSpec) {
    const encoder = new TextEncoder();
    const spellings: Uint8Array[] = [];
    const ids: number[] = [];
    let minScore = Infinity;
    for (let id = 0; id < spec.pieces.length; id++) {
      if (spec.types[id] !== PieceType.normal || spec.pieces[id] === '') continue;
      spellings.push(encoder.encode(spec.pieces[id]));
      ids.push(id);
      minScore = Math.min(minScore, spec.scores[id]);
    }
    this.trie = new PieceTrie(spellings, ids);
    // tokenizer.json prints spiece.model's float32 scores as float64: rounding gives them back exactly.
    this.scores = Float32Array.from(spec.scores);
    this.unkId = spec.unkId;
    this.unkScore = Math.fround((minScore === Infinity ? 0 : Math.fround(minScore)) - unkPenalty);
  }

  /** Appends the ids of text[0, n) (normalised UTF-8) to `out`. */
  encode(text: Uint8Array, n: number, out: number[]): void {
    if (n === 0) return;
    if (this.best.length < n + 1) {
      const size = Math.max(n + 1, this.best.length * 2);
      this.best = new Float32Array(size);
      this.from = new Int32Array(size);
      this.via = new Int32Array(size);
    }
    const { best, from, via, trie, scores } = this;
    const terminal = trie.terminal;
    best.fill(-Infinity, 1, n + 1);
    best[0] = 0;
    for (let i = 0; i < n; i++) {
      if ((text[i] & 0xc0) === 0x80) continue;
      const base = best[i];
      // Normalised text is well-formed UTF-8; a malformed byte (impossible from the normaliser) counts as one char.
      const charEnd = i + (utf8CharLength(text, i, n) || 1);
      let hasSingle = false;
      let node = 0;
      for (let j = i; j < n; j++) {
        node = trie.child(node, text[j]);
        if (node < 0) break;
        const id = terminal[node];
        if (id < 0) continue;
        // Compared unrounded; storing it in the Float32Array rounds it as sentencepiece's store to float does.
        const s = base + scores[id];
        if (s > best[j + 1]) {
          best[j + 1] = s;
          from[j + 1] = i;
          via[j + 1] = id;
        }
        if (j + 1 === charEnd) hasSingle = true;
      }
      if (!hasSingle) {
        const s = Math.fround(base + this.unkScore); // float + float there
        if (s > best[charEnd]) {
          best[charEnd] = s;
          from[charEnd] = i;
          via[charEnd] = this.unkId;
        }
      }
    }
    const start = out.length;
    let prevUnk = false;
    for (let pos = n; pos > 0; pos = from[pos]) {
      const id = via[pos];
      const unk = id === this.unkId;
      if (!(unk && prevUnk)) out.push(id);
      prevUnk = unk;
    }
    reverseTail(out, start);
  }
}

function reverseTail(a: number[], start: number): void {
  for (let i = start, j = a.length - 1; i < j; i++, j--) {
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}
