/**
 * A prompt that only says the majority label must not look like success: baselines, the collapse warning and
 * `auto`'s metric choice, on CoLA's real files (headerless TSV, 70/30 labels) with the tiny fixture. Label counts
 * are read independently with Python's csv module; the library record with Python's sqlite3.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { libraryPath } from '../../main/library/db.js';
import { chooseMetric, majorityBaseline, promptWarnings } from '../../main/train/baselines.js';
import type { EvalMetrics } from '../../main/train/evaluate.js';
import { classificationReport } from '../../main/train/metrics.js';
import { runTraining } from '../../main/train/run.js';
import { shared, tinyModel } from './fixtures.js';
import { pythonLabels } from './python-labels.js';

const colaFile = (name: string) => path.join(shared, 'data/cola', name);

const evalOf = (labels: string[], gold: number[], predicted: number[]): EvalMetrics => {
  const rank = classificationReport(labels, gold, predicted);
  return { examples: gold.length, rank, exactMatch: rank.accuracy, seconds: 0, firstOutputs: [] };
};

describe('baselines and warnings (engine)', () => {
  const trainLabels = pythonLabels(colaFile('in_domain_train.tsv'), 200);
  const devLabels = pythonLabels(colaFile('in_domain_dev.tsv'), 40);
  const idx = (ls: string[]) => ls.map((l) => ['0', '1'].indexOf(l));

  it('auto keeps by MCC on CoLA’s imbalanced labels, accuracy on balanced ones, macro-F1 for three imbalanced classes, and honours a request', () => {
    const ones = trainLabels.filter((l) => l === '1').length;
    expect(ones / 200).toBeGreaterThan(0.6); // CoLA is about 70 % acceptable
    const auto = chooseMetric('auto', ['0', '1'], idx(trainLabels));
    expect(auto.metric).toBe('mcc');
    expect(auto.reason).toContain(`"1" ${((100 * ones) / 200).toFixed(1)} %`);
    expect(chooseMetric(undefined, ['0', '1'], [0, 1, 0, 1, 1, 0]).metric).toBe('rank_accuracy');
    expect(chooseMetric('auto', ['a', 'b', 'c'], [0, 0, 0, 0, 0, 1, 2]).metric).toBe('macro_f1');
    expect(chooseMetric('rank_accuracy', ['0', '1'], idx(trainLabels))).toEqual({ metric: 'rank_accuracy', reason: 'accuracy, as asked' });
    expect(chooseMetric('auto', [], []).metric).toBe('exact_match');
  });

  it('the majority baseline of CoLA dev matches the counts Python reads', () => {
    const n = devLabels.length;
    const top = devLabels.filter((l) => l === '1').length >= n / 2 ? '1' : '0';
    const p = devLabels.filter((l) => l === top).length / n;
    const m = majorityBaseline(['0', '1'], idx(devLabels))!;
    expect(m.label).toBe(top);
    expect(m.share).toBeCloseTo(p, 6);
    expect(m.rank_accuracy).toBeCloseTo(p, 6);
    expect(m.macro_f1).toBeCloseTo((2 * p) / (1 + p) / 2, 6);
    expect(m.mcc).toBe(0);
  });

  it('warns when predictions collapse to one label and when the metric is not above the majority baseline; not for a real result', () => {
    const gold = idx(devLabels);
    const majority = majorityBaseline(['0', '1'], gold);
    const collapsed = promptWarnings(evalOf(['0', '1'], gold, gold.map(() => 1)), ['0', '1'], 'rank_accuracy', majority);
    expect(collapsed).toHaveLength(2);
    expect(collapsed[0]).toMatch(/^Every validation example was predicted "1"/);
    expect(collapsed[1]).toMatch(/^accuracy 0\.\d{3} is not above the majority-class baseline/);
    // Mixed answers no better than chance: only the baseline warning.
    const chance = promptWarnings(evalOf(['0', '1'], gold, gold.map((_, i) => i % 2)), ['0', '1'], 'mcc', majority);
    expect(chance).toHaveLength(1);
    expect(chance[0]).toMatch(/^MCC -?0\.\d{3} is not above the majority-class baseline \(0\.000/);
    // Mostly right: no warning.
    expect(promptWarnings(evalOf(['0', '1'], gold, gold.map((g, i) => (i === 0 ? 1 - g : g))), ['0', '1'], 'mcc', majority)).toEqual([]);
  });

  it('a run whose predictions collapse: baselines in the result and the library record, the warning in notes, MCC chosen by auto', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'sprout-baselines-'));
    // A long verbaliser for "0" gets a far lower summed log-probability from the random tiny model, so rank
    // classification answers "1" (acceptable) for every example: the collapse the issue describes.
    const result = await runTraining(
      {
        config: {
          model: tinyModel,
          device: 'cpu',
          threads: 1,
          train: { file: colaFile('in_domain_train.tsv'), header: false, quoting: 'none', limit: 200 },
          validation: { file: colaFile('in_domain_dev.tsv'), header: false, quoting: 'none', limit: 40 },
          task: { template: '{3}', labelColumn: '1', verbalizer: { 0: 'unacceptable because the sentence is not good English at all', 1: 'fine' } },
          promptLength: 4,
          batchSize: 4,
          steps: 6,
          evalEvery: 3,
          metric: 'auto',
        },
      },
      { dataDir: home },
    );
    const ones = devLabels.filter((l) => l === '1').length;
    expect(result.metric).toBe('mcc');
    expect(result.metric_reason).toMatch(/imbalanced/);
    expect(result.baselines.majority).toMatchObject({ label: '1', share: Number((ones / 40).toFixed(6)), mcc: 0 });
    expect(result.baselines.zero_shot).toMatchObject({ step: 0, examples: 40 });
    expect(result.best!.rank_accuracy).toBeCloseTo(ones / 40, 6);
    expect(result.warnings[0]).toBe('Every validation example was predicted "1": the prompt gives one answer whatever the input, so it has not learnt the task.');
    expect(result.warnings[1]).toMatch(/^MCC 0\.000 is not above the majority-class baseline/);
    for (const w of result.warnings) expect(result.notes).toContain(w);

    const script = 'import json,sqlite3,sys\ndb=sqlite3.connect(sys.argv[1])\nprint(db.execute("SELECT metrics FROM prompts WHERE id=?",(int(sys.argv[2]),)).fetchone()[0])';
    const stored = JSON.parse(execFileSync('python3', ['-c', script, libraryPath(home), String(result.prompt_id)], { encoding: 'utf8' }));
    expect(stored.metric).toBe('mcc');
    expect(stored.baselines).toEqual(result.baselines);
    expect(stored.warnings).toEqual(result.warnings);
  });
});
