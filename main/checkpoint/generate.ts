import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../random.js';
import { parseT5Config, t5ConfigToJson, type T5Config } from './config.js';
import type { T5Family } from './families.js';
import { expectedTensors } from './layout.js';
import { DTYPE_BYTES, writeSafetensorsStreamed } from './safetensors.js';
import { indexName, shardName, splitIntoShards, WEIGHTS_NAME, writeShardIndex, type WeightFormat } from './shards.js';
import { toHalf } from './to-half.js';
import { STORAGE_TYPES, writeTorchSave } from './torch-save.js';

export type GeneratedDtype = 'F32' | 'F16' | 'BF16';

/** Architecture sizes a test may shrink (the family's own values otherwise). */
export type ShapeOverrides = Partial<
  Pick<T5Config, 'numLayers' | 'numDecoderLayers' | 'dModel' | 'dFf' | 'numHeads' | 'dKv' | 'vocabSize'>
>;

export interface GenerateOptions {
  /** The family whose config.json and weight layout are written (see families.ts)… */
  family?: T5Family;
  /** …or a complete config (with the family's layout rules: one file unless shardBytes says otherwise). */
  config?: T5Config;
  shape?: ShapeOverrides;
  dtype?: GeneratedDtype;
  /** Default: the family's first format (what a Hub download picks), else safetensors. */
  format?: WeightFormat;
  /** max_shard_size in bytes; default the family's (one file when it has none). */
  shardBytes?: number;
  seed?: number;
  /** Folder whose tokenizer files (tokenizer.json, spiece.model, …) are copied into the checkpoint. */
  tokenizerFrom: string;
  onProgress?: (bytes: number, total: number) => void;
}

export interface GeneratedCheckpoint {
  dir: string;
  config: T5Config;
  /** The weight files written (shards and index included), by name. */
  files: string[];
  /** Bytes of distinct weights (tied copies counted once). */
  totalBytes: number;
}

const TOKENIZER_COPIES = ['tokenizer.json', 'spiece.model', 'tokenizer_config.json', 'special_tokens_map.json'];
const CHUNK = 1 << 20;
const TORCH_DTYPE: Record<GeneratedDtype, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };
const HF_KEYS: Record<keyof ShapeOverrides, string> = {
  numLayers: 'num_layers',
  numDecoderLayers: 'num_decoder_layers',
  dModel: 'd_model',
  dFf: 'd_ff',
  numHeads: 'num_heads',
  dKv: 'd_kv',
  vocabSize: 'vocab_size',
};

/** Standard deviations of HF's T5PreTrainedModel._init_weights (initializer_factor 1); layer norms are 1. */
function initStd(name: string, shape: number[], config: T5Config): number {
  const { dModel, dKv, numHeads, dFf } = config;
  if (name.endsWith('layer_norm.weight')) return 0;
  if (name === 'shared.weight' || name === 'lm_head.weight') return 1;
  if (name.endsWith('.q.weight')) return (dModel * dKv) ** -0.5;
  if (name.endsWith('.o.weight')) return (numHeads * dKv) ** -0.5;
  if (name.endsWith('.wo.weight')) return dFf ** -0.5;
  return shape[1] === dModel || name.includes('relative_attention_bias') ? dModel ** -0.5 : 1;
}

/** A seed per tensor (FNV-1a of its name, mixed with the checkpoint's seed), so values do not depend on layout. */
function tensorSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ Math.imul(seed >>> 0, 0x9e3779b1);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The float32 values of one tensor, in pieces of at most CHUNK elements (Box-Muller normals, or ones). */
function* tensorValues(name: string, shape: number[], config: T5Config, seed: number): Generator<Float32Array> {
  const std = initStd(name, shape, config);
  const next = mulberry32(tensorSeed(seed, name));
  const total = shape.reduce((a, b) => a * b, 1);
  for (let start = 0; start < total; start += CHUNK) {
    const out = new Float32Array(Math.min(CHUNK, total - start));
    if (std === 0) out.fill(1);
    else {
      for (let i = 0; i < out.length; i += 2) {
        const r = std * Math.sqrt(-2 * Math.log(1 - next()));
        const theta = 2 * Math.PI * next();
        out[i] = r * Math.cos(theta);
        if (i + 1 < out.length) out[i + 1] = r * Math.sin(theta);
      }
    }
    yield out;
  }
}

