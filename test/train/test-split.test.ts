/**
 * The test split is the headline (#25 item 1): `sprout train --data FILE` without `--validation` holds validation
 * and test shares out of CoLA's out-of-domain dev file (headerless TSV, as published) by unique text, as `sprout data
 * import` draws them (#25 item 7), chooses the step on validation only and scores the kept prompt once on the test
 * rows. The same rows imported as a dataset and scored by `sprout evaluate` give the same figures; what the library
 * stored is read with Python's sqlite3/json and the file with Python's csv.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lastJson, sprout } from '../fault/spawn.js';
import { shared, tinyModel } from './fixtures.js';

const instructModel = join(shared, 'fixtures/mini-t5-instruct');

const file = join(shared, 'data/cola/out_of_domain_dev.tsv');
const reading = ['--no-header', '--quoting', 'none'];
const columns = ['--text-column', '3', '--label-column', '1'];
const trainArgs = [
  'train',
  '--model',
  tinyModel,
  '--device',
  'cpu',
  '--threads',
  '1',
  '--data',
  file,
  ...reading,
  ...columns,
  '--verbalizer',
  '0=unacceptable,1=acceptable',
  '--prompt-length',
  '4',
  '--batch-size',
  '4',
  '--steps',
  '2',
  '--eval-every',
  '2',
];

interface Score {
  step: number;
  examples: number;
  rank_accuracy: number;
  macro_f1: number;
  mcc: number;
  majority: { label: string; share: number };
  zero_shot: { step: number; examples: number; rank_accuracy: number; macro_f1: number; mcc: number };
  warnings: string[];
}

const pick = ({ rank_accuracy, macro_f1, mcc }: Score['zero_shot']) => ({ rank_accuracy, macro_f1, mcc });

/** Python's sqlite3 + json: a prompt's stored test score, and the labels of a dataset's test rows. */
function pythonStored(home: string, promptId: number, datasetId: number): { test: Score; labels: Record<string, number> } {
  const script = `
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
metrics = json.loads(db.execute('SELECT metrics FROM prompts WHERE id = ?', (int(sys.argv[2]),)).fetchone()[0])
labels = dict(db.execute("SELECT label, COUNT(*) FROM dataset_rows WHERE dataset_id = ? AND split = 'test' GROUP BY label", (int(sys.argv[3]),)).fetchall())
print(json.dumps({'test': metrics['test'], 'labels': labels}))`;
  return JSON.parse(
    execFileSync('python3', ['-c', script, join(home, 'library.sqlite'), String(promptId), String(datasetId)], { encoding: 'utf8' }),
  ) as ReturnType<typeof pythonStored>;
}

