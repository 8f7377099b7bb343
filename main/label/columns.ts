/**
 * Names of the columns a labelling job adds after the input's own. A name the input already uses gets a suffix
 * (_1, _2, …) so that no input column is ever overwritten.
 */
export interface AddedColumns {
  /** Multi-task jobs routed by a task column: the task each row was labelled as. */
  task?: string;
  predicted: string;
  confidence: string;
  /** Classification only: the second most probable label and confidence minus its probability. */
  runnerUp?: string;
  margin?: string;
  /** Ensembles only: the share of prompts that voted for the predicted label. */
  agreement?: string;
  /** A prompt with a decision threshold: `threshold_<positive label>`, the threshold its probability was held to. */
  threshold?: string;
  /** Classification only: one probability column per label, in label-set order. */
  probs: string[];
  /** One prompt per text column: that column's prediction, confidence and probabilities (replacing the above). */
  groups?: { predicted: string; confidence: string; probs: string[] }[];
  skipped: string;
}

export interface ColumnPlan {
  kind: 'classification' | 'generation';
  labels: readonly string[];
  ensemble: boolean;
  /** The positive label of the task's decision threshold, when it has one. */
  positive?: string;
}

/** Hands out column names not yet `taken`: `base`, else `base_1`, `base_2`, … */
export function columnClaimer(taken: Iterable<string>): (base: string) => string {
  const used = new Set(taken);
  return (base) => {
    let name = base;
    for (let n = 1; used.has(name); n++) name = `${base}_${n}`;
    used.add(name);
    return name;
  };
}

/** Free names for `bases`, in order, beside the `taken` ones. */
export function claimColumns(taken: Iterable<string>, bases: readonly string[]): string[] {
  const claim = columnClaimer(taken);
  return bases.map(claim);
}

export function addedColumns(inputColumns: readonly string[], plan: ColumnPlan): AddedColumns {
  const claim = columnClaimer(inputColumns);
  const classify = plan.kind === 'classification';
  const predicted = claim('predicted_label');
  const confidence = claim('confidence');
  const runnerUp = classify ? claim('runner_up') : undefined;
  const margin = classify ? claim('margin') : undefined;
  const agreement = plan.ensemble ? claim('agreement') : undefined;
  const threshold = plan.positive === undefined ? undefined : claim(`threshold_${plan.positive}`);
  const probs = classify ? plan.labels.map((l) => claim(`p_${l}`)) : [];
  return { predicted, confidence, runnerUp, margin, agreement, threshold, probs, skipped: claim('skipped_reason') };
}

/** The added columns in output order. */
export function addedColumnNames(a: AddedColumns): string[] {
  if (a.groups) return [...a.groups.flatMap((g) => [g.predicted, g.confidence, ...g.probs]), a.skipped];
  return [a.task, a.predicted, a.confidence, a.runnerUp, a.margin, a.agreement, a.threshold, ...a.probs, a.skipped].filter(
    (n): n is string => n !== undefined,
  );
}
