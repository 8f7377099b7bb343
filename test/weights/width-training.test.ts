/**
 * Training and labelling at int8 against float32 on real data (CoLA, original TSV), with the pretrained mini
 * model: the run ends near the float32 run's training loss, the library records the width (read back with
 * Python's sqlite3), and the prompt trained on int8 weights scores the CoLA dev set (read with Python's csv)
 * within 1 accuracy point of the same prompt on float32 weights.
 *
 * A single run's final loss is chaotic here: Adafactor at lr 0.3 takes near-sign steps, so two runs part after ~10
 * steps and end wherever their last steps happen to land. Changing the learning rate by 3e-5 relative moves the
 * final float32 loss of a 600-step, batch-8 run by up to 10 %, and int8 against float32 (or that perturbed float32
 * run) differs by 1–19 % (5 seeds, measured). So the test holds int8 to float32 where the two runs still see the
 * same prompt (the first three steps, same batches: within 1 %, measured ≤ 0.2 %) and, once both have learned to
 * answer with the label words (loss 10.9 → ~0.4), to the same final loss within 25 %. The 300-step,
 * batch-32 comparison is `npm run bench -- width-cola`, which reports the same chaos band beside it.
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
import { runTraining } from '../../main/train/run.js';

const shared = resolve(__dirname, '../../../shared');
const model = join(shared, 'fixtures/mini-t5-pretrained');
const dev = join(shared, 'data/cola/in_domain_dev.tsv');

function python(script: string, ...args: string[]): unknown {
  return JSON.parse(execFileSync('python3', ['-c', script, ...args], { encoding: 'utf8' }));
}

describe('int8 weights on CoLA with the pretrained mini model', () => {
  const home = mkdtempSync(join(tmpdir(), 'sprout-width-cola-'));
  const train = (weights: 'fp32' | 'int8') => runTraining({ config: colaTrainingConfig(model, join(shared, 'data/cola/in_domain_train.tsv'), weights, 600, 8) }, { ...inLibrary(home) });

  it('tracks the float32 run, ends at its loss, records the width, and scores dev within 1 accuracy point of float32', async () => {
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
    expect(stored.runs).toEqual([[fp32.run_id, 'fp32'], [int8.run_id, 'int8']]);
    expect(stored.prompts).toEqual([[fp32.prompt_id, fp32.run_id, 'fp32'], [int8.prompt_id, int8.run_id, 'int8']]);

    const rows = python(
      `import csv, sys, json
with open(sys.argv[1], newline='') as f:
    print(json.dumps([[r[3], int(r[1])] for r in csv.reader(f, delimiter='\\t', quoting=csv.QUOTE_NONE)]))`,
      dev,
    ) as [string, number][];
    expect(rows).toHaveLength(527);
    const db = openLibrary(join(home, 'library.sqlite'));
    const prompt = loadSoftPrompt(db, int8.prompt_id!);
    db.close();
    const tok = await loadTokenizer(model);
    const inputs = rows.map(([text]) => tok.encode(text));
    const candidates = ['unacceptable', 'acceptable'].map((w) => tok.encode(w));
    const accuracy = async (weights: 'fp32' | 'int8') => {
      const m = await loadPromptModel(model, { device: 'cpu', weights, cacheDir: join(home, 'cache') });
      let correct = 0;
      for (let start = 0; start < rows.length; start += 32) {
        const scores = await m.score(prompt, inputs.slice(start, start + 32), candidates);
        rows.slice(start, start + 32).forEach(([, gold], i) => (correct += Number((scores[2 * i + 1] > scores[2 * i] ? 1 : 0) === gold)));
      }
      await m.dispose();
      return (100 * correct) / rows.length;
    };
    const onInt8 = await accuracy('int8');
    const onFp32 = await accuracy('fp32');
    expect(Math.abs(onInt8 - onFp32)).toBeLessThanOrEqual(1);
  }, 600_000);
});
