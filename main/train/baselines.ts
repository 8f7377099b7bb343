/**
 * What a prompt's score means: the majority-class baseline (always answering the most frequent validation label)
 * and the zero-shot baseline (the initial prompt, step 0) beside every metric, the metric the best prompt is kept
 * by (MCC or macro-F1 when classes are imbalanced, where accuracy rewards answering the majority label), and plain
 * warnings when the predictions collapse to one label or lean on one, or the metric is not above the majority or the
 * zero-shot baseline.
 */
import { metricText, percentText } from '../wording.js';
import { EVAL_METRIC_NAMES, EVAL_METRICS, isOneOf, type EvalMetricName, type MetricRequest } from '../choices.js';
import type { EvalMetrics } from './evaluate.js';
import { summarizeEval, type EvalSummary } from './eval-summary.js';
import { classificationReport, type ClassificationReport } from './metrics.js';

/** `--metric auto` picks a class-balanced metric when the largest class has at least this many times the smallest's examples. */
export const IMBALANCE_RATIO = 1.5;

export interface MetricChoice {
  metric: EvalMetricName;
  /** Why this metric: asked for, or what `auto` saw in the training labels. */
  reason: string;
}

export interface MajorityBaseline {
  /** The most frequent label of the evaluated examples, and its share of them. */
  label: string;
  share: number;
  /** Scores of answering `label` for every example. */
  rank_accuracy: number;
  exact_match: number;
  macro_f1: number;
  mcc: number;
}

export interface Baselines {
  majority: MajorityBaseline | null;
  /** The initial prompt's evaluation (step 0); null without validation data. */
  zero_shot: EvalSummary | null;
}

/** What a score means: the metric it is judged by, the baselines beside it, and warnings. */
export interface Judgement {
  /** Null for a run recorded before it started training (or by an older Sprout). */
  metric: MetricChoice | null;
  baselines: Baselines;
  warnings: string[];
}

const share = (n: number, total: number) => percentText(n / total);
const round = (v: number) => Number(v.toFixed(6));

/** Whether a score beats a baseline: compared at the 6 decimals the records keep, so a tie reads as a tie. */
export function aboveBaseline(value: number, baseline: number): boolean {
  return round(value) > round(baseline);
}

function counts(labels: string[], gold: number[]): number[] {
  const c = labels.map(() => 0);
  for (const g of gold) if (g >= 0 && g < c.length) c[g]++;
  return c;
}

/** The metric to keep the best prompt by; `gold` are the training examples' label indices. */
export function chooseMetric(
  requested: MetricRequest | undefined,
  labels: string[],
  gold: number[],
  of = 'training examples',
): MetricChoice {
  if (requested !== undefined && requested !== 'auto') return { metric: requested, reason: `${EVAL_METRIC_NAMES[requested]}, as asked` };
  if (labels.length === 0) return { metric: 'exact_match', reason: 'exact match: free-text targets (auto)' };
  const c = counts(labels, gold);
  const present = c.map((n, k) => ({ n, k })).filter((x) => x.n > 0);
  const largest = present.reduce((a, b) => (b.n > a.n ? b : a), present[0]);
  const smallest = present.reduce((a, b) => (b.n < a.n ? b : a), present[0]);
  // Equal counts have no largest or smallest class to name: AG News's four were "1" 25.0 %, "1" 25.0 %.
  const spread =
    largest.n === smallest.n
      ? `each of the ${present.length} labels ${share(largest.n, gold.length)} of the ${of}`
      : `"${labels[largest.k]}" ${share(largest.n, gold.length)}, "${labels[smallest.k]}" ${share(smallest.n, gold.length)} of the ${of}`;
  if (present.length < 2 || largest.n < IMBALANCE_RATIO * smallest.n)
    return { metric: 'rank_accuracy', reason: `accuracy: the classes are balanced (${spread}) (auto)` };
  // Two classes: MCC (GLUE's metric for CoLA) is 0 for any single-label answer; more classes: macro-F1.
  const metric: EvalMetricName = labels.length === 2 ? 'mcc' : 'macro_f1';
  return {
    metric,
    reason: `${EVAL_METRIC_NAMES[metric]}: the classes are imbalanced (${spread}), so accuracy would reward answering the majority label (auto)`,
  };
}

