import { ProtobufError, ProtobufReader, WireType } from './protobuf-reader.js';
import { invalid, limits, PieceType, type NormalizerSpec, type TokenizerSpec } from './spec.js';

/** What T5Tokenizer adds after the sentencepiece pieces: <extra_id_N> at id (pieces + extraIds - 1 - N). */
export interface SpieceOptions {
  extraIds: number;
  cleanUpTokenizationSpaces: boolean;
}

/**
 * Reads a sentencepiece ModelProto (sentencepiece_model.proto): pieces (1), trainer_spec (2), normalizer_spec (3).
 * Only unigram models with the normaliser features T5 uses are accepted; anything else is reported, not guessed.
 */
export function parseSpieceModel(bytes: Uint8Array, file: string, options: SpieceOptions): TokenizerSpec {
  try {
    return parse(bytes, file, options);
  } catch (e) {
    if (e instanceof ProtobufError) throw invalid(file, `is not a valid sentencepiece model: ${e.message}.`);
    throw e;
  }
}

interface Trainer {
  modelType: number;
  unkId: number;
  eosId: number;
  padId: number;
  byteFallback: boolean;
  treatWhitespaceAsSuffix: boolean;
}

/** The fields of a ModelProto that T5 uses, as read, before any check. */
interface ModelProto {
  pieces: string[];
  scores: number[];
  types: number[];
  trainer: Trainer;
  normalizer: NormalizerSpec | null;
}

function parse(bytes: Uint8Array, file: string, options: SpieceOptions): TokenizerSpec {
  if (bytes.length > limits.spieceModelBytes)
    throw invalid(file, `has ${bytes.length} bytes, more than the ${limits.spieceModelBytes} a sentencepiece model may have.`);
  const model = readModel(bytes, file);
  const normalizer = checkSupported(model, file);
  const { seen, unkId } = checkPieces(model, file);
  checkTrainerIds(model, unkId, file);
  const specialTokens = controlAndUnknownPieces(model);
  appendExtraIds(model, seen, specialTokens, options.extraIds, file);
  const { pieces, scores, types, trainer } = model;
  return {
    source: file,
    pieces,
    scores: Float64Array.from(scores),
    types: Uint8Array.from(types),
    unkId,
    eosId: trainer.eosId,
    padId: trainer.padId,
    specialTokens,
    normalizer,
    cleanUpTokenizationSpaces: options.cleanUpTokenizationSpaces,
  };
}

function readModel(bytes: Uint8Array, file: string): ModelProto {
  const model: ModelProto = { pieces: [], scores: [], types: [], trainer: defaultTrainer(), normalizer: null };
  let totalPieceBytes = 0;
  const r = new ProtobufReader(bytes);
  while (!r.done) {
    const [field, wire] = r.key();
    if (field === 1) {
      r.expect(WireType.bytes, wire, 'pieces');
      if (model.pieces.length >= limits.pieces) throw invalid(file, `has more than ${limits.pieces} pieces.`);
      const [s, e] = r.bytesRange();
      const p = readPiece(bytes, s, e);
      totalPieceBytes += e - s;
      if (totalPieceBytes > limits.totalPieceBytes) throw invalid(file, `its pieces exceed ${limits.totalPieceBytes} bytes in total.`);
      model.pieces.push(p.piece);
      model.scores.push(p.score);
      model.types.push(p.type);
    } else if (field === 2) {
      r.expect(WireType.bytes, wire, 'trainer_spec');
      const [s, e] = r.bytesRange();
      model.trainer = readTrainer(bytes, s, e);
    } else if (field === 3) {
      r.expect(WireType.bytes, wire, 'normalizer_spec');
      const [s, e] = r.bytesRange();
      model.normalizer = readNormalizer(bytes, s, e);
    } else {
      r.skip(wire);
    }
  }
  return model;
}

/** Rejects models whose kind or trainer options T5 tokenizers do not use; returns the normalizer, which must be present. */
function checkSupported(model: ModelProto, file: string): NormalizerSpec {
  const { trainer, normalizer } = model;
  if (model.pieces.length === 0) throw invalid(file, 'has no pieces; it is not a sentencepiece model.');
  if (trainer.modelType !== 1)
    throw invalid(file, `is a sentencepiece model of type ${trainer.modelType}; T5 needs a unigram model (type 1).`);
  if (trainer.byteFallback) throw invalid(file, 'uses byte fallback, which T5 tokenizers do not; it is not supported.');
  if (trainer.treatWhitespaceAsSuffix)
    throw invalid(file, 'treats whitespace as a suffix, which T5 tokenizers do not; it is not supported.');
  if (normalizer === null) throw invalid(file, 'has no normalizer_spec.');
  return normalizer;
}

