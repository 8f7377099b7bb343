/**
 * The one metrics module: hand-computed values, the textbook definitions at the edges (a class never predicted, a
 * class absent from the gold labels, a class that is neither), training and review agreeing on the same
 * predictions, and an independent NumPy computation of scikit-learn's definitions on random cases.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { EVAL_METRICS } from '../../main/choices.js';
import { metricValue, type EvalMetrics } from '../../main/train/evaluate.js';
import {
  accuracyReport,
  addGold,
  classificationReport,
  emptyGoldCounts,
  reportMetric,
  type ClassificationReport,
} from '../../main/train/metrics.js';

const f1 = (p: number, r: number) => (2 * p * r) / (p + r);

describe('classification report', () => {
  it('computes per-class precision/recall/F1, macro-F1, MCC and the confusion matrix with an invalid column', () => {
    // gold: a a a b b c ; predicted: a b a b -1 c
    const r = classificationReport(['a', 'b', 'c'], [0, 0, 0, 1, 1, 2], [0, 1, 0, 1, -1, 2]);
    expect(r.confusion).toEqual([
      [2, 1, 0, 0],
      [0, 1, 0, 1],
      [0, 0, 1, 0],
    ]);
    expect(r.accuracy).toBeCloseTo(4 / 6, 12);
    expect(r.perClass.map((c) => [c.precision, c.recall, c.support])).toEqual([
      [1, 2 / 3, 3],
      [0.5, 0.5, 2],
      [1, 1, 1],
    ]);
    expect(r.macroF1).toBeCloseTo((0.8 + 0.5 + 1) / 3, 12);
    // Gorodkin R_K by hand: c=4, s=6, p=(2,2,1), t=(3,2,1).
    expect(r.mcc).toBeCloseTo((4 * 6 - (2 * 3 + 2 * 2 + 1 * 1)) / Math.sqrt((36 - 9) * (36 - 14)), 12);
  });

  it('binary: an invalid output counts as the other label for MCC (all invalid gives -1, as the reference runs report)', () => {
    expect(classificationReport(['n', 'p'], [0, 1, 1, 0], [-1, -1, -1, -1]).mcc).toBeCloseTo(-1, 12);
    expect(classificationReport(['n', 'p'], [0, 1, 1, 1], [1, 1, 1, 1]).mcc).toBe(0);
  });

  it('a class never predicted: precision 0 by convention, recall 0, F1 0, and it counts in macro-F1', () => {
    // gold: a a b b c ; predicted: a a b b a
    const r = classificationReport(['a', 'b', 'c'], [0, 0, 1, 1, 2], [0, 0, 1, 1, 0]);
    expect(r.perClass[2]).toEqual({ label: 'c', precision: 0, recall: 0, f1: 0, support: 1 });
    expect(r.perClass[0].f1).toBeCloseTo(f1(2 / 3, 1), 12);
    expect(r.macroF1).toBeCloseTo((0.8 + 1 + 0) / 3, 12);
  });

  it('a class predicted but absent from the gold labels: F1 0, and it counts in macro-F1', () => {
    // gold: a a b b ; predicted: a c b b
    const r = classificationReport(['a', 'b', 'c'], [0, 0, 1, 1], [0, 2, 1, 1]);
    expect(r.perClass[2]).toEqual({ label: 'c', precision: 0, recall: 0, f1: 0, support: 0 });
    expect(r.macroF1).toBeCloseTo((f1(1, 0.5) + 1 + 0) / 3, 12);
  });

  it('a class neither gold nor predicted has no F1 and is left out of macro-F1', () => {
    // gold: a a b b ; predicted: a b b b. F1(a) = 2/3, F1(b) = 0.8; c is undefined (0/0), not 0.
    const r = classificationReport(['a', 'b', 'c'], [0, 0, 1, 1], [0, 1, 1, 1]);
    expect(r.macroF1).toBeCloseTo((2 / 3 + 0.8) / 2, 12);
    // Binary phi of the same predictions: (TP·TN − FP·FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)) with b positive.
    expect(r.mcc).toBeCloseTo((2 * 1 - 1 * 0) / Math.sqrt(3 * 2 * 2 * 1), 12);
  });

  it('no examples: every figure 0', () => {
    const r = classificationReport(['a', 'b'], [], []);
    expect([r.accuracy, r.macroF1, r.mcc]).toEqual([0, 0, 0]);
  });
});

describe('the metric a run is judged by', () => {
  const rank = classificationReport(['a', 'b', 'c'], [0, 0, 0, 1, 1, 2], [0, 1, 0, 1, -1, 2]);
  const greedy = classificationReport(['a', 'b', 'c'], [0, 0, 0, 1, 1, 2], [1, 1, 1, 1, 1, 1]);
  const base = { examples: 6, exactMatch: 1 / 6, firstOutputs: [], seconds: 0 };

  it('reads each metric from a report: accuracy, macro-F1, MCC', () => {
    expect(EVAL_METRICS.map((m) => reportMetric(rank, m))).toEqual(
      EVAL_METRICS.map((m) => (m === 'macro_f1' ? rank.macroF1 : m === 'mcc' ? rank.mcc : rank.accuracy)),
    );
  });

  it('reads an evaluation round through the same definition: rank first, exact match from greedy decoding', () => {
    const m: EvalMetrics = { ...base, rank, greedy };
    expect(EVAL_METRICS.map((name) => metricValue(m, name))).toEqual([rank.accuracy, 1 / 6, rank.macroF1, rank.mcc]);
    expect(EVAL_METRICS.map((name) => metricValue({ ...base, greedy }, name))).toEqual([1 / 6, 1 / 6, greedy.macroF1, greedy.mcc]);
    expect(EVAL_METRICS.map((name) => metricValue(base, name))).toEqual([1 / 6, 1 / 6, 1 / 6, 1 / 6]);
  });
});

describe('labelling review against a gold column', () => {
  it('counts accuracy, macro-F1 over classes present and a confusion matrix with unknown gold values', () => {
    const c = emptyGoldCounts();
    const pairs: [string | null, string][] = [
      ['a', 'a'],
      ['a', 'b'],
      ['b', 'b'],
      ['b ', 'b'],
      ['x', 'a'],
      [null, 'a'],
      ['  ', 'b'],
    ];
    for (const [g, p] of pairs) addGold(c, g, p);
    const r = accuracyReport(c, ['a', 'b', 'c']);
    expect(r.rows).toBe(5);
    expect(r.no_gold).toBe(2);
    expect(r.accuracy).toBeCloseTo(3 / 5, 12);
    expect(r.labels).toEqual(['a', 'b', 'c', 'x']);
    expect(r.confusion).toEqual([
      [1, 1, 0, 0, 0],
      [0, 2, 0, 0, 0],
      [0, 0, 0, 0, 0],
      [1, 0, 0, 0, 0],
    ]);
    // a: P 1/2 R 1/2 F 1/2; b: P 2/3 R 1 F 0.8; x: 0; c is neither gold nor predicted and does not count.
    expect(r.macro_f1).toBeCloseTo((0.5 + 0.8 + 0) / 3, 12);
    expect(r.per_class.b).toEqual({ precision: 2 / 3, recall: 1, f1: expect.closeTo(0.8, 12), support: 2 });
  });

  it('an output that is no class (free-text generation) is a wrong row, not a dropped one', () => {
    const c = emptyGoldCounts();
    for (const [g, p] of [
      ['yes', 'yes'],
      ['no', 'No.'],
      ['no', 'no'],
    ])
      addGold(c, g, p);
    const r = accuracyReport(c, []);
    expect(r.rows).toBe(3);
    expect(r.accuracy).toBeCloseTo(2 / 3, 12);
    expect(r.labels).toEqual(['no', 'yes']);
    expect(r.confusion).toEqual([
      [1, 0, 1],
      [0, 1, 0],
    ]);
    expect(r.per_class.no).toEqual({ precision: 1, recall: 0.5, f1: expect.closeTo(2 / 3, 12), support: 2 });
  });

  it('reports what training reports for the same predictions', () => {
    const labels = ['neg', 'neu', 'pos', 'mixed'];
    const gold = [0, 0, 1, 2, 2, 2, 1, 0, 2];
    const predicted = [0, 2, 1, 2, 0, 2, 2, 0, 2];
    const counts = emptyGoldCounts();
    gold.forEach((g, i) => addGold(counts, labels[g], labels[predicted[i]]));
    const review = accuracyReport(counts, labels);
    const training = classificationReport(labels, gold, predicted);
    expect([review.accuracy, review.macro_f1, review.mcc]).toEqual([training.accuracy, training.macroF1, training.mcc]);
    expect(review.confusion).toEqual(training.confusion);
    expect(training.perClass.map(({ label, ...c }) => [label, c])).toEqual(Object.entries(review.per_class));
  });
});

/** A small deterministic generator: cases are random but the same on every run. */
function* lcg(seed: number): Generator<number> {
  let s = seed >>> 0;
  for (;;) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    yield s / 2 ** 32;
  }
}

