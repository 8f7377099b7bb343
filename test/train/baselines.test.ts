/**
 * A prompt that only says the majority label must not look like success: baselines, the collapse warning and
 * `auto`'s metric choice, on CoLA's real files (headerless TSV, 70/30 labels) with the tiny fixture. Label counts
 * are read independently with Python's csv module; the library record with Python's sqlite3.
 */
import { inLibrary } from '../../main/library/run-records.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { libraryPath } from '../../main/library/db.js';
import { chooseMetric, judgeReport, majorityBaseline, promptWarnings } from '../../main/train/baselines.js';
import type { EvalMetrics } from '../../main/train/evaluate.js';
import { summarizeEval } from '../../main/train/eval-summary.js';
import { classificationReport } from '../../main/train/metrics.js';
import { runTraining } from '../../main/train/run.js';
import { shared, tinyModel } from './fixtures.js';
import { pythonLabels } from './python-labels.js';

const colaFile = (name: string) => path.join(shared, 'data/cola', name);

const evalOf = (labels: string[], gold: number[], predicted: number[]): EvalMetrics => {
  const rank = classificationReport(labels, gold, predicted);
  return { examples: gold.length, rank, exactMatch: rank.accuracy, seconds: 0, firstOutputs: [] };
};

describe("a standalone evaluation beside its run's zero-shot baseline", () => {
  it('compares with it only on as many rows as the run scored it on, never claiming the same examples otherwise', () => {
    // The run scored its initial prompt on the first 20 of CoLA dev's 40 rows (--eval-limit 20); evaluate scored all 40
    // and said the kept prompt was "not above the zero-shot baseline (…: the initial prompt on the same examples)".
    const dev = pythonLabels(colaFile('in_domain_dev.tsv'), 40).map(Number);
    const report = classificationReport(
      ['0', '1'],
      dev,
      dev.map(() => 1),
    );
    const zeroShot = { step: 0, examples: 20, rank_accuracy: 0.95, exact_match: 0.95, macro_f1: 0.95, mcc: 0.9, valid_label_share: 1 };
    const stored = { metric: 'rank_accuracy', baselines: { majority: null, zero_shot: zeroShot } };
    const all = judgeReport(['0', '1'], report, stored, 'validation', 'validation');
    expect(all.baselines.zero_shot).toBeNull();
    expect(all.warnings.join(' ')).not.toMatch(/zero-shot|same examples/);
    const first = classificationReport(
      ['0', '1'],
      dev.slice(0, 20),
      dev.slice(0, 20).map(() => 1),
    );
    const same = judgeReport(['0', '1'], first, stored, 'validation', 'validation');
    expect(same.baselines.zero_shot).toEqual(zeroShot);
    expect(same.warnings.join(' ')).toMatch(/not above the zero-shot baseline \(95\.0 %: the initial prompt on the same examples\)/);
  });
});

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
    // AG News: 1,900 rows of each class, so no class is the largest or the smallest.
    const agNewsScript = 'import csv,json,sys\nprint(json.dumps([int(r[0]) - 1 for r in csv.reader(open(sys.argv[1], newline=""))]))';
    const agNews: number[] = JSON.parse(
      execFileSync('python3', ['-c', agNewsScript, path.join(shared, 'data/ag_news/test.csv')], { encoding: 'utf8' }),
    );
    expect(chooseMetric('auto', ['1', '2', '3', '4'], agNews).reason).toBe(
      'accuracy: the classes are balanced (each of the 4 labels 25.0 % of the training examples) (auto)',
    );
    expect(chooseMetric('auto', ['0', '1'], [0, 1, 0, 1, 1, 0, 1]).reason).toBe(
      'accuracy: the classes are balanced ("1" 57.1 %, "0" 42.9 % of the training examples) (auto)',
    );
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
    const collapsed = promptWarnings(
      evalOf(
        ['0', '1'],
        gold,
        gold.map(() => 1),
      ),
      ['0', '1'],
      'rank_accuracy',
      majority,
    );
    expect(collapsed).toHaveLength(2);
    expect(collapsed[0]).toMatch(/^Every validation example was predicted "1"/);
    expect(collapsed[1]).toMatch(/^accuracy \d+\.\d % is not above the majority-class baseline \(\d+\.\d %: always answering/);
    // Mixed answers no better than chance: only the baseline warning.
    const chance = promptWarnings(
      evalOf(
        ['0', '1'],
        gold,
        gold.map((_, i) => i % 2),
      ),
      ['0', '1'],
      'mcc',
      majority,
    );
    expect(chance).toHaveLength(1);
    expect(chance[0]).toMatch(/^MCC -?0\.\d{3} is not above the majority-class baseline \(0\.000/);
    // Mostly right: no warning.
    expect(
      promptWarnings(
        evalOf(
          ['0', '1'],
          gold,
          gold.map((g, i) => (i === 0 ? 1 - g : g)),
        ),
        ['0', '1'],
        'mcc',
        majority,
      ),
    ).toEqual([]);
  });

  it('warns when the prompt is not above its own initial prompt on the same rows (the zero-shot baseline)', () => {
    const gold = idx(devLabels);
    const labels = ['0', '1'];
    const majority = majorityBaseline(labels, gold);
    // The initial prompt gets one example wrong; a trained prompt that gets two wrong is worse than where it started.
    const oneWrong = evalOf(
      labels,
      gold,
      gold.map((g, i) => (i === 0 ? 1 - g : g)),
    );
    const twoWrong = evalOf(
      labels,
      gold,
      gold.map((g, i) => (i < 2 ? 1 - g : g)),
    );
    const initial = summarizeEval(0, oneWrong);
    const worse = promptWarnings(twoWrong, labels, 'rank_accuracy', majority, 'test', initial);
    const [kept, start] = [(gold.length - 2) / gold.length, (gold.length - 1) / gold.length].map((a) => `${(100 * a).toFixed(1)} %`);
    expect(worse).toEqual([
      `accuracy ${kept} is not above the zero-shot baseline (${start}: the initial prompt on the same examples): training has not improved on where it started.`,
    ]);
    // Equal is not above; better, or no zero-shot score, is no warning.
    expect(promptWarnings(oneWrong, labels, 'mcc', majority, 'test', initial)).toHaveLength(1);
    expect(promptWarnings(oneWrong, labels, 'mcc', majority, 'test', summarizeEval(0, twoWrong))).toEqual([]);
    expect(promptWarnings(twoWrong, labels, 'mcc', majority, 'test', null)).toEqual([]);
  });

  it('warns about a near-constant prompt: a class of ≥ 5 % found under 10 % of the time, a label predicted far beyond its share', () => {
    // The spam file: 539 validation rows, 73 spam; 535 predicted ham, one spam found. MCC is just above 0,
    // so neither the collapse warning nor the baseline warning fires.
    const labels = ['ham', 'spam'];
    const gold = [...new Array<number>(466).fill(0), ...new Array<number>(73).fill(1)];
    const predicted = gold.map((g, i) => (g === 0 ? (i < 3 ? 1 : 0) : i === 466 ? 1 : 0));
    const m = evalOf(labels, gold, predicted);
    expect(m.rank!.mcc).toBeGreaterThan(0);
    const warnings = promptWarnings(m, labels, 'mcc', majorityBaseline(labels, gold));
    expect(warnings).toEqual([
      '"spam" is 13.5 % of the validation examples, but the prompt found 1 of its 73 (recall 1.4 %): it almost never answers "spam".',
      '"ham" was predicted for 99.3 % of the validation examples but is 86.5 % of them: the prompt leans towards answering it whatever the input.',
    ]);
    // Three classes, CB-like: "neutral" is 6 % and never found; at 4 % it would be too rare to judge this way.
    const three = ['contradiction', 'entailment', 'neutral'];
    const cb = (neutral: number) => [
      ...new Array<number>(47).fill(0),
      ...new Array<number>(53 - neutral).fill(1),
      ...new Array<number>(neutral).fill(2),
    ];
    const missNeutral = (g: number[]) =>
      evalOf(
        three,
        g,
        g.map((x) => (x === 2 ? 1 : x)),
      );
    expect(promptWarnings(missNeutral(cb(6)), three, 'macro_f1', null, 'test')).toEqual([
      '"neutral" is 6.0 % of the test examples, but the prompt found 0 of its 6 (recall 0.0 %): it almost never answers "neutral".',
    ]);
    expect(promptWarnings(missNeutral(cb(4)), three, 'macro_f1', null, 'test')).toEqual([]);
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
          task: {
            template: '{3}',
            labelColumn: '1',
            verbalizer: { 0: 'unacceptable because the sentence is not good English at all', 1: 'fine' },
          },
          promptLength: 4,
          batchSize: 4,
          // One evaluation after the zero-shot one is all the warnings need; each builds its sessions anew.
          steps: 3,
          evalEvery: 3,
          metric: 'auto',
        },
      },
      { ...inLibrary(home) },
    );
    const ones = devLabels.filter((l) => l === '1').length;
    expect(result.metric).toBe('mcc');
    expect(result.metric_reason).toMatch(/imbalanced/);
    expect(result.baselines.majority).toMatchObject({ label: '1', share: Number((ones / 40).toFixed(6)), mcc: 0 });
    expect(result.baselines.zero_shot).toMatchObject({ step: 0, examples: 40 });
    expect(result.best!.rank_accuracy).toBeCloseTo(ones / 40, 6);
    expect(result.warnings[0]).toBe(
      'Every validation example was predicted "1": the prompt gives one answer whatever the input, so it has not learnt the task.',
    );
    expect(result.warnings[1]).toMatch(/^MCC 0\.000 is not above the majority-class baseline/);
    for (const w of result.warnings) expect(result.notes).toContain(w);

    const script =
      'import json,sqlite3,sys\ndb=sqlite3.connect(sys.argv[1])\nprint(db.execute("SELECT metrics FROM prompts WHERE id=?",(int(sys.argv[2]),)).fetchone()[0])';
    const stored = JSON.parse(execFileSync('python3', ['-c', script, libraryPath(home), String(result.prompt_id)], { encoding: 'utf8' }));
    expect(stored.metric).toBe('mcc');
    expect(stored.baselines).toEqual(result.baselines);
    expect(stored.warnings).toEqual(result.warnings);
  });
});
