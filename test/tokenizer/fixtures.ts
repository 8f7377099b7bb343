import { copyFile, mkdtemp } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const shared = path.resolve(repoRoot, '../shared');
export const modelDir = path.join(shared, 'fixtures/tiny-t5-v1_0');

export interface TokenizationCase {
  text: string;
  sentencepiece_ids: number[];
  tokenizer_json_ids: number[];
}
export interface DecodeCase {
  ids: number[];
  t5tokenizer_decode_skip_special: string;
  t5tokenizer_decode_keep_special: string;
}
export const tokenization = JSON.parse(readFileSync(path.join(shared, 'fixtures/tokenization.json'), 'utf8')) as {
  cases: TokenizationCase[];
  decodes: DecodeCase[];
};

/** A folder holding only the listed files of the fixture model folder. */
export async function folderWith(files: string[]): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sprout-tok-'));
  for (const f of files) await copyFile(path.join(modelDir, f), path.join(dir, f));
  return dir;
}