/** The config a family (with shape overrides) implies, validated like any config.json; and its config.json. */
export function familyConfig(family: T5Family, shape: ShapeOverrides = {}): { config: T5Config; json: Record<string, unknown> } {
  const raw: Record<string, unknown> = { model_type: 't5', ...family.config };
  for (const [key, value] of Object.entries(shape)) if (value !== undefined) raw[HF_KEYS[key as keyof ShapeOverrides]] = value;
  if (shape.numLayers !== undefined && shape.numDecoderLayers === undefined) raw.num_decoder_layers = shape.numLayers;
  const config = parseT5Config(raw, `${family.repo}/config.json`);
  return { config, json: { ...t5ConfigToJson(config), ...raw } };
}

export interface PlannedTensor {
  name: string;
  shape: number[];
  bytes: number;
  /** The tensor whose values (and, in a .bin, storage) this one shares: itself unless tied. */
  storage: string;
}

/**
 * The state dict in transformers' order (module registration order), with the tied copies of shared.weight
 * (encoder/decoder embed_tokens, and lm_head when tied) that torch.save stores as views of one storage.
 */
function planTensors(config: T5Config, elementBytes: number): PlannedTensor[] {
  const out: PlannedTensor[] = [];
  const add = (name: string, shape: number[], storage = name): void => {
    out.push({ name, shape, bytes: shape.reduce((a, b) => a * b, 1) * elementBytes, storage });
  };
  const expected = expectedTensors(config);
  const embedding = expected.get('shared.weight')!;
  for (const [name, shape] of expected) {
    if (name === 'lm_head.weight') continue;
    if (name === 'encoder.block.0.layer.0.SelfAttention.q.weight') add('encoder.embed_tokens.weight', embedding, 'shared.weight');
    if (name === 'decoder.block.0.layer.0.SelfAttention.q.weight') add('decoder.embed_tokens.weight', embedding, 'shared.weight');
    add(name, shape);
  }
  if (!config.tieWordEmbeddings) add('lm_head.weight', expected.get('lm_head.weight')!);
  else add('lm_head.weight', embedding, 'shared.weight');
  return out;
}

export interface CheckpointPlan {
  config: T5Config;
  /** config.json's content (without torch_dtype). */
  json: Record<string, unknown>;
  dtype: GeneratedDtype;
  format: WeightFormat;
  /** The weight files in order, each with its tensors in state-dict order (tied copies included for .bin). */
  shards: { name: string; tensors: PlannedTensor[] }[];
  /** Bytes of distinct weights. */
  totalBytes: number;
  /** The index's metadata.total_size. */
  indexTotal: number;
}

/** What generateCheckpoint would write, without writing it (file names, split, sizes). */
export function planCheckpoint(options: Omit<GenerateOptions, 'tokenizerFrom' | 'onProgress'>): CheckpointPlan {
  const dtype = options.dtype ?? 'F32';
  const format = options.format ?? options.family?.formats[0] ?? 'safetensors';
  let config: T5Config;
  let json: Record<string, unknown>;
  if (options.family) ({ config, json } = familyConfig(options.family, options.shape));
  else if (options.config) {
    config = parseT5Config(t5ConfigToJson({ ...options.config, ...options.shape }), 'config.json');
    json = t5ConfigToJson(config);
  } else throw new Error('planCheckpoint needs a family or a config');
  const planned = planTensors(config, DTYPE_BYTES[dtype]);
  // The split is the .bin's; safetensors shards (save_pretrained, or the Hub's conversion bot) hold the same
  // tensors without the tied copies.
  const split = splitIntoShards(planned, options.shardBytes ?? options.family?.shardBytes ?? Infinity)
    .map((tensors) => (format === 'bin' ? tensors : tensors.filter((t) => t.storage === t.name)))
    .filter((tensors) => tensors.length > 0);
  const shards = split.map((tensors, i) => ({
    name: split.length === 1 ? WEIGHTS_NAME[format] : shardName(format, i + 1, split.length),
    tensors,
  }));
  const sum = (tensors: PlannedTensor[]): number => tensors.reduce((total, t) => total + t.bytes, 0);
  const totalBytes = sum(planned.filter((t) => t.storage === t.name));
  // transformers 4.2x summed every state-dict entry into a .bin index's total_size, tied copies included.
  const indexTotal = format === 'bin' ? sum(planned) : totalBytes;
  return { config, json, dtype, format, shards, totalBytes, indexTotal };
}