// scikit-learn's definitions written out in NumPy (scikit-learn itself is not installed): f1_score(average='macro')
// over the union of gold and predicted labels with zero_division=0, and matthews_corrcoef's covariance form.
const NUMPY_REFERENCE = `
import json, sys
import numpy as np
out = []
for case in json.load(sys.stdin):
    k = case["k"]; g = np.array(case["gold"]); p = np.array(case["pred"])
    C = np.zeros((k, k))
    np.add.at(C, (g, p), 1)
    tp = np.diag(C); pred = C.sum(0); true = C.sum(1)
    present = np.union1d(g, p)
    f1 = [2 * tp[c] / (pred[c] + true[c]) for c in present]
    n = C.sum(); cov = tp.sum() * n - true @ pred
    den = np.sqrt((n * n - pred @ pred) * (n * n - true @ true))
    out.append({"accuracy": tp.sum() / n, "macro_f1": float(np.mean(f1)), "mcc": float(cov / den) if den > 0 else 0.0})
print(json.dumps(out))
`;

describe('against an independent computation', () => {
  it('agrees with NumPy on scikit-learn’s definitions for 40 random cases', () => {
    const rand = lcg(24);
    const cases = Array.from({ length: 40 }, () => {
      const k = 2 + Math.floor(rand.next().value! * 5);
      const n = 1 + Math.floor(rand.next().value! * 30);
      // Some classes left out of the gold labels or the predictions, so the edge cases come up.
      const draw = (skip: number) => Array.from({ length: n }, () => Math.floor(rand.next().value! * (k - skip)));
      return { k, gold: draw(Math.floor(rand.next().value! * 2)), pred: draw(Math.floor(rand.next().value! * 2)) };
    });
    const expected = JSON.parse(execFileSync('python3', ['-c', NUMPY_REFERENCE], { input: JSON.stringify(cases), encoding: 'utf8' }));
    const labels = (k: number) => Array.from({ length: k }, (_, i) => `c${i}`);
    const ours = cases.map((c): ClassificationReport => classificationReport(labels(c.k), c.gold, c.pred));
    ours.forEach((r, i) => {
      expect(r.accuracy).toBeCloseTo(expected[i].accuracy, 12);
      expect(r.macroF1).toBeCloseTo(expected[i].macro_f1, 12);
      expect(r.mcc).toBeCloseTo(expected[i].mcc, 12);
    });
  });
});
