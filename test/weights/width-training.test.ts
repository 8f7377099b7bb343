/**
 * Training and labelling at int8 against float32 on real data, read by independent readers.
 *
 * CoLA (original TSV) with the pretrained mini model: the run ends near the float32 run's training loss and the
 * library records the width (read back with Python's sqlite3). A single run's final loss is chaotic here: Adafactor
 * at lr 0.3 takes near-sign steps, so two runs part after ~10 steps and end wherever their last steps happen to
 * land. Changing the learning rate by 3e-5 relative moves the final float32 loss of a 600-step, batch-8 run by up to
 * 10 %, and int8 against float32 (or that perturbed float32 run) differs by 1–19 % (5 seeds, measured). So the test
 * holds int8 to float32 where the two runs still see the same prompt (the first three steps, same batches: within
 * 1 %, measured ≤ 0.2 %) and, once both have learned to answer with the label words (loss 10.9 → ~0.4), to the same
 * final loss within 25 %. The issue's 300-step, batch-32 comparison is `npm run bench -- width-cola`.
 *
 * "A prompt trained on int8 weights scores within 1 accuracy point of the same prompt on float32 weights" is held on
 * a task the mini model has learned (held-out AG News topic on mini-t5-instruct), not on CoLA dev: no mini model has
 * learned CoLA (fixtures README: 69.26 %, the majority class, even with the instruction), so a CoLA prompt decides
 * 4–10 % of dev rows by less than int8's change to a row's margin (0.06 nats on average, at most 0.31, measured), and
 * its accuracy on int8 weights landed 0.6, 1.1 and 5.1 points from float32 as float rounding changes elsewhere in the
 * graph (bcb20d3, 6962a5f, 6a6e3db each moved the 600-step run from step 4 on) sent training to another prompt —
 * the same prompt scored alike before and after those commits. On AG News the prompt decides its rows: 1.6 % of them
 * change label (accuracy 51.25 % against 51.19 %), and they move between four classes, not all one way.
 */
import { inLibrary } from '../../main/library/run-records.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSoftPrompt } from '../../main/library/prompts.js';
import { openLibrary } from '../../main/library/db.js';
import { loadPromptModel } from '../../main/runtime/model.js';
import { loadTokenizer } from '../../main/tokenizer/load.js';
import { colaTrainingConfig } from '../../main/bench/width-cola.js';
import {
  AG_NEWS_TRAIN_ROWS,
  instructModel,
  learningConfig,
  readInstructRuns,
  REFERENCE_MAX_INPUT_LENGTH,
} from '../../main/bench/learning-reference.js';
import { runTraining } from '../../main/train/run.js';

const shared = resolve(__dirname, '../../../shared');
const model = join(shared, 'fixtures/mini-t5-pretrained');

function python(script: string, ...args: string[]): unknown {
  return JSON.parse(execFileSync('python3', ['-c', script, ...args], { encoding: 'utf8' }));
}

describe('int8 weights on CoLA with the pretrained mini model', () => {
  const home = mkdtempSync(join(tmpdir(), 'sprout-width-cola-'));
  const train = (weights: 'fp32' | 'int8') =>
    runTraining(
      { config: colaTrainingConfig(model, join(shared, 'data/cola/in_domain_train.tsv'), weights, 600, 8) },
      { ...inLibrary(home) },
    );

  it('tracks the float32 run, ends at its loss and records the width', async () => {
    const fp32 = await train('fp32');
    const int8 = await train('int8');
    expect(fp32.weights).toBe('fp32');
    expect(int8.weights).toBe('int8');
    expect(int8.last_loss!).toBeLessThan(fp32.first_loss! / 10);
    expect(Math.abs(int8.last_loss! - fp32.last_loss!) / fp32.last_loss!).toBeLessThan(0.25);

    const stored = python(
      `import sqlite3, sys, json
db = sqlite3.connect(sys.argv[1])
print(json.dumps({
  'runs': db.execute('SELECT id, weights FROM runs ORDER BY id').fetchall(),
  'prompts': db.execute('SELECT id, run_id, weight_width FROM prompts ORDER BY id').fetchall(),
  'losses': [[l for (l,) in db.execute('SELECT loss FROM run_metrics WHERE run_id = ? AND step <= 3 ORDER BY step', (r,))] for (r,) in db.execute('SELECT id FROM runs ORDER BY id')]}))`,
      join(home, 'library.sqlite'),
    ) as { runs: [number, string][]; prompts: [number, number, string][]; losses: number[][] };
    const [fp32Steps, int8Steps] = stored.losses;
    expect(int8Steps).toHaveLength(3);
    int8Steps.forEach((loss, i) => expect(Math.abs(loss - fp32Steps[i]) / fp32Steps[i]).toBeLessThan(0.01));
    expect(stored.runs).toEqual([
      [fp32.run_id, 'fp32'],
      [int8.run_id, 'int8'],
    ]);
    expect(stored.prompts).toEqual([
      [fp32.prompt_id, fp32.run_id, 'fp32'],
      [int8.prompt_id, int8.run_id, 'int8'],
    ]);
  }, 600_000);
});

