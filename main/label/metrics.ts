/**
 * Accuracy report against a gold label column, kept as running counts so that a resumed job continues them.
 * Rows whose gold value is empty are not scored; gold values outside the label set count as errors and get a
 * row of their own in the confusion matrix.
 */
export interface GoldCounts {
  /** confusion[gold][predicted] = rows. */
  confusion: Record<string, Record<string, number>>;
  /** Labelled rows without a gold value. */
  noGold: number;
}

export interface AccuracyReport {
  rows: number;
  accuracy: number;
  macro_f1: number;
  /** Per class over the label set and every gold value seen; macro-F1 averages the classes present in gold or predictions. */
  per_class: Record<string, { precision: number; recall: number; f1: number; support: number }>;
  labels: string[];
  /** confusion[i][j]: rows with gold labels[i] predicted as labels[j]. */
  confusion: number[][];
  no_gold: number;
}

export function emptyGoldCounts(): GoldCounts {
  return { confusion: {}, noGold: 0 };
}

export function addGold(counts: GoldCounts, gold: string | null | undefined, predicted: string): void {
  if (gold === null || gold === undefined || gold.trim() === '') {
    counts.noGold++;
    return;
  }
  const row = (counts.confusion[gold] ??= {});
  row[predicted] = (row[predicted] ?? 0) + 1;
}

export function accuracyReport(counts: GoldCounts, labelSet: readonly string[]): AccuracyReport {
  const labels = [...labelSet];
  for (const gold of Object.keys(counts.confusion).sort()) if (!labels.includes(gold)) labels.push(gold);
  const matrix = labels.map((g) => labels.map((p) => counts.confusion[g]?.[p] ?? 0));
  const rows = matrix.flat().reduce((a, b) => a + b, 0);
  const correct = labels.reduce((n, _, i) => n + matrix[i][i], 0);
  const per_class: AccuracyReport['per_class'] = {};
  // As scikit-learn's f1_score(average='macro'): classes neither in the gold column nor predicted do not count.
  let f1Sum = 0;
  let present = 0;
  labels.forEach((label, i) => {
    const tp = matrix[i][i];
    const predicted = matrix.reduce((n, r) => n + r[i], 0);
    const support = matrix[i].reduce((a, b) => a + b, 0);
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    per_class[label] = { precision, recall, f1, support };
    if (support || predicted) {
      f1Sum += f1;
      present++;
    }
  });
  return { rows, accuracy: rows ? correct / rows : 0, macro_f1: present ? f1Sum / present : 0, per_class, labels, confusion: matrix, no_gold: counts.noGold };
}
