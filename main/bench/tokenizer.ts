import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadTokenizer } from '../tokenizer/load.js';
import { parseSpieceModel } from '../tokenizer/spiece-model.js';
import { T5Tokenizer } from '../tokenizer/t5-tokenizer.js';

/**
 * Tokenizer throughput on SST-2's training sentences (67k) on one thread, and load time of both file formats. Reads the fixtures in
 * ../shared next to the repository (run from the repository root), so it is a development benchmark.
 */
export async function benchTokenizer(repoRoot = process.cwd()): Promise<Record<string, number | string>> {
  const shared = path.resolve(repoRoot, '../shared');
  const tsv = await readFile(path.join(shared, 'data/sst2/train.tsv'), 'utf8');
  const sentences = tsv
    .split('\n')
    .slice(1)
    .filter((l) => l.length > 0)
    .map((l) => l.slice(0, l.lastIndexOf('\t')));
  const model = path.join(shared, 'fixtures/tiny-t5-v1_0');
  const t0 = performance.now();
  const tok = await loadTokenizer(model);
  const loadMs = performance.now() - t0;
  const spieceBytes = new Uint8Array(await readFile(path.join(model, 'spiece.model')));
  const t00 = performance.now();
  new T5Tokenizer(parseSpieceModel(spieceBytes, 'spiece.model', { extraIds: 100, cleanUpTokenizationSpaces: true }));
  const spieceLoadMs = performance.now() - t00;
  tok.encodeBatch(sentences.slice(0, 2000));
  const t1 = performance.now();
  const { ids } = tok.encodeBatch(sentences);
  const encodeMs = performance.now() - t1;
  let tokens = 0;
  for (const e of ids) tokens += e.length;
  return {
    benchmark: 'tokenizer',
    corpus: 'sst2/train.tsv',
    sentences: sentences.length,
    tokens,
    load_tokenizer_json_ms: Math.round(loadMs),
    load_spiece_model_ms: Math.round(spieceLoadMs),
    encode_ms: Math.round(encodeMs),
    sentences_per_s: Math.round(sentences.length / (encodeMs / 1000)),
    tokens_per_s: Math.round(tokens / (encodeMs / 1000)),
  };
}