/** Python's csv: the labelled rows of the file (column 1), as published (tab-separated, no quoting). */
function pythonRowCount(): number {
  const script = `
import csv, sys
with open(sys.argv[1], newline='', encoding='utf-8') as f:
    print(sum(1 for r in csv.reader(f, delimiter='\\t', quoting=csv.QUOTE_NONE) if r and r[1].strip() and r[3].strip()))`;
  return Number(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' }));
}

describe('the test split: held out, scored once at the end, the headline', () => {
  it(
    'train --data without --validation holds out validation and test as the import does; the test score is stored and evaluate reproduces it',
    { timeout: 120_000 },
    async () => {
      const home = mkdtempSync(join(tmpdir(), 'sprout-test-split-'));
      const trained = await sprout(trainArgs, home);
      expect(trained.code, trained.stderr).toBe(0);
      expect(trained.stderr).toMatch(
        /^holding 10 % for validation and 10 % for the test split out of each class of the training file, by unique text with seed 0/m,
      );
      const t = lastJson(trained) as {
        prompt_id: number;
        best: { examples: number } | null;
        best_step: number;
        baselines: { majority: unknown };
        test: Score | null;
        warnings: string[];
      };
      // Validation chose the step (so there is a best evaluation and its baselines); the test split scored the kept prompt.
      expect(t.best).not.toBeNull();
      expect(t.baselines.majority).not.toBeNull();
      expect(t.test).not.toBeNull();
      const test = t.test!;
      expect(test.step).toBe(t.best_step);
      expect(t.warnings).toEqual(test.warnings);
      const [, train, validation, tested] = trained.stderr.match(/(\d+) training, (\d+) validation and (\d+) test examples/)!.map(Number);
      expect(tested).toBe(test.examples);
      expect(validation).toBe(t.best!.examples);
      expect(train + validation + tested).toBe(pythonRowCount());
      expect(trained.stderr).toMatch(new RegExp(`^scoring the prompt kept from step ${t.best_step} on the ${tested} test examples`, 'm'));
      expect(trained.stderr).toMatch(/^test split \(\d+ examples, the prompt kept from step \d+\): rank accuracy/m);
      // Weight preparation said in one line per phase, though training, validation and test build sessions (#25.7).
      const prepared = trained.stderr.split('\n').filter((l) => /^(converting the weights|verifying the converted weights)/.test(l));
      expect(prepared.length).toBeGreaterThan(0);
      expect(new Set(prepared.map((l) => l.split(':')[0])).size).toBe(prepared.length);

      // The same file imported with the same shares and seed: the same test rows, so evaluate gives the same score.
      const imported = await sprout(
        ['data', 'import', file, ...reading, ...columns, '--split', '0.1', '--test-split', '0.1', '--name', 'cola-ood'],
        home,
      );
      expect(imported.code, imported.stderr).toBe(0);
      const d = lastJson(imported) as { id: number; splits: { train: number; validation: number; test: number } };
      expect(d.splits).toEqual({ train, validation, test: tested });
      const evaluated = await sprout(['evaluate', '--prompt', String(t.prompt_id), '--dataset', String(d.id), '--device', 'cpu'], home);
      expect(evaluated.code, evaluated.stderr).toBe(0);
      const e = lastJson(evaluated) as {
        split: string;
        examples: number;
        accuracy: number;
        mcc: number;
        baselines: { majority: { share: number } };
      };
      expect(e.split).toBe('test');
      expect(e.examples).toBe(test.examples);
      // The stored summary keeps 6 decimals.
      expect(e.accuracy).toBeCloseTo(test.rank_accuracy, 6);
      expect(e.mcc).toBeCloseTo(test.mcc, 6);

      // Stored with the prompt, with the test rows' own majority baseline (counted by Python from the dataset's rows).
      const stored = pythonStored(home, t.prompt_id, d.id);
      expect(stored.test).toEqual(test);
      const counts = Object.values(stored.labels);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(test.examples);
      expect(test.majority.share).toBeCloseTo(Math.max(...counts) / test.examples, 6);
      expect(e.baselines.majority.share).toBeCloseTo(test.majority.share, 6);
      // The run's initial prompt on the same test rows, beside the headline. Evaluate does not claim it: these rows
      // are another dataset's (an import of the same file), which Sprout cannot know to be the run's test rows.
      expect(test.zero_shot).toMatchObject({ step: 0, examples: test.examples });
      expect(e.baselines).toMatchObject({ zero_shot: null });
    },
  );

  it("the headline's zero-shot baseline is the run's initial prompt on the test rows", { timeout: 120_000 }, async () => {
    // mini-t5-instruct, whose prompt two steps move enough to change the test score (the tiny model's does not).
    const args = trainArgs.map((a) => (a === tinyModel ? instructModel : a));
    const testOf = async (extra: string[]) => {
      const r = await sprout([...args, ...extra], mkdtempSync(join(tmpdir(), 'sprout-test-split-')));
      expect(r.code, r.stderr).toBe(0);
      const { rank_accuracy, macro_f1, mcc, zero_shot } = (lastJson(r) as { test: Score }).test;
      return { kept: { rank_accuracy, macro_f1, mcc }, zeroShot: zero_shot };
    };
    const moved = await testOf([]);
    // From the same start (seed 0), steps that cannot move the prompt (lr 1e-30 changes no float32 value).
    const unmoved = await testOf(['--lr', '1e-30']);
    expect(unmoved.zeroShot).toEqual(moved.zeroShot);
    expect(unmoved.kept).toEqual(pick(unmoved.zeroShot));
    expect(moved.kept).not.toEqual(pick(moved.zeroShot));
  });

  it('refuses hold-out shares that leave nothing to train on, or that a dataset or validation file makes moot', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sprout-test-split-'));
    const tooMuch = await sprout([...trainArgs, '--split', '0.6', '--test-split', '0.4'], home);
    expect([tooMuch.code, tooMuch.stderr.trim()]).toEqual([
      2,
      expect.stringContaining('--split 0.6 and --test-split 0.4 leave no rows to train on'),
    ]);
    const withFile = await sprout([...trainArgs, '--validation', file, '--split', '0.2'], home);
    expect([withFile.code, withFile.stderr.trim()]).toEqual([
      2,
      expect.stringContaining('with --validation FILE there is nothing to hold out'),
    ]);
    const dataset = await sprout(['train', '--model', tinyModel, '--dataset', '1', '--test-split', '0.1'], home);
    expect([dataset.code, dataset.stderr.trim()]).toEqual([2, expect.stringContaining('a dataset has its splits from its import')]);
  });
});
