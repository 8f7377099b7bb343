/** Classification metrics from predictions: accuracy, per-class precision/recall/F1, macro-F1, MCC, confusion. */

export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationReport {
  accuracy: number;
  macroF1: number;
  /** Matthews correlation (Gorodkin's multi-class R_K); 0 when undefined (one class predicted or present). */
  mcc: number;
  perClass: ClassMetrics[];
  /** confusion[true][predicted]; a prediction of -1 (not a label) counts in the extra last column. */
  confusion: number[][];
}

/** `predicted[i]` is a label index, or -1 for an output that is no label (counted wrong). */
export function classificationReport(labels: string[], gold: number[], predicted: number[]): ClassificationReport {
  const K = labels.length;
  const confusion = Array.from({ length: K }, () => new Array<number>(K + 1).fill(0));
  gold.forEach((g, i) => confusion[g][predicted[i] < 0 ? K : predicted[i]]++);
  const n = gold.length;
  const correct = gold.reduce((s, g, i) => s + (predicted[i] === g ? 1 : 0), 0);
  const perClass = labels.map((label, k) => {
    const tp = confusion[k][k];
    const predictedK = confusion.reduce((s, row) => s + row[k], 0);
    const support = confusion[k].reduce((a, b) => a + b, 0);
    const precision = predictedK ? tp / predictedK : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { label, precision, recall, f1, support };
  });
  const macroF1 = K ? perClass.reduce((s, c) => s + c.f1, 0) / K : 0;
  // R_K = (c·s − Σ p_k t_k) / sqrt((s² − Σ p_k²)(s² − Σ t_k²)). An invalid output is wrong: with two labels it
  // counts as the other one (as the reference runs score greedy MCC), with more it belongs to no class.
  const t = perClass.map((c) => c.support);
  const p = labels.map((_, k) => confusion.reduce((s, row) => s + row[k], 0));
  if (K === 2) {
    p[0] += confusion[1][K];
    p[1] += confusion[0][K];
  }
  const pt = p.reduce((s, pk, k) => s + pk * t[k], 0);
  const denom = Math.sqrt((n * n - p.reduce((s, x) => s + x * x, 0)) * (n * n - t.reduce((s, x) => s + x * x, 0)));
  const mcc = denom > 0 ? (correct * n - pt) / denom : 0;
  return { accuracy: n ? correct / n : 0, macroF1, mcc, perClass, confusion };
}
