import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SproutError } from '../errors.js';
import { firstOf } from '../wording.js';
import { filesStamp } from '../file-hash.js';
import { matchTensors, readT5Config } from './checkpoint.js';
import type { T5Config } from './config.js';
import { isIgnorableTensor } from './layout.js';
import type { TensorRef } from './pickle.js';
import { readPytorchStateDict, writeStateDict, type PytorchStateDict } from './pytorch-bin.js';
import { readSafetensorsHeader } from './safetensors.js';
import { findWeightFiles, indexName, shardName, WEIGHTS_NAME, writeShardIndex, type WeightFiles } from './shards.js';
import { processAlive } from '../process-alive.js';

/** A folder's PyTorch weights when it has no safetensors weights: pytorch_model.bin or its index and shards. */
export function pytorchOnlyWeights(dir: string): WeightFiles | undefined {
  if (findWeightFiles(dir, 'safetensors')) return undefined;
  return findWeightFiles(dir, 'bin');
}

/** A key for the PyTorch files' current versions (path, size, mtime), so a changed file gets a fresh conversion. */
export function weightFilesKey(weights: WeightFiles): string {
  return filesStamp([...(weights.indexFile ? [weights.indexFile] : []), ...weights.files]);
}

/**
 * Converts PyTorch weights to safetensors in `outDir` with the same split: pytorch_model.bin → model.safetensors,
 * pytorch_model-0000i-of-0000n.bin → model-0000i-of-0000n.safetensors plus model.safetensors.index.json, moved in
 * last so that a folder with an index is complete. Tied copies of shared.weight are dropped; every tensor must
 * sit in the shard the PyTorch index names. `configDir` holds the config.json that decides what is tied.
 *
 * Every shard's pickle is read and every tensor checked against config.json and its storage before anything is
 * allocated or written: the shapes a file declares would otherwise decide how much memory the conversion takes.
 * The files are written in a staging folder inside `outDir` that every failure removes, and that the next
 * conversion removes when a kill left it behind.
 */
export function convertPytorchWeights(weights: WeightFiles, configDir: string, outDir: string): void {
  const config = readT5Config(configDir);
  const dicts = checkedStateDicts(weights, config, configDir);
  const keep = (name: string): boolean => !isIgnorableTensor(name, config);
  staged(outDir, (stage) => {
    if (!weights.weightMap) {
      writeStateDict(dicts[0].file, dicts[0].dict, join(stage, WEIGHTS_NAME.safetensors), keep);
      return [WEIGHTS_NAME.safetensors];
    }
    const weightMap = new Map<string, string>();
    let totalSize = 0;
    const names = dicts.map(({ file, dict }, i) => {
      const name = shardName('safetensors', i + 1, dicts.length);
      writeStateDict(file, dict, join(stage, name), keep);
      for (const entry of readSafetensorsHeader(join(stage, name)).values()) {
        weightMap.set(entry.name, name);
        totalSize += entry.length;
      }
      return name;
    });
    writeShardIndex(join(stage, indexName('safetensors')), totalSize, weightMap);
    return [...names, indexName('safetensors')];
  });
}

/** Every shard's state dict (pickles only), each tensor checked against the index, config.json and its storage. */
function checkedStateDicts(weights: WeightFiles, config: T5Config, configDir: string): { file: string; dict: PytorchStateDict }[] {
  const dicts = weights.files.map((file) => ({ file, dict: readPytorchStateDict(file) }));
  const found = new Map<string, TensorRef>();
  for (const { file, dict } of dicts) {
    for (const [name, tensor] of dict.tensors) {
      if (found.has(name)) throw new SproutError('checkpoint-mismatch', `Tensor "${name}" appears in more than one shard.`, { file });
      if (weights.weightMap && weights.weightMap.get(name) !== file) {
        throw new SproutError(
          'bad-pytorch-index',
          `Tensor "${name}" is in ${file} but the index says ${weights.weightMap.get(name) ?? 'nothing'}.`,
          { file: weights.indexFile },
        );
      }
      found.set(name, tensor);
    }
  }
  if (weights.weightMap) {
    const absent = [...weights.weightMap.keys()].filter((name) => !found.has(name));
    if (absent.length) {
      throw new SproutError('bad-pytorch-index', `The index lists tensors its shards do not contain: ${firstOf(absent)}.`, {
        file: weights.indexFile,
      });
    }
  }
  matchTensors(config, found, configDir);
  return dicts;
}

const STAGE_PREFIX = '.partial-';

/** Runs `write` in a fresh staging folder inside `outDir`, then moves the files it names into `outDir` in order. */
function staged(outDir: string, write: (stage: string) => string[]): void {
  const created = mkdirSync(outDir, { recursive: true });
  removeAbandonedStages(outDir);
  const stage = mkdtempSync(join(outDir, `${STAGE_PREFIX}${process.pid}-`));
  try {
    for (const name of write(stage)) renameSync(join(stage, name), join(outDir, name));
  } catch (error) {
    // A folder this conversion created holds nothing else: a failure leaves no trace of it.
    if (created !== undefined) rmSync(created, { recursive: true, force: true });
    throw error;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** Staging folders whose process is gone (killed mid-conversion); a live one may be converting beside us. */
function removeAbandonedStages(outDir: string): void {
  for (const name of readdirSync(outDir)) {
    const pid = name.startsWith(STAGE_PREFIX) ? Number(name.slice(STAGE_PREFIX.length).split('-')[0]) : NaN;
    if (Number.isInteger(pid) && !processAlive(pid)) rmSync(join(outDir, name), { recursive: true, force: true });
  }
}
