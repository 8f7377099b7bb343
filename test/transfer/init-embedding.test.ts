/**
 * The library keeps where each trained prompt started, which the shift metrics of transfer ranking subtract: for
 * the reference's class-label init on mini-t5-instruct that is the rows of shared.weight Hugging Face's run recorded
 * (the verbaliser's ids, then numpy's draw), read here by numpy from the safetensors file, not the trained prompt.
 */
import { inLibrary } from '../../main/library/run-records.js';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { libraryPath, openLibrary } from '../../main/library/db.js';
import { requirePrompt } from '../../main/library/prompts.js';
import { applyPreset, presetSettings } from '../../main/train/presets.js';
import { runTraining } from '../../main/train/run.js';
import { tempDir } from '../checkpoint/helpers.js';
import { shared } from '../train/fixtures.js';

const model = join(shared, 'fixtures/mini-t5-instruct');

/** Rows `ids` of shared.weight as float32 values, by numpy from the safetensors file. */
function numpyRows(ids: number[]): number[] {
  const script = [
    'import json, struct, sys, numpy as np',
    'f = open(sys.argv[1], "rb"); n = struct.unpack("<Q", f.read(8))[0]; e = json.loads(f.read(n))["shared.weight"]',
    'a, b = e["data_offsets"]; f.seek(8 + n + a); w = np.frombuffer(f.read(b - a), dtype="<f4").reshape(e["shape"])',
    'print(json.dumps(w[json.loads(sys.argv[2])].astype(float).ravel().tolist()))',
  ].join('\n');
  return JSON.parse(
    execFileSync('python3', ['-c', script, join(model, 'model.safetensors'), JSON.stringify(ids)], {
      encoding: 'utf8',
      maxBuffer: 16 * 2 ** 20,
    }),
  );
}

it(
  'a run stores the prompt it started from: the class-label init Hugging Face recorded, not the trained prompt',
  { timeout: 120_000 },
  async () => {
    const reference = JSON.parse(readFileSync(join(model, 'prompt_tuning_reference.json'), 'utf8')).runs.sst2;
    const home = tempDir('sprout-init-');
    const config = applyPreset(
      {
        model,
        device: 'cpu',
        threads: 1,
        train: { file: join(shared, 'data/sst2/train.tsv'), limit: 64 },
        task: { template: '{sentence}', labelColumn: 'label', verbalizer: { 0: 'negative', 1: 'positive' } },
        steps: 2,
        taskEmbeddingStep: 1,
      },
      presetSettings('lester-reference'),
    );
    const result = await runTraining({ config }, { ...inLibrary(home) });
    const db = openLibrary(libraryPath(home));
    const stored = requirePrompt(db, result.prompt_id!);
    db.close();
    // Each label word is one sentencepiece id (eos excluded), so its mean is that row.
    const ids = [...reference.candidate_ids.map((c: number[]) => c[0]), ...reference.init.random_vocab_ids_rows_2_to_19];
    expect(ids).toHaveLength(20);
    expect([...stored.initEmbedding!]).toEqual(numpyRows(ids));
    expect(stored.taskEmbeddingStep).toBe(1);
    expect([...stored.taskEmbedding!]).not.toEqual([...stored.initEmbedding!]);
    expect([...stored.embedding]).not.toEqual([...stored.initEmbedding!]);
  },
);
