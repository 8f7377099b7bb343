/**
 * A decision threshold for two-label tasks. Rank classification answers the more probable label, which for a rare
 * class is often never: a person who needs that class found (spam, fraud, a defect) trades precision for recall by
 * answering it whenever its probability reaches a threshold of their choosing. The curve below is what they choose
 * from; the rule that turns a target precision or recall into a threshold, and the rule that applies a threshold to
 * one row's probabilities, are declared here once for evaluation, labelling, the CLI and the app.
 *
 * It imports nothing that needs Node, so that the app can preview a target's threshold with the same rule.
 */
import type { ThresholdTarget } from '../choices.js';

/** Answer `positive` when its probability is at least `threshold`, else the other label. */
export interface Decision {
  positive: string;
  threshold: number;
}

/** A stored decision: how it was chosen and what it scored on the validation rows it was chosen on. */
export interface StoredDecision extends Decision {
  chosenBy: ThresholdTarget;
  /** The target precision or recall; the threshold itself when picked. */
  target: number;
  /** Validation rows of the prompt's dataset it was chosen on, and its precision and recall there. */
  examples: number;
  precision: number;
  recall: number;
}

/** Precision and recall of the positive label when it is answered at probabilities ≥ threshold. */
export interface ThresholdPoint {
  threshold: number;
  precision: number;
  recall: number;
  /** Rows answered positive. */
  predicted: number;
}

export interface ThresholdCurve {
  positive: string;
  /** Rows scored and the positive label's share of them. */
  examples: number;
  positives: number;
  /** One point per distinct probability, highest threshold first. */
  points: ThresholdPoint[];
}

/** Where `scores[i]` is row i's probability of the positive label and `isPositive[i]` its gold answer. */
export function thresholdCurve(positive: string, scores: readonly number[], isPositive: readonly boolean[]): ThresholdCurve {
  const order = scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const positives = isPositive.filter(Boolean).length;
  const points: ThresholdPoint[] = [];
  let tp = 0;
  for (let k = 0; k < order.length; k++) {
    if (isPositive[order[k]]) tp++;
    // Rows of equal probability are answered alike, so a point sits only after the last of them.
    if (k + 1 < order.length && scores[order[k + 1]] === scores[order[k]]) continue;
    points.push({ threshold: scores[order[k]], precision: tp / (k + 1), recall: positives ? tp / positives : 0, predicted: k + 1 });
  }
  return { positive, examples: scores.length, positives, points };
}

/** Precision and recall at a threshold: the lowest curve point at or above it (none answered positive: precision 1 by convention, recall 0). */
export function pointAt(curve: ThresholdCurve, threshold: number): ThresholdPoint {
  let at: ThresholdPoint = { threshold, precision: 1, recall: 0, predicted: 0 };
  for (const p of curve.points) if (p.threshold >= threshold) at = { ...p, threshold };
  return at;
}

/**
 * The threshold that meets a target: for precision, the lowest threshold whose precision reaches it (the most
 * recall at that precision); for recall, the highest threshold whose recall reaches it (the most precision at that
 * recall); a picked threshold is itself. Undefined when no threshold reaches the target on these rows.
 */
export function thresholdFor(curve: ThresholdCurve, by: ThresholdTarget, target: number): number | undefined {
  if (by === 'threshold') return target;
  if (by === 'recall') return curve.points.find((p) => p.recall >= target)?.threshold;
  let found: number | undefined;
  for (const p of curve.points) if (p.precision >= target) found = p.threshold;
  return found;
}

/** The label index a decision answers for one row's probabilities over `labels` (two of them). */
export function decide(labels: readonly string[], probs: ArrayLike<number>, decision: Decision): number {
  const positive = labels.indexOf(decision.positive);
  return probs[positive] >= decision.threshold ? positive : 1 - positive;
}

/** How outputs name a decision: `"spam" when p(spam) ≥ 0.27`. */
export function decisionText(d: Decision, labels: readonly string[]): string {
  const other = labels.find((l) => l !== d.positive) ?? '';
  return `"${d.positive}" when p(${d.positive}) ≥ ${Number(d.threshold.toPrecision(4))}, else "${other}"`;
}
