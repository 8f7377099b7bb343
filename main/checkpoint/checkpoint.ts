import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { SproutError } from '../errors.js';
import { castToF32, checkFloating } from './cast.js';
import { parseT5Config, type T5Config } from './config.js';
import { dataDir } from '../paths.js';
import { expectedTensors, isIgnorableTensor } from './layout.js';
import { readSafetensorsHeader, type TensorEntry } from './safetensors.js';

export { expectedTensors, parameterCount } from './layout.js';
export { readTensorF32 } from './safetensors.js';
export { writeRandomT5Checkpoint } from './random.js';

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

export function readJsonFile(file: string, code: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SproutError(code, `Cannot read ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file: it does not exist' : (error as Error).message}.`, { file });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SproutError(code, `Not valid JSON: ${(error as Error).message}.`, { file });
  }
}

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
function weightFiles(dir: string): { files: string[]; weightMap?: Map<string, string> } {
  const single = join(dir, 'model.safetensors');
  if (existsSync(single)) return { files: [single] };
  const indexFile = join(dir, 'model.safetensors.index.json');
  if (existsSync(indexFile)) {
    const index = readJsonFile(indexFile, 'bad-safetensors-index') as { weight_map?: unknown };
    const map = index?.weight_map;
    if (typeof map !== 'object' || map === null || Array.isArray(map)) {
      throw new SproutError('bad-safetensors-index', 'The index has no "weight_map" object.', { file: indexFile });
    }
    const weightMap = new Map<string, string>();
    for (const [name, shard] of Object.entries(map)) {
      if (typeof shard !== 'string' || isAbsolute(shard) || normalize(shard).split(sep).includes('..') || !shard.endsWith('.safetensors')) {
        throw new SproutError('bad-safetensors-index', `Tensor "${name}" maps to ${JSON.stringify(shard)}, which is not a .safetensors file in this folder.`, { file: indexFile });
      }
      weightMap.set(name, join(dir, shard));
    }
    return { files: [...new Set(weightMap.values())].sort(), weightMap };
  }
  const hint = existsSync(join(dir, 'pytorch_model.bin'))
    ? 'The folder only has pytorch_model.bin: import it with `sprout model import`, which converts it to safetensors once.'
    : 'Download the model again, or point Sprout at the folder that holds its weights.';
  throw new SproutError('missing-weights', 'The folder holds neither model.safetensors nor model.safetensors.index.json.', { file: dir, hint });
}

function listNames(names: string[]): string {
  const shown = names.slice(0, 8).join(', ');
  return names.length > 8 ? `${shown} and ${names.length - 8} more` : shown;
}

/**
 * Checks the tensors found against the ones the config implies and returns exactly the expected ones.
 * Missing, unexpected and wrongly shaped tensors are reported together, by name.
 */
export function matchTensors(config: T5Config, found: Map<string, TensorEntry>, where: string): Map<string, TensorEntry> {
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
  if (missing.length) problems.push(`missing tensors: ${listNames(missing)}`);
  if (unexpected.length) problems.push(`unexpected tensors: ${listNames(unexpected)}`);
  if (misshapen.length) problems.push(`wrong shapes: ${listNames(misshapen)}`);
  if (problems.length) {
    throw new SproutError('checkpoint-mismatch', `The weights do not match config.json (${problems.join('; ')}).`, {
      file: where,
      hint: 'config.json and the weights must come from the same model; download or export it again.',
    });
  }
  return new Map([...expected.keys()].map((name) => [name, found.get(name)!]));
}

/** Opens a T5 model folder: config, weights (all cast to float32), tokenizer; everything validated. */
export async function openCheckpoint(dir: string, options: OpenCheckpointOptions = {}): Promise<Checkpoint> {
  const root = resolve(dir);
  if (!existsSync(root)) throw new SproutError('missing-model', 'The model folder does not exist.', { file: root });
  const config = readT5Config(root);
  const found = new Map<string, TensorEntry>();
  const { files, weightMap } = options.weightsFile ? { files: [resolve(options.weightsFile)], weightMap: undefined } : weightFiles(root);
  for (const file of files) {
    for (const [name, entry] of readSafetensorsHeader(file)) {
      if (found.has(name)) {
        throw new SproutError('checkpoint-mismatch', `Tensor "${name}" appears in both ${found.get(name)!.file} and ${file}.`, { file: root });
      }
      if (weightMap && weightMap.get(name) !== file) {
        throw new SproutError('bad-safetensors-index', `Tensor "${name}" is in ${file} but the index says ${weightMap.get(name) ?? 'nothing'}.`, { file: join(root, 'model.safetensors.index.json') });
      }
      found.set(name, entry);
    }
  }
  if (weightMap) {
    const absent = [...weightMap.keys()].filter((name) => !found.has(name));
    if (absent.length) {
      throw new SproutError('bad-safetensors-index', `The index lists tensors its shards do not contain: ${listNames(absent)}.`, { file: join(root, 'model.safetensors.index.json') });
    }
  }
  const matched = matchTensors(config, found, root);
  const tensors = options.keepDtypes ? checkFloating(matched) : castToF32(matched, options.castCacheDir ?? join(dataDir(), 'cache', 'cast'));
  if (!TOKENIZER_FILES.some((name) => existsSync(join(root, name)))) {
    throw new SproutError('missing-tokenizer', 'The model folder has no tokenizer (tokenizer.json or spiece.model).', {
      file: root,
      hint: 'Copy the tokenizer files of the model (e.g. from t5-small) into the folder.',
    });
  }
  return { dir: root, config, tensors, tokenizerDir: root };
}
