import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { SproutError } from '../errors.js';
import { readJsonFile } from './json-file.js';
import { tempPathBeside } from '../temp-path.js';

/**
 * The weight-file layouts transformers' save_pretrained writes: one file (model.safetensors, pytorch_model.bin)
 * or, past max_shard_size, numbered shards (model-00001-of-00002.safetensors, pytorch_model-00001-of-00002.bin)
 * with an index, <single name>.index.json = {"metadata": {"total_size": bytes}, "weight_map": {tensor: shard}}.
 */
export type WeightFormat = 'safetensors' | 'bin';

export const WEIGHTS_NAME: Record<WeightFormat, string> = { safetensors: 'model.safetensors', bin: 'pytorch_model.bin' };

export function indexName(format: WeightFormat): string {
  return `${WEIGHTS_NAME[format]}.index.json`;
}

export function shardName(format: WeightFormat, index: number, count: number): string {
  const n = (i: number): string => String(i).padStart(5, '0');
  return format === 'safetensors' ? `model-${n(index)}-of-${n(count)}.safetensors` : `pytorch_model-${n(index)}-of-${n(count)}.bin`;
}

/**
 * transformers' shard_checkpoint as it was when the sharded T5 checkpoints were saved (4.2x): walk the state dict
 * in order and start a new shard when the next tensor would push the current one past `maxShardBytes` (a tensor
 * larger than that gets a shard of its own). Tied copies count at their full size, as they did then.
 */
export function splitIntoShards<T extends { bytes: number }>(tensors: T[], maxShardBytes: number): T[][] {
  const shards: T[][] = [[]];
  let size = 0;
  for (const t of tensors) {
    if (size + t.bytes > maxShardBytes && shards[shards.length - 1].length > 0) {
      shards.push([]);
      size = 0;
    }
    shards[shards.length - 1].push(t);
    size += t.bytes;
  }
  return shards;
}

/** Writes an index as transformers does (json.dumps(indent=2, sort_keys=True) and a newline), atomically. */
export function writeShardIndex(file: string, totalSize: number, weightMap: Map<string, string>): void {
  const sorted = Object.fromEntries([...weightMap].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const tmp = tempPathBeside(file);
  writeFileSync(tmp, `${JSON.stringify({ metadata: { total_size: totalSize }, weight_map: sorted }, null, 2)}\n`);
  renameSync(tmp, file);
}

/** A folder's weights in one format: the files, and for a sharded checkpoint which file holds which tensor. */
export interface WeightFiles {
  format: WeightFormat;
  /** Absolute paths, sorted; one file unless sharded. */
  files: string[];
  /** Tensor name → absolute shard path, from the index. */
  weightMap?: Map<string, string>;
  indexFile?: string;
}

/**
 * Finds the weights of `format` in `dir`: the single file, else the index and its shards (validated: plain file
 * names of that format in this folder, every one present). Undefined when the folder has neither.
 */
export function findWeightFiles(dir: string, format: WeightFormat): WeightFiles | undefined {
  const single = join(dir, WEIGHTS_NAME[format]);
  if (existsSync(single)) return { format, files: [single] };
  const indexFile = join(dir, indexName(format));
  if (!existsSync(indexFile)) return undefined;
  const code = format === 'safetensors' ? 'bad-safetensors-index' : 'bad-pytorch-index';
  const map = (readJsonFile(indexFile, code) as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new SproutError(code, 'The index has no "weight_map" object.', { file: indexFile });
  }
  const extension = format === 'safetensors' ? '.safetensors' : '.bin';
  const weightMap = new Map<string, string>();
  for (const [name, shard] of Object.entries(map)) {
    if (typeof shard !== 'string' || isAbsolute(shard) || normalize(shard).split(sep).includes('..') || !shard.endsWith(extension)) {
      throw new SproutError(code, `Tensor "${name}" maps to ${JSON.stringify(shard)}, which is not a ${extension} file in this folder.`, {
        file: indexFile,
      });
    }
    weightMap.set(name, join(dir, shard));
  }
  const files = [...new Set(weightMap.values())].sort();
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length) {
    throw new SproutError(
      'missing-shard',
      `The index names ${missing.length === 1 ? 'a shard' : `${missing.length} shards`}` +
        ` the folder does not have: ${missing.map((f) => f.slice(dir.length + 1)).join(', ')}.`,
      {
        file: missing[0],
        hint: 'Download the model again (`sprout model download REPO` fetches only what is missing), or copy every shard the index names into the folder.',
      },
    );
  }
  return { format, files, weightMap, indexFile };
}
