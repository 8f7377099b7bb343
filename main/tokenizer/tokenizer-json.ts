import { invalid, limits, PieceType, type NormalizerSpec, type TokenizerSpec } from './spec.js';

type Json = unknown;

/**
 * Reads a Hugging Face fast-tokenizer file for a T5-style unigram tokenizer: model Unigram, normalizer Precompiled,
 * pre-tokenizer WhitespaceSplit + Metaspace (or Metaspace alone), added tokens split out of the text.
 * It is reduced to the sentencepiece settings it stands for, so both file formats encode identically.
 */
export function parseTokenizerJson(text: string, file: string, cleanUpTokenizationSpaces: boolean): TokenizerSpec {
  let root: Json;
  try {
    root = JSON.parse(text);
  } catch (e) {
    throw invalid(file, `is not valid JSON (${(e as Error).message}).`);
  }
  const fail = (what: string) => invalid(file, what);
  if (!isObject(root)) throw fail('must hold a JSON object.');
  const model = root.model;
  if (!isObject(model)) throw fail('has no "model" object.');
  if (model.type !== 'Unigram') throw fail(`has model type ${JSON.stringify(model.type)}; T5 needs "Unigram".`);
  if (model.byte_fallback !== undefined && model.byte_fallback !== false)
    throw fail('uses byte_fallback, which T5 tokenizers do not; it is not supported.');
  const { pieces, scores } = readVocab(model.vocab, fail);
  const unkId = model.unk_id;
  if (!isIndex(unkId, pieces.length)) throw fail(`"model.unk_id" must be an id from 0 to ${pieces.length - 1}.`);
  const specialTokens = readAddedTokens(root.added_tokens ?? [], pieces, fail);
  const types = new Uint8Array(pieces.length).fill(PieceType.normal);
  for (const id of specialTokens.values()) types[id] = PieceType.control;
  types[unkId] = PieceType.unknown;
  const eosId = specialTokens.get('</s>');
  const padId = specialTokens.get('<pad>');
  if (eosId === undefined || padId === undefined) throw fail('must list "</s>" and "<pad>" in "added_tokens", as T5 tokenizers do.');

  return {
    source: file,
    pieces,
    scores,
    types,
    unkId,
    eosId,
    padId,
    specialTokens,
    normalizer: { precompiledCharsmap: readNormalizer(root.normalizer, fail), ...readPreTokenizer(root.pre_tokenizer, fail) },
    cleanUpTokenizationSpaces,
  };
}

function readVocab(vocab: Json, fail: (what: string) => Error): { pieces: string[]; scores: Float64Array } {
  if (!Array.isArray(vocab) || vocab.length === 0) throw fail('"model.vocab" must be a non-empty array of [piece, score] pairs.');
  if (vocab.length > limits.pieces) throw fail(`"model.vocab" has ${vocab.length} entries, more than ${limits.pieces}.`);
  const pieces: string[] = new Array<string>(vocab.length);
  const scores = new Float64Array(vocab.length);
  const ids = new Map<string, number>();
  let totalPieceBytes = 0;
  for (let id = 0; id < vocab.length; id++) {
    const entry: Json = vocab[id];
    if (
      !Array.isArray(entry) ||
      entry.length !== 2 ||
      typeof entry[0] !== 'string' ||
      typeof entry[1] !== 'number' ||
      !Number.isFinite(entry[1])
    ) {
      throw fail(`"model.vocab[${id}]" must be a [piece, finite score] pair.`);
    }
    const piece: string = entry[0];
    if (piece === '') throw fail(`"model.vocab[${id}]" is an empty piece.`);
    if (ids.has(piece)) throw fail(`piece ${JSON.stringify(piece)} appears twice in "model.vocab" (ids ${ids.get(piece)} and ${id}).`);
    totalPieceBytes += Buffer.byteLength(piece);
    if (totalPieceBytes > limits.totalPieceBytes) throw fail(`its pieces exceed ${limits.totalPieceBytes} bytes in total.`);
    ids.set(piece, id);
    pieces[id] = piece;
    scores[id] = entry[1];
  }
  return { pieces, scores };
}

