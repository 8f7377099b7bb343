import { SproutError } from '../errors.js';

/** The T5 hyper-parameters Sprout needs, read from a Hugging Face config.json. */
export interface T5Config {
  modelType: 't5';
  vocabSize: number;
  dModel: number;
  dKv: number;
  numHeads: number;
  dFf: number;
  numLayers: number;
  numDecoderLayers: number;
  relativeAttentionNumBuckets: number;
  relativeAttentionMaxDistance: number;
  layerNormEpsilon: number;
  /** 'relu': original T5 (wi, relu). 'gated-gelu': T5 v1.1 / LM-adapted / Flan (wi_0, wi_1, gelu_new). */
  feedForward: 'relu' | 'gated-gelu';
  tieWordEmbeddings: boolean;
  padTokenId: number;
  eosTokenId: number;
  decoderStartTokenId: number;
}

/**
 * Caps far above any real T5 (t5-11b: d_model 1024, d_ff 65536, 128 heads, 24 layers) but low enough that
 * a corrupt or hostile config cannot make later code allocate absurd amounts of memory.
 */
const LIMITS = {
  vocab_size: 1 << 22,
  d_model: 1 << 16,
  d_kv: 1 << 14,
  num_heads: 1 << 10,
  d_ff: 1 << 18,
  num_layers: 1 << 10,
  num_decoder_layers: 1 << 10,
  relative_attention_num_buckets: 1 << 12,
  relative_attention_max_distance: 1 << 20,
} as const;

type Json = Record<string, unknown>;

function fail(file: string, message: string, hint = 'Check that the folder holds a Hugging Face T5 config.json.'): never {
  throw new SproutError('bad-model-config', message, { file, hint });
}

function positiveInt(json: Json, key: keyof typeof LIMITS, file: string, fallback?: number): number {
  const value = json[key] ?? fallback;
  if (value === undefined) fail(file, `"${key}" is missing.`);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > LIMITS[key]) {
    fail(file, `"${key}" must be a whole number from 1 to ${LIMITS[key]}, but it is ${JSON.stringify(value)}.`);
  }
  return value;
}

function tokenId(json: Json, key: string, file: string, fallback: number, vocabSize: number): number {
  const value = json[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= vocabSize) {
    fail(file, `"${key}" must be a token id from 0 to ${vocabSize - 1}, but it is ${JSON.stringify(value)}.`);
  }
  return value;
}

/**
 * HF's T5Config derives the activation from feed_forward_proj ("relu", "gated-gelu", "gated-silu", ...);
 * "gated-gelu" is special-cased to gelu_new. Newer configs also store dense_act_fn / is_gated_act, which
 * HF applies after that derivation, so they win when present. Sprout implements relu and gated gelu_new.
 */
function feedForward(json: Json, file: string): T5Config['feedForward'] {
  const proj = json.feed_forward_proj ?? 'relu';
  if (typeof proj !== 'string') fail(file, `"feed_forward_proj" must be a string, but it is ${JSON.stringify(proj)}.`);
  const parts = proj.split('-');
  if ((parts.length > 1 && parts[0] !== 'gated') || parts.length > 2) {
    fail(file, `"feed_forward_proj" is "${proj}", which is not a valid T5 activation (expected e.g. "relu" or "gated-gelu").`);
  }
  let gated = parts[0] === 'gated';
  let act = proj === 'gated-gelu' ? 'gelu_new' : parts[parts.length - 1];
  if (json.is_gated_act !== undefined) {
    if (typeof json.is_gated_act !== 'boolean') fail(file, `"is_gated_act" must be true or false.`);
    gated = json.is_gated_act;
  }
  if (json.dense_act_fn !== undefined) {
    if (typeof json.dense_act_fn !== 'string') fail(file, `"dense_act_fn" must be a string.`);
    act = json.dense_act_fn;
  }
  if (!gated && act === 'relu') return 'relu';
  if (gated && act === 'gelu_new') return 'gated-gelu';
  return fail(
    file,
    `The feed-forward activation ${gated ? 'gated ' : ''}"${act}" is not supported (feed_forward_proj ${JSON.stringify(proj)}` +
      `, dense_act_fn ${JSON.stringify(json.dense_act_fn ?? null)}, is_gated_act ${JSON.stringify(json.is_gated_act ?? null)}).`,
    'Sprout supports T5 models with "relu" (t5-small/base/large) or "gated-gelu" (T5 v1.1, LM-adapted, Flan-T5).',
  );
}