export function majorityBaseline(labels: string[], gold: number[]): MajorityBaseline | null {
  if (labels.length === 0 || gold.length === 0) return null;
  const c = counts(labels, gold);
  const top = c.indexOf(Math.max(...c));
  const r = classificationReport(
    labels,
    gold,
    gold.map(() => top),
  );
  return {
    label: labels[top],
    share: round(c[top] / gold.length),
    rank_accuracy: round(r.accuracy),
    exact_match: round(r.accuracy),
    macro_f1: round(r.macroF1),
    mcc: round(r.mcc),
  };
}

/** The labels a report's predictions used, most used first (a prediction that is no label is not counted). */
export function predictedLabels(labels: string[], report: ClassificationReport): string[] {
  const used = labels.map((label, k) => ({ label, n: report.confusion.reduce((s, row) => s + row[k], 0) })).filter((x) => x.n > 0);
  return used.sort((a, b) => b.n - a.n).map((x) => x.label);
}

/** The value of `metric` in a summary (rank accuracy falls back to exact match for free text). */
export function summaryValue(s: EvalSummary, metric: EvalMetricName): number | null {
  return metric === 'rank_accuracy' ? (s.rank_accuracy ?? s.exact_match) : s[metric];
}

/** A class holding at least this share of the evaluated examples must be found now and then… */
export const NOTICEABLE_CLASS = 0.05;
/** …at least this share of its examples (recall), or the prompt is said to miss it. */
export const MISSED_RECALL = 0.1;
/**
 * A label predicted for more than its true share plus this fraction of the rest leans towards that label: at 0.5 it
 * has gone more than halfway from answering honestly to answering it always (86.6 % true, over 93.3 % predicted).
 */
export const LEANING = 0.5;

/**
 * Warnings about a prompt that answers nearly one label: a class of at least NOTICEABLE_CLASS of the examples found
 * under MISSED_RECALL of the time, or a label predicted far more often than it is true. `examples` names the rows.
 */
export function skewWarnings(labels: string[], report: ClassificationReport, examples: string): string[] {
  const gold = report.confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const n = gold.reduce((a, b) => a + b, 0);
  if (n === 0) return [];
  const warnings: string[] = [];
  labels.forEach((label, k) => {
    const share = gold[k] / n;
    const found = report.confusion[k][k];
    if (share >= NOTICEABLE_CLASS && found / gold[k] < MISSED_RECALL) {
      warnings.push(
        `"${label}" is ${percentText(share)} of the ${examples}, but the prompt found ${found} of its ${gold[k]}` +
          ` (recall ${percentText(found / gold[k])}): it almost never answers "${label}".`,
      );
    }
  });
  labels.forEach((label, k) => {
    const share = gold[k] / n;
    const predicted = report.confusion.reduce((s, row) => s + row[k], 0) / n;
    if (predicted > share + LEANING * (1 - share)) {
      warnings.push(
        `"${label}" was predicted for ${percentText(predicted)} of the ${examples} but is ${percentText(share)} of them` +
          `: the prompt leans towards answering it whatever the input.`,
      );
    }
  });
  return warnings;
}

/**
 * Plain warnings about one evaluation of a classification prompt; empty when it looks like a real result.
 * `split` names the evaluated rows (validation while training, test at its end, or what was scored); `zeroShot` is
 * the run's initial prompt on the same rows, where it was scored and is not the prompt judged.
 */
export function promptWarnings(
  m: EvalMetrics,
  labels: string[],
  metric: EvalMetricName,
  majority: MajorityBaseline | null,
  split = 'validation',
  zeroShot: EvalSummary | null = null,
): string[] {
  const report = m.rank ?? m.greedy;
  if (!report || labels.length < 2 || m.examples === 0) return [];
  const warnings: string[] = [];
  const used = predictedLabels(labels, report);
  if (used.length <= 1) {
    warnings.push(
      `Every ${split} example was predicted "${used[0] ?? 'no label'}": the prompt gives one answer whatever the input, so it has not learnt the task.`,
    );
  } else {
    warnings.push(...skewWarnings(labels, report, `${split} examples`));
  }
  const value = summaryValue(summarizeEval(0, m), metric);
  if (majority && value !== null && !aboveBaseline(value, majority[metric])) {
    warnings.push(
      `${EVAL_METRIC_NAMES[metric]} ${metricText(metric, round(value))} is not above the majority-class baseline (${metricText(metric, majority[metric])}` +
        `: always answering "${majority.label}", ${percentText(majority.share)} of the examples).`,
    );
  }
  const initial = zeroShot && summaryValue(zeroShot, metric);
  if (initial !== null && value !== null && !aboveBaseline(value, initial)) {
    warnings.push(
      `${EVAL_METRIC_NAMES[metric]} ${metricText(metric, round(value))} is not above the zero-shot baseline (${metricText(metric, round(initial))}: ` +
        `the initial prompt on the same examples): training has not improved on where it started.`,
    );
  }
  return warnings;
}