describe('a prompt trained on int8 weights, on a task the mini model has learned', () => {
  const home = mkdtempSync(join(tmpdir(), 'sprout-width-topic-'));
  const instruct = instructModel(shared);
  const reference = readInstructRuns(shared).topic;
  const agNews = join(shared, 'data/ag_news/test.csv');

  it('labels the held-out AG News rows within 1 accuracy point of the same prompt on float32 weights', async () => {
    // Class-label init as the reference run; 40 steps at batch 8 is enough for a prompt that decides its rows.
    const validation = { file: agNews, header: false, skip: AG_NEWS_TRAIN_ROWS, limit: 32 };
    const run = await runTraining(
      {
        config: learningConfig(shared, 'topic', reference, {
          weights: 'int8',
          steps: 40,
          batchSize: 8,
          evalSteps: [40],
          checkpointEvery: 40,
          validation,
        }),
      },
      { ...inLibrary(home) },
    );
    expect(run.weights).toBe('int8');
    const db = openLibrary(join(home, 'library.sqlite'));
    const prompt = loadSoftPrompt(db, run.prompt_id!);
    db.close();

    const rows = python(
      `import csv, sys, json
with open(sys.argv[1], encoding='utf-8', newline='') as f:
    print(json.dumps([[r[1].strip() + ' ' + r[2].strip(), int(r[0]) - 1] for r in list(csv.reader(f))[int(sys.argv[2]):]]))`,
      agNews,
      String(AG_NEWS_TRAIN_ROWS),
    ) as [string, number][];
    expect(rows).toHaveLength(1600);
    const { ids } = (await loadTokenizer(instruct)).encodeBatch(
      rows.map(([text]) => text),
      { maxLength: REFERENCE_MAX_INPUT_LENGTH },
    );
    const labels = async (weights: 'fp32' | 'int8') => {
      const m = await loadPromptModel(instruct, { device: 'cpu', weights, cacheDir: join(home, 'cache') });
      const out: number[] = [];
      for (let start = 0; start < ids.length; start += 64) {
        const scores = await m.score(prompt, ids.slice(start, start + 64), reference.candidate_ids);
        for (let r = 0; r < scores.length / 4; r++) {
          const row = Array.from(scores.subarray(4 * r, 4 * r + 4));
          out.push(row.indexOf(Math.max(...row)));
        }
      }
      await m.dispose();
      return out;
    };
    const [onInt8, onFp32] = [await labels('int8'), await labels('fp32')];
    const accuracy = (labelled: number[]) => (100 * labelled.filter((l, i) => l === rows[i][1]).length) / rows.length;
    // The prompt has learned: well above the majority class (23.8 %), so its rows are decided, not coin tosses.
    expect(accuracy(onFp32)).toBeGreaterThan(40);
    // int8 moves a few close calls (measured 25 of 1600 rows for this prompt, 11 for Hugging Face's float32-trained
    // one): a broken scale or a row read at the wrong width moves hundreds.
    const changed = onInt8.filter((l, i) => l !== onFp32[i]).length;
    expect((100 * changed) / rows.length).toBeLessThan(2.5);
    expect(Math.abs(accuracy(onInt8) - accuracy(onFp32))).toBeLessThanOrEqual(1);
  }, 600_000);
});