/** Validates a parsed Hugging Face config.json; `file` is only used in messages. */
export function parseT5Config(json: unknown, file: string): T5Config {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(file, 'config.json must hold a JSON object.');
  const c = json as Json;
  const modelType = c.model_type;
  if (modelType === 'mt5' || modelType === 'umt5' || modelType === 'longt5' || modelType === 'byt5') {
    fail(
      file,
      `model_type "${modelType}" is not supported yet.`,
      'Sprout supports T5 checkpoints (model_type "t5"): t5-*, google/t5-v1_1-*, google/t5-*-lm-adapt, google/flan-t5-*.',
    );
  }
  if (modelType !== 't5') {
    fail(
      file,
      `model_type is ${JSON.stringify(modelType)}, not "t5".`,
      'Sprout works with T5 checkpoints only (t5-*, google/t5-v1_1-*, google/flan-t5-*).',
    );
  }
  const vocabSize = positiveInt(c, 'vocab_size', file, 32128);
  const numLayers = positiveInt(c, 'num_layers', file, 6);
  const eps = c.layer_norm_epsilon ?? 1e-6;
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps <= 0 || eps >= 1) {
    fail(file, `"layer_norm_epsilon" must be a number between 0 and 1, but it is ${JSON.stringify(eps)}.`);
  }
  const tie = c.tie_word_embeddings ?? true;
  if (typeof tie !== 'boolean') fail(file, `"tie_word_embeddings" must be true or false, but it is ${JSON.stringify(tie)}.`);
  const padTokenId = tokenId(c, 'pad_token_id', file, 0, vocabSize);
  return {
    modelType: 't5',
    vocabSize,
    dModel: positiveInt(c, 'd_model', file, 512),
    dKv: positiveInt(c, 'd_kv', file, 64),
    numHeads: positiveInt(c, 'num_heads', file, 8),
    dFf: positiveInt(c, 'd_ff', file, 2048),
    numLayers,
    numDecoderLayers: positiveInt(c, 'num_decoder_layers', file, numLayers),
    relativeAttentionNumBuckets: positiveInt(c, 'relative_attention_num_buckets', file, 32),
    relativeAttentionMaxDistance: positiveInt(c, 'relative_attention_max_distance', file, 128),
    layerNormEpsilon: eps,
    feedForward: feedForward(c, file),
    tieWordEmbeddings: tie,
    padTokenId,
    eosTokenId: tokenId(c, 'eos_token_id', file, 1, vocabSize),
    // HF T5 starts decoding from the pad token when the config does not say otherwise.
    decoderStartTokenId: tokenId(c, 'decoder_start_token_id', file, padTokenId, vocabSize),
  };
}

/** The config.json Hugging Face's T5Config.to_json_file would write for `config`. */
export function t5ConfigToJson(config: T5Config): Record<string, unknown> {
  const gated = config.feedForward === 'gated-gelu';
  return {
    architectures: ['T5ForConditionalGeneration'],
    d_ff: config.dFf,
    d_kv: config.dKv,
    d_model: config.dModel,
    decoder_start_token_id: config.decoderStartTokenId,
    dense_act_fn: gated ? 'gelu_new' : 'relu',
    dropout_rate: 0.1,
    eos_token_id: config.eosTokenId,
    feed_forward_proj: config.feedForward,
    initializer_factor: 1.0,
    is_encoder_decoder: true,
    is_gated_act: gated,
    layer_norm_epsilon: config.layerNormEpsilon,
    model_type: 't5',
    num_decoder_layers: config.numDecoderLayers,
    num_heads: config.numHeads,
    num_layers: config.numLayers,
    pad_token_id: config.padTokenId,
    relative_attention_max_distance: config.relativeAttentionMaxDistance,
    relative_attention_num_buckets: config.relativeAttentionNumBuckets,
    tie_word_embeddings: config.tieWordEmbeddings,
    torch_dtype: 'float32',
    use_cache: true,
    vocab_size: config.vocabSize,
  };
}