/**
 * Writes a randomly initialised T5 checkpoint folder laid out as the family's Hub repository: config.json,
 * generation_config.json, the weights (one file or transformers-style shards with their index, safetensors or
 * pytorch_model.bin, float32/float16/bfloat16) and the tokenizer copied from `tokenizerFrom`. Values follow
 * HF's init scales and are the same for every layout and dtype of one seed (half dtypes round them), so
 * layouts can be compared. Streamed in 4 MB pieces: an XL checkpoint never sits in memory.
 */
export function generateCheckpoint(dir: string, options: GenerateOptions): GeneratedCheckpoint {
  const plan = planCheckpoint(options);
  const { config, json, dtype, shards, totalBytes } = plan;
  const format = plan.format;
  const seed = options.seed ?? 0;
  const elementBytes = DTYPE_BYTES[dtype];
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify({ ...json, torch_dtype: TORCH_DTYPE[dtype] }, null, 2)}\n`);
  writeFileSync(
    join(dir, 'generation_config.json'),
    `${JSON.stringify({ decoder_start_token_id: config.decoderStartTokenId, eos_token_id: config.eosTokenId, pad_token_id: config.padTokenId }, null, 2)}\n`,
  );

  let written = 0;
  const writeValues = (t: PlannedTensor, sink: (chunk: Uint8Array) => void): void => {
    for (const values of tensorValues(t.storage, t.shape, config, seed)) {
      const bytes = dtype === 'F32' ? new Uint8Array(values.buffer) : new Uint8Array(toHalf(values, dtype).buffer);
      sink(bytes);
      written += bytes.length;
      options.onProgress?.(written, totalBytes);
    }
  };
  const files: string[] = [];
  const weightMap = new Map<string, string>();
  for (const { name, tensors: shard } of shards) {
    const file = join(dir, name);
    if (format === 'safetensors') {
      writeSafetensorsStreamed(
        file,
        shard.map((t) => ({ name: t.name, dtype, shape: t.shape, write: (sink) => writeValues(t, sink) })),
        { format: 'pt' },
      );
    } else {
      // One storage per distinct tensor in this file; a tied copy whose original fell in another shard gets its own.
      const owners = [...new Map(shard.map((t) => [t.storage, t])).values()];
      const keys = new Map(owners.map((t, k) => [t.storage, String(k)]));
      writeTorchSave(
        file,
        shard.map((t) => ({ name: t.name, storage: keys.get(t.storage)!, storageType: STORAGE_TYPES[dtype], shape: t.shape })),
        owners.map((t) => ({
          key: keys.get(t.storage)!,
          dtype,
          numel: t.bytes / elementBytes,
          elementBytes,
          write: (sink) => writeValues(t, sink),
        })),
      );
    }
    files.push(name);
    for (const t of shard) weightMap.set(t.name, name);
  }
  // The index last: a folder with an index has every shard it names.
  if (shards.length > 1) {
    writeShardIndex(join(dir, indexName(format)), plan.indexTotal, weightMap);
    files.push(indexName(format));
  }
  for (const name of TOKENIZER_COPIES) {
    if (existsSync(join(options.tokenizerFrom, name))) copyFileSync(join(options.tokenizerFrom, name), join(dir, name));
  }
  return { dir, config, files, totalBytes };
}

/**
 * A random float32 checkpoint with a single model.safetensors, for tests and benchmarks that need one shape:
 * `config` over HF's T5Config defaults (the t5-small shape).
 */
export async function writeRandomT5Checkpoint(
  dir: string,
  config: Partial<T5Config> & { tokenizerFrom: string },
  seed: number,
): Promise<void> {
  const { tokenizerFrom, ...partial } = config;
  const full: T5Config = {
    modelType: 't5',
    vocabSize: 32128,
    dModel: 512,
    dKv: 64,
    numHeads: 8,
    dFf: 2048,
    numLayers: 6,
    numDecoderLayers: partial.numLayers ?? 6,
    relativeAttentionNumBuckets: 32,
    relativeAttentionMaxDistance: 128,
    layerNormEpsilon: 1e-6,
    feedForward: 'relu',
    tieWordEmbeddings: true,
    padTokenId: 0,
    eosTokenId: 1,
    decoderStartTokenId: 0,
    ...partial,
  };
  generateCheckpoint(dir, { config: full, seed, tokenizerFrom });
}