/** The added tokens, content → id; each must be the vocabulary piece of its id. */
function readAddedTokens(addedTokens: Json, pieces: readonly string[], fail: (what: string) => Error): Map<string, number> {
  if (!Array.isArray(addedTokens)) throw fail('"added_tokens" must be an array.');
  const specialTokens = new Map<string, number>();
  addedTokens.forEach((t: Json, k: number) => {
    if (!isObject(t) || !isIndex(t.id, pieces.length) || typeof t.content !== 'string' || t.content === '') {
      throw fail(`"added_tokens[${k}]" must have an "id" within the vocabulary and a non-empty "content".`);
    }
    if (pieces[t.id] !== t.content)
      throw fail(
        `"added_tokens[${k}]" ${JSON.stringify(t.content)} has id ${t.id}, but that vocabulary piece is ${JSON.stringify(pieces[t.id])}.`,
      );
    if (t.normalized === true)
      throw fail(
        `"added_tokens[${k}]" ${JSON.stringify(t.content)} is matched after normalisation, which T5 tokenizers do not do; it is not supported.`,
      );
    specialTokens.set(t.content, t.id);
  });
  return specialTokens;
}

function readNormalizer(n: Json, fail: (what: string) => Error): Uint8Array | null {
  if (n === null || n === undefined) return null;
  if (isObject(n) && n.type === 'Sequence' && Array.isArray(n.normalizers) && n.normalizers.length === 1)
    return readNormalizer(n.normalizers[0], fail);
  if (!isObject(n) || n.type !== 'Precompiled')
    throw fail(`has normalizer ${JSON.stringify(isObject(n) ? n.type : n)}; only "Precompiled" (sentencepiece's charsmap) is supported.`);
  const b64 = n.precompiled_charsmap;
  if (b64 === null) return null;
  if (typeof b64 !== 'string' || b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) {
    throw fail('"normalizer.precompiled_charsmap" must be a base64 string.');
  }
  if ((b64.length / 4) * 3 > limits.charsmapBytes)
    throw fail(`"normalizer.precompiled_charsmap" is larger than ${limits.charsmapBytes} bytes.`);
  const bytes = new Uint8Array(Buffer.from(b64, 'base64'));
  return bytes.length > 0 ? bytes : null;
}

type Whitespace = Omit<NormalizerSpec, 'precompiledCharsmap'>;

function readPreTokenizer(p: Json, fail: (what: string) => Error): Whitespace {
  const unsupported = () =>
    fail(
      `has pre_tokenizer ${JSON.stringify(p)?.slice(0, 200)}; T5 tokenizers use WhitespaceSplit followed by Metaspace, or Metaspace alone.`,
    );
  if (!isObject(p)) throw unsupported();
  if (p.type === 'Metaspace') return { removeExtraWhitespaces: false, ...readMetaspace(p, unsupported) };
  if (p.type !== 'Sequence' || !Array.isArray(p.pretokenizers) || p.pretokenizers.length !== 2) throw unsupported();
  const [split, meta] = p.pretokenizers as Json[];
  if (!isObject(split) || split.type !== 'WhitespaceSplit' || !isObject(meta) || meta.type !== 'Metaspace') throw unsupported();
  return { removeExtraWhitespaces: true, ...readMetaspace(meta, unsupported) };
}

function readMetaspace(m: Record<string, Json>, unsupported: () => Error): Omit<Whitespace, 'removeExtraWhitespaces'> {
  if (m.replacement !== '\u2581') throw unsupported();
  // Older files say add_prefix_space, newer ones prepend_scheme; "first" is the non-legacy behaviour, not T5's.
  const scheme = m.prepend_scheme ?? (m.add_prefix_space === false ? 'never' : 'always');
  if (scheme !== 'always' && scheme !== 'never') throw unsupported();
  return { addDummyPrefix: scheme === 'always', escapeWhitespaces: true };
}

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isIndex(v: Json, n: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < n;
}
