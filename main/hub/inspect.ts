import { existsSync, statSync, symlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { openCheckpoint, type Checkpoint } from '../checkpoint/checkpoint.js';
import { convertPytorchWeights, pytorchOnlyWeights, weightFilesKey } from '../checkpoint/convert-bin-folder.js';
import { findWeightFiles } from '../checkpoint/shards.js';
import { dataDir } from '../paths.js';
import { summarize, type ArchitectureSummary } from '../checkpoint/summary.js';
import { SproutError } from '../errors.js';
import { loadTokenizer } from '../tokenizer/index.js';
import { verifySnapshotBlobs } from './verify.js';

export interface InspectedModel {
  /** What to register: the folder, or the single .safetensors file. */
  path: string;
  checkpoint: Checkpoint;
  summary: ArchitectureSummary;
  /** Files checked against the Hub's checksums (`verify`): 0 for a folder that is no Hub snapshot, or a single file. */
  checkedBlobs: number;
}

const SIDE_FILES = [
  'config.json',
  'tokenizer.json',
  'spiece.model',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'generation_config.json',
];

/**
 * Validates a model folder or a single .safetensors file (config.json and the tokenizer must sit beside it):
 * model_type t5, every expected tensor with the shape the config implies, a tokenizer.
 */
export async function inspectModel(path: string, options: { castCacheDir?: string; verify?: boolean } = {}): Promise<InspectedModel> {
  const target = resolve(path);
  if (!existsSync(target)) throw new SproutError('missing-model', 'No such file or folder.', { file: target });
  const isFile = statSync(target).isFile();
  if (isFile && !target.endsWith('.safetensors')) {
    throw new SproutError('bad-model-path', 'Expected a model folder or a .safetensors file.', {
      file: target,
      hint: 'For a pytorch_model.bin, import the folder that holds it.',
    });
  }
  const checkpoint = isFile
    ? await openCheckpoint(dirname(target), { ...options, weightsFile: target })
    : await openCheckpoint(target, options);
  // Checksums first: a file changed since the download is named as damaged, whatever reading it would say.
  const checkedBlobs = options.verify && !isFile ? await verifySnapshotBlobs(target) : 0;
  // Read, not just found: a tokenizer file that cannot be read would otherwise pass import and verify and fail the
  // first training or labelling job.
  await loadTokenizer(checkpoint.tokenizerDir);
  return { path: target, checkpoint, summary: summarize(checkpoint), checkedBlobs };
}

/**
 * A folder whose only weights are PyTorch ones (pytorch_model.bin, or its shards and index) is converted once
 * into Sprout's data folder (<data>/converted/<name>-<hash of the files>/, with links to the folder's config and
 * tokenizer files) and that folder is returned; any other path is returned unchanged. The user's folder is never
 * written to.
 */
export function convertedFolderFor(path: string, root = join(dataDir(), 'converted')): string {
  const source = resolve(path);
  if (!existsSync(source) || !statSync(source).isDirectory()) return source;
  const weights = pytorchOnlyWeights(source);
  if (!weights) return source;
  const out = join(root, `${basename(source).replace(/[^\w.-]+/g, '-')}-${weightFilesKey(weights).slice(0, 16)}`);
  if (findWeightFiles(out, 'safetensors')) return out;
  convertPytorchWeights(weights, source, out);
  for (const file of SIDE_FILES) {
    if (existsSync(join(source, file)) && !existsSync(join(out, file))) symlinkSync(join(source, file), join(out, file));
  }
  return out;
}