/** Checks each piece's type and text; returns each piece's id and the id of the one unknown piece. */
function checkPieces(model: ModelProto, file: string): { seen: Map<string, number>; unkId: number } {
  const { pieces, types } = model;
  const seen = new Map<string, number>();
  const unkIds: number[] = [];
  for (let id = 0; id < pieces.length; id++) {
    const t = types[id];
    if (t === PieceType.userDefined || t === PieceType.byte || t < PieceType.normal || t > PieceType.byte) {
      throw invalid(
        file,
        `piece ${id} ${JSON.stringify(pieces[id])} has type ${t}; only normal, unknown, control and unused pieces are supported.`,
      );
    }
    if (pieces[id] === '') throw invalid(file, `piece ${id} is empty.`);
    if (seen.has(pieces[id]))
      throw invalid(file, `piece ${JSON.stringify(pieces[id])} appears twice (ids ${seen.get(pieces[id])} and ${id}).`);
    seen.set(pieces[id], id);
    if (t === PieceType.unknown) unkIds.push(id);
  }
  if (unkIds.length !== 1) throw invalid(file, `has ${unkIds.length} unknown pieces; exactly one is required.`);
  return { seen, unkId: unkIds[0] };
}

/** Checks that trainer_spec names the unknown piece as unk_id, and control pieces as eos_id and pad_id. */
function checkTrainerIds(model: ModelProto, unkId: number, file: string): void {
  const { trainer, pieces, types } = model;
  if (trainer.unkId !== unkId) throw invalid(file, `trainer_spec.unk_id is ${trainer.unkId} but the unknown piece is id ${unkId}.`);
  for (const [name, id] of [
    ['eos_id', trainer.eosId],
    ['pad_id', trainer.padId],
  ] as const) {
    if (!(id >= 0 && id < pieces.length && types[id] === PieceType.control)) {
      throw invalid(file, `trainer_spec.${name} is ${id}, which is not a control piece; T5 needs eos and pad.`);
    }
  }
}

function controlAndUnknownPieces(model: ModelProto): Map<string, number> {
  const { pieces, types } = model;
  const specialTokens = new Map<string, number>();
  for (let id = 0; id < pieces.length; id++) {
    if (types[id] === PieceType.control || types[id] === PieceType.unknown) specialTokens.set(pieces[id], id);
  }
  return specialTokens;
}

/** Appends T5Tokenizer's <extra_id_N> control pieces to the model and to `specialTokens`. */
function appendExtraIds(
  model: ModelProto,
  seen: Map<string, number>,
  specialTokens: Map<string, number>,
  extraIds: number,
  file: string,
): void {
  const { pieces, scores, types } = model;
  const base = pieces.length;
  for (let k = 0; k < extraIds; k++) {
    const n = extraIds - 1 - k;
    const literal = `<extra_id_${n}>`;
    if (seen.has(literal)) throw invalid(file, `already has a piece ${literal}, which T5Tokenizer adds itself.`);
    pieces.push(literal);
    scores.push(0);
    types.push(PieceType.control);
    specialTokens.set(literal, base + k);
  }
}

function readPiece(bytes: Uint8Array, start: number, end: number): { piece: string; score: number; type: number } {
  const r = new ProtobufReader(bytes, start, end);
  let piece: string | null = null;
  let score = 0;
  let type: number = PieceType.normal;
  while (!r.done) {
    const [field, wire] = r.key();
    if (field === 1) {
      r.expect(WireType.bytes, wire, 'piece');
      piece = r.string();
    } else if (field === 2) {
      r.expect(WireType.fixed32, wire, 'score');
      score = r.float();
      if (!Number.isFinite(score)) throw new ProtobufError(`piece ${JSON.stringify(piece)} has score ${score}`);
    } else if (field === 3) {
      r.expect(WireType.varint, wire, 'type');
      type = r.varint();
    } else {
      r.skip(wire);
    }
  }
  if (piece === null) throw new ProtobufError('a piece has no text');
  return { piece, score, type };
}

function defaultTrainer(): Trainer {
  return { modelType: 1, unkId: 0, eosId: 2, padId: -1, byteFallback: false, treatWhitespaceAsSuffix: false };
}

function readTrainer(bytes: Uint8Array, start: number, end: number): Trainer {
  const t = defaultTrainer();
  const r = new ProtobufReader(bytes, start, end);
  while (!r.done) {
    const [field, wire] = r.key();
    const varint = (name: string): number => {
      r.expect(WireType.varint, wire, name);
      return r.int32();
    };
    if (field === 3) t.modelType = varint('model_type');
    else if (field === 24) t.treatWhitespaceAsSuffix = varint('treat_whitespace_as_suffix') !== 0;
    else if (field === 35) t.byteFallback = varint('byte_fallback') !== 0;
    else if (field === 40) t.unkId = varint('unk_id');
    else if (field === 42) t.eosId = varint('eos_id');
    else if (field === 43) t.padId = varint('pad_id');
    else r.skip(wire);
  }
  return t;
}

function readNormalizer(bytes: Uint8Array, start: number, end: number): NormalizerSpec {
  const n: NormalizerSpec = { precompiledCharsmap: null, addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true };
  const r = new ProtobufReader(bytes, start, end);
  while (!r.done) {
    const [field, wire] = r.key();
    if (field === 2) {
      r.expect(WireType.bytes, wire, 'precompiled_charsmap');
      const cm = r.bytes();
      n.precompiledCharsmap = cm.length > 0 ? cm : null;
    } else if (field === 3 || field === 4 || field === 5) {
      r.expect(WireType.varint, wire, 'normalizer flag');
      const v = r.bool();
      if (field === 3) n.addDummyPrefix = v;
      else if (field === 4) n.removeExtraWhitespaces = v;
      else n.escapeWhitespaces = v;
    } else {
      r.skip(wire);
    }
  }
  return n;
}
