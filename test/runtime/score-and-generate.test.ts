/**
 * An evaluation round scores each batch by rank and decodes it greedily. scoreAndGenerate does both from one encoder
 * pass (the score graph also gives its encoder output to greedy decoding); what it returns must be what score and
 * generate return alone, bit for bit, for every arithmetic an evaluation can run with. Real rows: held-out AG News
 * (data rows 6000.., read with Python's csv), Hugging Face's topic prompt for mini-t5-instruct.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instructModel, readInstructRuns, referencePrompt } from '../../main/bench/learning-reference.js';
import { loadPromptModel } from '../../main/runtime/model.js';
import { loadTokenizer } from '../../main/tokenizer/index.js';
import { shared } from '../train/fixtures.js';

const instruct = instructModel(shared);
const ROWS = 40;

function agNewsRows(): string[] {
  const script = `
import csv, json, sys
with open(sys.argv[1], encoding='utf-8', newline='') as f:
    rows = list(csv.reader(f))[6000:6000 + int(sys.argv[2])]
print(json.dumps([r[1].strip() + ' ' + r[2].strip() for r in rows]))`;
  return JSON.parse(execFileSync('python3', ['-c', script, join(shared, 'data/ag_news/test.csv'), String(ROWS)]).toString());
}

describe('scoreAndGenerate: one encoder pass for rank scores and greedy ids (mini-t5-instruct)', () => {
  const topic = readInstructRuns(shared).topic;
  const prompt = referencePrompt(topic);
  const candidates = topic.candidate_ids;
  let ids: number[][];

  // The int8 weights are converted into this home's cache (30 MB): removed afterwards, as a suite leaves many homes.
  const home = mkdtempSync(join(tmpdir(), 'sprout-score-generate-'));
  beforeAll(async () => {
    process.env.SPROUT_HOME = home;
    ids = (await loadTokenizer(instruct)).encodeBatch(agNewsRows(), { maxLength: 65 }).ids;
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  // Batches: a full one and a shorter one, since the encoder output's shape follows the batch. The CPU runs float16
  // graphs by casting, slowly (32 + 8 rows took 45 s), so float16 takes fewer rows.
  const arithmetics = [
    { name: 'float32', options: {}, batches: [32, 8] },
    { name: 'int8 products', options: { compute: 'int8' as const }, batches: [32, 8] },
    { name: 'float16', options: { precision: 'fp16' as const }, batches: [4, 2] },
  ];
  for (const { name, options, batches } of arithmetics) {
    it(`returns what score and generate return alone (${name})`, async () => {
      const model = await loadPromptModel(instruct, { device: 'cpu', threads: 1, ...options });
      try {
        for (const batch of [ids.slice(0, batches[0]), ids.slice(batches[0], batches[0] + batches[1])]) {
          const both = await model.scoreAndGenerate(prompt, batch, candidates, 3);
          expect(Array.from(both.scores)).toEqual(Array.from(await model.score(prompt, batch, candidates)));
          expect(both.generated).toEqual(await model.generate(prompt, batch, 3));
          expect(both.scores.length).toBe(batch.length * candidates.length);
        }
      } finally {
        await model.dispose();
      }
    });
  }
});