/** The kept prompt on the test split: the score to report, since validation chose the step and the test rows nothing. */
export interface TestScore extends EvalSummary {
  /** Always answering the most frequent label of the test rows. */
  majority: MajorityBaseline | null;
  /** The run's initial prompt on the same test rows; absent from records of runs before it was scored. */
  zero_shot?: EvalSummary | null;
  warnings: string[];
}

/** A test split scored when the run ends: the kept prompt, and the initial one beside it as its zero-shot baseline. */
export interface TestMetrics {
  kept: EvalMetrics;
  zeroShot: EvalMetrics;
}

/** The gold label indices of a report, from its confusion matrix (row k counts the examples of label k). */
function goldOf(report: ClassificationReport): number[] {
  return report.confusion.flatMap((row, k) => new Array<number>(row.reduce((a, b) => a + b, 0)).fill(k));
}

/** Judges the test evaluation of the prompt kept from `step`, against the test rows' own baselines. */
export function judgeTest(step: number, { kept, zeroShot }: TestMetrics, labels: string[], metric: EvalMetricName): TestScore {
  const report = kept.rank ?? kept.greedy;
  const majority = report && labels.length ? majorityBaseline(labels, goldOf(report)) : null;
  const initial = summarizeEval(0, zeroShot);
  return {
    ...summarizeEval(step, kept),
    majority,
    zero_shot: initial,
    warnings: promptWarnings(kept, labels, metric, majority, 'test', initial),
  };
}

/** Which of its run's held-out splits an evaluation's rows are: the same dataset's validation or test split, else none. */
export function ownSplitOf(sameDataset: boolean, split: string | undefined): 'validation' | 'test' | null {
  return sameDataset && (split === 'validation' || split === 'test') ? split : null;
}

/**
 * Judges a standalone evaluation of a library prompt: by the metric its training kept it by (else auto's choice
 * for these labels), beside the majority baseline of these examples and, on a split of its own training dataset
 * (`ownSplit`), the zero-shot baseline its run stored where it covers as many rows. `stored` is the prompt's metrics record.
 */
export function judgeReport(
  labels: string[],
  report: ClassificationReport,
  stored: Record<string, unknown>,
  ownSplit: 'validation' | 'test' | null,
  split = 'evaluated',
): Judgement {
  const gold = goldOf(report);
  const kept = isOneOf(EVAL_METRICS, stored.metric) ? stored.metric : null;
  const metric = kept
    ? { metric: kept, reason: `${EVAL_METRIC_NAMES[kept]}: the metric its training kept it by` }
    : chooseMetric('auto', labels, gold, 'evaluated examples');
  const majority = majorityBaseline(labels, gold);
  const storedBaselines = stored.baselines as Partial<Baselines> | undefined;
  const storedTest = stored.test as Partial<TestScore> | null | undefined;
  const storedZeroShot =
    (ownSplit === 'validation' ? storedBaselines?.zero_shot : ownSplit === 'test' ? storedTest?.zero_shot : null) ?? null;
  // The run scored its initial prompt on the split's first rows (its eval limit): another count is other rows, and a
  // comparison across them would claim what it cannot.
  const zeroShot = storedZeroShot?.examples === gold.length ? storedZeroShot : null;
  const metrics: EvalMetrics = { examples: gold.length, rank: report, exactMatch: report.accuracy, seconds: 0, firstOutputs: [] };
  return {
    metric,
    baselines: { majority, zero_shot: zeroShot },
    warnings: promptWarnings(metrics, labels, metric.metric, majority, split, zeroShot),
  };
}
