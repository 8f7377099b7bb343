import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SproutError } from '../errors.js';
import { firstOf } from '../wording.js';
import { castToF32, checkFloating } from './cast.js';
import { parseT5Config, type T5Config } from './config.js';
import { dataDir } from '../paths.js';
import { expectedTensors, isIgnorableTensor } from './layout.js';
import { readJsonFile } from './json-file.js';
import { readSafetensorsHeader, type TensorEntry } from './safetensors.js';
import { findWeightFiles, type WeightFiles } from './shards.js';

export { expectedTensors, parameterCount } from './layout.js';
export { readTensorF32 } from './safetensors.js';
export { generateCheckpoint, writeRandomT5Checkpoint } from './generate.js';
export { readJsonFile } from './json-file.js';

/** A validated T5 checkpoint: every entry has the shape the config implies and is float32 unless opened with keepDtypes. */
export interface Checkpoint {
  dir: string;
  config: T5Config;
  /** Exactly the keys of expectedTensors(config). */
  tensors: Map<string, TensorEntry>;
  /** Folder holding tokenizer.json and/or spiece.model. */
  tokenizerDir: string;
}

export interface OpenCheckpointOptions {
  /** Where float16/bfloat16 weights are cast to float32 once; default <data dir>/cache/cast. */
  castCacheDir?: string;
  /** A safetensors file to use instead of the folder's model.safetensors (local import of a single file). */
  weightsFile?: string;
  /** Keeps each tensor in the dtype of its file (no float32 cast): for weights entering the graph narrower. */
  keepDtypes?: boolean;
}

export const TOKENIZER_FILES = ['tokenizer.json', 'spiece.model'] as const;

/** Reads config.json from a model folder and validates it. */
export function readT5Config(dir: string): T5Config {
  const file = join(dir, 'config.json');
  if (!existsSync(file)) {
    throw new SproutError('missing-model-config', 'The folder has no config.json, so it is not a Hugging Face model folder.', {
      file: dir,
      hint: 'Point Sprout at the folder that holds config.json, the weights and the tokenizer.',
    });
  }
  return parseT5Config(readJsonFile(file, 'bad-model-config'), file);
}

/** The safetensors files of a folder: model.safetensors, else the shards named by model.safetensors.index.json. */
function weightFiles(dir: string): WeightFiles {
  const found = findWeightFiles(dir, 'safetensors');
  if (found) return found;
  const hint = findWeightFiles(dir, 'bin')
    ? 'The folder only has PyTorch weights (pytorch_model.bin or its shards): import it with `sprout model import`, which converts them to safetensors once.'
    : 'Download the model again, or point Sprout at the folder that holds its weights.';
  throw new SproutError('missing-weights', 'The folder holds neither model.safetensors nor model.safetensors.index.json.', {
    file: dir,
    hint,
  });
}

/**
 * Checks the tensors found against the ones the config implies and returns exactly the expected ones.
 * Missing, unexpected and wrongly shaped tensors are reported together, by name.
 */
export function matchTensors<T extends { shape: readonly number[] }>(
  config: T5Config,
  found: Map<string, T>,
  where: string,
): Map<string, T> {
  const expected = expectedTensors(config);
  const missing = [...expected.keys()].filter((name) => !found.has(name));
  const unexpected = [...found.keys()].filter((name) => !expected.has(name) && !isIgnorableTensor(name, config));
  const misshapen = [...expected]
    .filter(([name, shape]) => {
      const entry = found.get(name);
      return entry && (entry.shape.length !== shape.length || entry.shape.some((d, i) => d !== shape[i]));
    })
    .map(([name, shape]) => `${name} is [${found.get(name)!.shape.join(', ')}] but config.json implies [${shape.join(', ')}]`);
  const problems: string[] = [];
  if (missing.length) problems.push(`missing tensors: ${firstOf(missing)}`);
  if (unexpected.length) problems.push(`unexpected tensors: ${firstOf(unexpected)}`);
  if (misshapen.length) problems.push(`wrong shapes: ${firstOf(misshapen)}`);
  if (problems.length) {
    throw new SproutError('checkpoint-mismatch', `The weights do not match config.json (${problems.join('; ')}).`, {
      file: where,
      hint: 'config.json and the weights must come from the same model; download or export it again.',
    });
  }
  return new Map([...expected.keys()].map((name) => [name, found.get(name)!]));
}

/** The model folder `dir`, absolute; an error naming it when it is not there (moved, deleted, mistyped). */
export function requireModelFolder(dir: string): string {
  const root = resolve(dir);
  if (!existsSync(root)) throw new SproutError('missing-model', 'The model folder does not exist.', { file: root });
  return root;
}

/** Opens a T5 model folder: config, weights (all cast to float32), tokenizer; everything validated. */
export async function openCheckpoint(dir: string, options: OpenCheckpointOptions = {}): Promise<Checkpoint> {
  const root = requireModelFolder(dir);
  const config = readT5Config(root);
  const found = new Map<string, TensorEntry>();
  const { files, weightMap, indexFile } = options.weightsFile
    ? { files: [resolve(options.weightsFile)], weightMap: undefined, indexFile: undefined }
    : weightFiles(root);
  for (const file of files) {
    for (const [name, entry] of readSafetensorsHeader(file)) {
      if (found.has(name)) {
        throw new SproutError('checkpoint-mismatch', `Tensor "${name}" appears in both ${found.get(name)!.file} and ${file}.`, {
          file: root,
        });
      }
      if (weightMap && weightMap.get(name) !== file) {
        throw new SproutError(
          'bad-safetensors-index',
          `Tensor "${name}" is in ${file} but the index says ${weightMap.get(name) ?? 'nothing'}.`,
          { file: indexFile },
        );
      }
      found.set(name, entry);
    }
  }
  if (weightMap) {
    const absent = [...weightMap.keys()].filter((name) => !found.has(name));
    if (absent.length) {
      throw new SproutError('bad-safetensors-index', `The index lists tensors its shards do not contain: ${firstOf(absent)}.`, {
        file: indexFile,
      });
    }
  }
  const matched = matchTensors(config, found, root);
  const tensors = options.keepDtypes
    ? checkFloating(matched)
    : castToF32(matched, options.castCacheDir ?? join(dataDir(), 'cache', 'cast'));
  if (!TOKENIZER_FILES.some((name) => existsSync(join(root, name)))) {
    throw new SproutError('missing-tokenizer', 'The model folder has no tokenizer (tokenizer.json or spiece.model).', {
      file: root,
      hint: 'Copy the tokenizer files of the model (e.g. from t5-small) into the folder.',
    });
  }
  return { dir: root, config, tensors, tokenizerDir: root };
}
