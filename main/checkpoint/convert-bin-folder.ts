import { createHash } from 'node:crypto';
import { mkdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SproutError } from '../errors.js';
import { readT5Config } from './checkpoint.js';
import { isIgnorableTensor } from './layout.js';
import { convertPytorchBin } from './pytorch-bin.js';
import { readSafetensorsHeader } from './safetensors.js';
import { findWeightFiles, indexName, shardName, WEIGHTS_NAME, writeShardIndex, type WeightFiles } from './shards.js';

/** A folder's PyTorch weights when it has no safetensors weights: pytorch_model.bin or its index and shards. */
export function pytorchOnlyWeights(dir: string): WeightFiles | undefined {
  if (findWeightFiles(dir, 'safetensors')) return undefined;
  return findWeightFiles(dir, 'bin');
}

/** A key for the PyTorch files' current versions (path, size, mtime), so a changed file gets a fresh conversion. */
export function weightFilesKey(weights: WeightFiles): string {
  const hash = createHash('sha256');
  for (const file of [...(weights.indexFile ? [weights.indexFile] : []), ...weights.files]) {
    const st = statSync(file);
    hash.update(`${realpathSync(file)}\0${st.size}\0${st.mtimeMs}\0`);
  }
  return hash.digest('hex');
}

/**
 * Converts PyTorch weights to safetensors in `outDir` with the same split: pytorch_model.bin → model.safetensors,
 * pytorch_model-0000i-of-0000n.bin → model-0000i-of-0000n.safetensors plus model.safetensors.index.json, written
 * last so that a folder with an index is complete. Tied copies of shared.weight are dropped; every tensor must
 * sit in the shard the PyTorch index names. `configDir` holds the config.json that decides what is tied.
 */
export function convertPytorchWeights(weights: WeightFiles, configDir: string, outDir: string): void {
  const config = readT5Config(configDir);
  const keep = (name: string): boolean => !isIgnorableTensor(name, config);
  mkdirSync(outDir, { recursive: true });
  if (!weights.weightMap) {
    convertPytorchBin(weights.files[0], join(outDir, WEIGHTS_NAME.safetensors), keep);
    return;
  }
  const weightMap = new Map<string, string>();
  const seen = new Set<string>();
  let totalSize = 0;
  weights.files.forEach((binFile, i) => {
    const name = shardName('safetensors', i + 1, weights.files.length);
    const outFile = join(outDir, name);
    convertPytorchBin(binFile, outFile, (tensor) => {
      seen.add(tensor);
      if (weights.weightMap!.get(tensor) !== binFile) {
        throw new SproutError('bad-pytorch-index', `Tensor "${tensor}" is in ${binFile} but the index says ${weights.weightMap!.get(tensor) ?? 'nothing'}.`, { file: weights.indexFile });
      }
      return keep(tensor);
    });
    for (const entry of readSafetensorsHeader(outFile).values()) {
      weightMap.set(entry.name, name);
      totalSize += entry.length;
    }
  });
  const absent = [...weights.weightMap.keys()].filter((name) => !seen.has(name));
  if (absent.length) {
    throw new SproutError('bad-pytorch-index', `The index lists tensors its shards do not contain: ${absent.slice(0, 8).join(', ')}${absent.length > 8 ? ` and ${absent.length - 8} more` : ''}.`, { file: weights.indexFile });
  }
  writeShardIndex(join(outDir, indexName('safetensors')), totalSize, weightMap);
}
