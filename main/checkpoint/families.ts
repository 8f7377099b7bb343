import type { WeightFormat } from './shards.js';

/**
 * The public T5 checkpoints Sprout supports, as their Hub repositories ship them: the architecture keys of each
 * repository's config.json (https://huggingface.co/REPO/blob/main/config.json; keys a config omits take HF's
 * T5Config defaults: feed_forward_proj "relu", tie_word_embeddings true, relative_attention_max_distance 128,
 * num_decoder_layers = num_layers) and the weight files on its main branch.
 *
 * Every family has vocab_size 32128, relative_attention_num_buckets 32, layer_norm_epsilon 1e-6, d_kv 64 and stores
 * float32 weights. v1.1, LM-adapted and Flan-T5 are gated-GELU ("gated-gelu", dense_act_fn gelu_new) with an
 * untied lm_head; the original t5-* are ReLU with tied embeddings.
 *
 * Weight files, and how far they were checked (no network here; public code that downloads these files by name):
 * - flan-t5-xl: pytorch_model-0000{1,2}-of-00002.bin + pytorch_model.bin.index.json, seen in public download
 *   scripts that fetch google/flan-t5-xl/resolve/main/pytorch_model-00001-of-00002.bin and -00002-of-00002.bin;
 *   the 2-shard model-0000{1,2}-of-00002.safetensors + model.safetensors.index.json comes from the issue's brief
 *   (a text-generation-inference log of July 2023 still found "No safetensors weights" for it, so they were
 *   added later). The split is transformers' shard_checkpoint with its then default max_shard_size "10GB",
 *   which gives 9.45 GB + 1.95 GB: the shard sizes the Hub lists for it (from memory of the Hub's file list).
 * - t5-v1_1-xl: a single pytorch_model.bin (11 GB), seen in a public Dockerfile fetching
 *   google/t5-v1_1-xl/resolve/main/pytorch_model.bin; google/t5-v1_1-xxl likewise has one 44.5 GB
 *   pytorch_model.bin (kohya-ss/sd-scripts#2090). No safetensors on main: not verified.
 * - flan-t5-small/base/large: pytorch_model.bin seen in a public downloader's file list; their model.safetensors
 *   is not verified here.
 * - t5-small/base/large: model.safetensors and pytorch_model.bin (from the issue's brief; not verified here).
 * - t5-v1_1-small/base/large and the four lm-adapt repositories: a single pytorch_model.bin, uploaded in 2021
 *   before sharding and safetensors existed; not verified here.
 */
export interface T5Family {
  repo: string;
  /** The config.json keys that fix the architecture, exactly as the repository's config.json has them. */
  config: Record<string, number | string | boolean>;
  /** Weight formats on the repository's main branch; the first is the one a download picks. */
  formats: WeightFormat[];
  /** transformers' max_shard_size when the weights were saved sharded; absent: one file, however large. */
  shardBytes?: number;
}

const V1_0 = { vocab_size: 32128, d_kv: 64, relative_attention_num_buckets: 32, layer_norm_epsilon: 1e-6 };
const GATED = { ...V1_0, feed_forward_proj: 'gated-gelu', tie_word_embeddings: false };
/** Flan-T5's configs were written by a newer transformers, which spells out the derived activation keys. */
const FLAN = { ...GATED, dense_act_fn: 'gelu_new', is_gated_act: true, relative_attention_max_distance: 128 };

const sizes = {
  small: { d_model: 512, d_ff: 1024, num_heads: 6, num_layers: 8, num_decoder_layers: 8 },
  base: { d_model: 768, d_ff: 2048, num_heads: 12, num_layers: 12, num_decoder_layers: 12 },
  large: { d_model: 1024, d_ff: 2816, num_heads: 16, num_layers: 24, num_decoder_layers: 24 },
  xl: { d_model: 2048, d_ff: 5120, num_heads: 32, num_layers: 24, num_decoder_layers: 24 },
};
const TEN_GB = 10 * 10 ** 9;

export const T5_FAMILIES: T5Family[] = [
  { repo: 't5-small', config: { ...V1_0, d_model: 512, d_ff: 2048, num_heads: 8, num_layers: 6 }, formats: ['safetensors', 'bin'] },
  { repo: 't5-base', config: { ...V1_0, d_model: 768, d_ff: 3072, num_heads: 12, num_layers: 12 }, formats: ['safetensors', 'bin'] },
  { repo: 't5-large', config: { ...V1_0, d_model: 1024, d_ff: 4096, num_heads: 16, num_layers: 24 }, formats: ['safetensors', 'bin'] },
  { repo: 'google/t5-v1_1-small', config: { ...GATED, ...sizes.small }, formats: ['bin'] },
  { repo: 'google/t5-v1_1-base', config: { ...GATED, ...sizes.base }, formats: ['bin'] },
  { repo: 'google/t5-v1_1-large', config: { ...GATED, ...sizes.large }, formats: ['bin'] },
  { repo: 'google/t5-v1_1-xl', config: { ...GATED, ...sizes.xl }, formats: ['bin'] },
  { repo: 'google/t5-small-lm-adapt', config: { ...GATED, ...sizes.small }, formats: ['bin'] },
  { repo: 'google/t5-base-lm-adapt', config: { ...GATED, ...sizes.base }, formats: ['bin'] },
  { repo: 'google/t5-large-lm-adapt', config: { ...GATED, ...sizes.large }, formats: ['bin'] },
  { repo: 'google/t5-xl-lm-adapt', config: { ...GATED, ...sizes.xl }, formats: ['bin'] },
  { repo: 'google/flan-t5-small', config: { ...FLAN, ...sizes.small }, formats: ['safetensors', 'bin'] },
  { repo: 'google/flan-t5-base', config: { ...FLAN, ...sizes.base }, formats: ['safetensors', 'bin'] },
  { repo: 'google/flan-t5-large', config: { ...FLAN, ...sizes.large }, formats: ['safetensors', 'bin'] },
  { repo: 'google/flan-t5-xl', config: { ...FLAN, ...sizes.xl }, formats: ['safetensors', 'bin'], shardBytes: TEN_GB },
];

/** The family of a repository id, also accepted without its "google/" owner (e.g. "flan-t5-xl"). */
export function findFamily(name: string): T5Family | undefined {
  return T5_FAMILIES.find((f) => f.repo === name || f.repo === `google/${name}`);
}
