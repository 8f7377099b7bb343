import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, realpathSync, statSync, symlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { openCheckpoint, readT5Config, type Checkpoint } from '../checkpoint/checkpoint.js';
import { dataDir } from '../paths.js';
import { isIgnorableTensor } from '../checkpoint/layout.js';
import { convertPytorchBin } from '../checkpoint/pytorch-bin.js';
import { summarize, type ArchitectureSummary } from '../checkpoint/summary.js';
import { SproutError } from '../errors.js';

export interface InspectedModel {
  /** What to register: the folder, or the single .safetensors file. */
  path: string;
  checkpoint: Checkpoint;
  summary: ArchitectureSummary;
}

const SIDE_FILES = ['config.json', 'tokenizer.json', 'spiece.model', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json'];

/**
 * Validates a model folder or a single .safetensors file (config.json and the tokenizer must sit beside it):
 * model_type t5, every expected tensor with the shape the config implies, a tokenizer.
 */
export async function inspectModel(path: string, options: { castCacheDir?: string } = {}): Promise<InspectedModel> {
  const target = resolve(path);
  if (!existsSync(target)) throw new SproutError('missing-model', 'No such file or folder.', { file: target });
  const isFile = statSync(target).isFile();
  if (isFile && !target.endsWith('.safetensors')) {
    throw new SproutError('bad-model-path', 'Expected a model folder or a .safetensors file.', { file: target, hint: 'For a pytorch_model.bin, import the folder that holds it.' });
  }
  const checkpoint = isFile
    ? await openCheckpoint(dirname(target), { ...options, weightsFile: target })
    : await openCheckpoint(target, options);
  return { path: target, checkpoint, summary: summarize(checkpoint) };
}

/**
 * A folder whose only weights are pytorch_model.bin is converted once into Sprout's data folder
 * (<data>/converted/<hash of the path>/, with links to the folder's config and tokenizer files) and that
 * folder is returned; any other path is returned unchanged. The user's folder is never written to.
 */
export function convertedFolderFor(path: string, root = join(dataDir(), 'converted')): string {
  const source = resolve(path);
  if (!existsSync(source) || !statSync(source).isDirectory()) return source;
  if (existsSync(join(source, 'model.safetensors')) || existsSync(join(source, 'model.safetensors.index.json'))) return source;
  const bin = join(source, 'pytorch_model.bin');
  if (!existsSync(bin)) return source;
  const st = statSync(bin);
  const key = createHash('sha256').update(`${realpathSync(bin)}\0${st.size}\0${st.mtimeMs}`).digest('hex').slice(0, 16);
  const out = join(root, `${basename(source).replace(/[^\w.-]+/g, '-')}-${key}`);
  if (existsSync(join(out, 'model.safetensors'))) return out;
  mkdirSync(out, { recursive: true });
  const config = readT5Config(source);
  convertPytorchBin(bin, join(out, 'model.safetensors'), (name) => !isIgnorableTensor(name, config));
  for (const file of SIDE_FILES) {
    if (existsSync(join(source, file)) && !existsSync(join(out, file))) symlinkSync(join(source, file), join(out, file));
  }
  return out;
}
