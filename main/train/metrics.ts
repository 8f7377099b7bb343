/**
 * Classification metrics: the one definition that training, evaluation, baselines and the labelling review all
 * report, so the same predictions get the same numbers everywhere.
 *
 * Classes are the task's labels, and for labelling review also any gold value outside them. A prediction that is
 * no class (a greedy output that is not a label) is wrong: it counts in the confusion matrix's extra last column,
 * a miss for its gold class and a false positive for none.
 *
 * Macro-F1 averages the F1 of the classes that occur in the gold labels or in the predictions, as scikit-learn's
 * f1_score(average='macro') does. F1 = 2TP / (2TP + FP + FN) is undefined (0/0) for a class that is neither, and
 * counting it as 0 would punish a model for a class the data never asked about: a validation sample without a
 * rare class, or a review of a few files, would report a lower macro-F1 for the same correct predictions. A class
 * that is predicted but never gold, or gold but never predicted, has F1 = 0 and counts. Precision of a class
 * never predicted and recall of a class never gold are undefined too; they are reported as 0 (scikit-learn's
 * zero_division=0), which is also their F1.
 */

import type { EvalMetricName } from '../choices.js';
import { labelOf } from '../data/values.js';

export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** Gold examples of this class. */
  support: number;
}

export interface ClassificationReport {
  accuracy: number;
  macroF1: number;
  /** Matthews correlation (Gorodkin's multi-class R_K); 0 when undefined (one class predicted or present). */
  mcc: number;
  perClass: ClassMetrics[];
  /** confusion[gold][predicted] over the classes; the extra last column counts predictions that are no class. */
  confusion: number[][];
}

/** A metric of one report; accuracy stands for both `rank_accuracy` and `exact_match`, the report's own predictions. */
export function reportMetric(r: ClassificationReport, name: EvalMetricName): number {
  return name === 'macro_f1' ? r.macroF1 : name === 'mcc' ? r.mcc : r.accuracy;
}

function f1Of(precision: number, recall: number): number {
  return precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
}

/** Column sums of the confusion matrix over the classes: how often each class was predicted. */
function predictedCounts(confusion: number[][], K: number): number[] {
  return Array.from({ length: K }, (_, k) => confusion.reduce((s, row) => s + row[k], 0));
}

/**
 * Gorodkin's R_K = (c·s − Σ p_k t_k) / sqrt((s² − Σ p_k²)(s² − Σ t_k²)). An invalid output is wrong: with two
 * classes it counts as the other one (as the reference runs score greedy MCC), with more it belongs to none.
 */
function matthews(confusion: number[][], predicted: number[], support: number[]): number {
  const K = support.length;
  const n = support.reduce((a, b) => a + b, 0);
  const correct = confusion.reduce((s, row, k) => s + row[k], 0);
  const p = [...predicted];
  if (K === 2) {
    p[0] += confusion[1][K];
    p[1] += confusion[0][K];
  }
  const pt = p.reduce((s, pk, k) => s + pk * support[k], 0);
  const denom = Math.sqrt((n * n - p.reduce((s, x) => s + x * x, 0)) * (n * n - support.reduce((s, x) => s + x * x, 0)));
  return denom > 0 ? (correct * n - pt) / denom : 0;
}

/** The report of a confusion matrix over `labels` (K rows of K + 1 counts, the last for predictions that are no class). */
export function reportFromConfusion(labels: readonly string[], confusion: number[][]): ClassificationReport {
  const K = labels.length;
  const predicted = predictedCounts(confusion, K);
  const support = confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const perClass = labels.map((label, k) => {
    const tp = confusion[k][k];
    const precision = predicted[k] ? tp / predicted[k] : 0;
    const recall = support[k] ? tp / support[k] : 0;
    return { label, precision, recall, f1: f1Of(precision, recall), support: support[k] };
  });
  const counted = perClass.filter((_, k) => support[k] + predicted[k] > 0);
  const n = support.reduce((a, b) => a + b, 0);
  const correct = confusion.reduce((s, row, k) => s + row[k], 0);
  return {
    accuracy: n ? correct / n : 0,
    macroF1: counted.length ? counted.reduce((s, c) => s + c.f1, 0) / counted.length : 0,
    mcc: matthews(confusion, predicted, support),
    perClass,
    confusion,
  };
}

/** `gold[i]` is a label index; `predicted[i]` a label index, or -1 for an output that is no label (counted wrong). */
export function classificationReport(labels: readonly string[], gold: number[], predicted: number[]): ClassificationReport {
  const K = labels.length;
  const confusion = Array.from({ length: K }, () => new Array<number>(K + 1).fill(0));
  gold.forEach((g, i) => confusion[g][predicted[i] < 0 ? K : predicted[i]]++);
  return reportFromConfusion(labels, confusion);
}

/**
 * Predictions against a gold column by name, kept as running counts so that a resumed labelling job continues
 * them. Rows whose gold value is empty are not scored.
 */
export interface GoldCounts {
  /** confusion[gold][predicted] = rows. */
  confusion: Record<string, Record<string, number>>;
  /** Labelled rows without a gold value. */
  noGold: number;
}

export function emptyGoldCounts(): GoldCounts {
  return { confusion: {}, noGold: 0 };
}

export function addGold(counts: GoldCounts, raw: string | null | undefined, predicted: string): void {
  const gold = labelOf(raw);
  if (gold === undefined) {
    counts.noGold++;
    return;
  }
  const row = (counts.confusion[gold] ??= {});
  row[predicted] = (row[predicted] ?? 0) + 1;
}

/** The labelling summary's report (its JSON names): the classes are the label set, then gold values outside it. */
export interface AccuracyReport {
  rows: number;
  accuracy: number;
  macro_f1: number;
  mcc: number;
  per_class: Record<string, Omit<ClassMetrics, 'label'>>;
  labels: string[];
  /** confusion[i][j]: rows with gold labels[i] predicted as labels[j]; the last column, predicted as none of them. */
  confusion: number[][];
  no_gold: number;
}

export function accuracyReport(counts: GoldCounts, labelSet: readonly string[]): AccuracyReport {
  const labels = [...labelSet];
  for (const gold of Object.keys(counts.confusion).sort()) if (!labels.includes(gold)) labels.push(gold);
  const confusion = labels.map((g) => {
    const row = counts.confusion[g] ?? {};
    const other = Object.entries(row).reduce((n, [p, rows]) => (labels.includes(p) ? n : n + rows), 0);
    return [...labels.map((p) => row[p] ?? 0), other];
  });
  const r = reportFromConfusion(labels, confusion);
  const per_class = Object.fromEntries(r.perClass.map(({ label, ...c }) => [label, c]));
  const rows = confusion.flat().reduce((a, b) => a + b, 0);
  return { rows, accuracy: r.accuracy, macro_f1: r.macroF1, mcc: r.mcc, per_class, labels, confusion, no_gold: counts.noGold };
}
