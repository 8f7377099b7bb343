/** How numbers read in the interface: sizes, durations, shares and dates, one wording everywhere. */
import { EVAL_METRIC_NAMES, EVAL_METRICS, WEIGHT_WIDTH_LABELS, type WeightWidth } from '../../main/choices.js';
import { BYTES_PER_PARAMETER } from '../../main/weights/width.js';

export function bytes(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}

/** A time that may be under a second (a training step), with the digits that say something. */
export function seconds(s: number): string {
  return s < 10 ? `${s.toFixed(s < 1 ? 2 : 1)} s` : duration(s);
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A share as a percentage; the space before % does not break, so a narrow card never puts the sign on a line of its own. */
export function percent(share: number | null | undefined, digits = 1): string {
  return share === null || share === undefined || !Number.isFinite(share) ? '–' : `${(share * 100).toFixed(digits)}\u00a0%`;
}

export function fixed(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

export function count(n: number): string {
  return n.toLocaleString('en');
}

export function when(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** Human names of the metric keys the engine stores (main/train/events.ts, run.ts, baselines.ts). */
const METRIC_KEY_NAMES: Record<string, string> = {
  ...EVAL_METRIC_NAMES,
  accuracy: EVAL_METRIC_NAMES.rank_accuracy,
  valid_label_share: 'answers that are a label',
  examples: 'examples',
  step: 'step',
  best: 'best evaluation',
  test: 'test split (the headline)',
  best_step: 'step of the best evaluation',
  first_loss: 'training loss, first 10 % of steps',
  last_loss: 'training loss, last 10 % of steps',
  steps: 'steps trained',
  share: 'share of the examples',
  majority: 'majority-class baseline',
  zero_shot: 'zero-shot baseline',
};

export const metricName = (key: string): string => METRIC_KEY_NAMES[key] ?? key.replaceAll('_', ' ');

/** Names that depend on the group a key is stored in: which split its examples are. */
const IN_GROUP: Record<string, Record<string, string>> = {
  best: { examples: 'validation examples' },
  test: { examples: 'test examples', step: 'step of the prompt scored' },
};

/** Keys whose values are shares of the examples; the other metrics (correlations, F1 scores) are plain numbers. */
const SHARES: ReadonlySet<string> = new Set(['rank_accuracy', 'accuracy', 'exact_match', 'share', 'valid_label_share']);
const SCORES: ReadonlySet<string> = new Set([...SHARES, ...EVAL_METRICS]);

/** Shares are percentages; correlations and F1 scores are plain numbers; any other whole number is a count. */
export function metricValue(key: string, value: number): string {
  if (Number.isInteger(value) && !SCORES.has(key)) return count(value);
  return SHARES.has(key) ? percent(value) : value.toFixed(4);
}

/** A weight width as menus offer it: its name and what it costs. */
export function weightWidthLabel(width: WeightWidth): string {
  return `${WEIGHT_WIDTH_LABELS[width]} (${BYTES_PER_PARAMETER[width]} bytes per weight)`;
}

/** What a headline score was measured on: the test split (chose nothing), or the validation split that chose the step. */
export const OPTIMISTIC = 'on validation (optimistic)';

/**
 * A library prompt's headline score from its stored metrics, by the metric it was kept by (older records: accuracy):
 * its test score when a test split was held out, else its best validation score, said to be optimistic; marked ⚠
 * when training stored a warning about it.
 */
export function promptHeadline(metrics: Record<string, unknown>): string {
  const test = metrics.test && typeof metrics.test === 'object' ? (metrics.test as Record<string, unknown>) : null;
  const best = (test ?? metrics.best ?? metrics) as Record<string, unknown>;
  const key =
    typeof metrics.metric === 'string' && typeof best[metrics.metric] === 'number'
      ? metrics.metric
      : best.rank_accuracy !== undefined
        ? 'rank_accuracy'
        : 'exact_match';
  const value = best[key] ?? best.accuracy;
  if (typeof value !== 'number') return '–';
  const warned = Array.isArray(metrics.warnings) && metrics.warnings.length > 0;
  return `${metricName(key)} ${metricValue(key, value)} ${test ? 'on test' : OPTIMISTIC}${warned ? ' ⚠' : ''}`;
}

/** Stored metrics as name/value rows with human names, one level of nesting flattened ("best evaluation: accuracy"). */
export function metricRows(metrics: Record<string, unknown>): [string, string][] {
  const rows: [string, string][] = [];
  const add = (path: string, key: string, value: unknown) => {
    if (typeof value === 'number') rows.push([path, metricValue(key, value)]);
  };
  for (const [name, value] of Object.entries(metrics)) {
    // Baselines and warnings have their own section.
    if (name === 'baselines' || name === 'warnings' || name === 'metric' || name === 'metric_reason') continue;
    if (value && typeof value === 'object' && !Array.isArray(value))
      for (const [k, v] of Object.entries(value)) add(`${metricName(name)}: ${IN_GROUP[name]?.[k] ?? metricName(k)}`, k, v);
    else add(metricName(name), name, value);
  }
  return rows;
}

/**
 * The gist of why a device is not a GPU, its first clause ("no GPU provider works here"): the whole reason names
 * every provider tried and runs to hundreds of characters, which belongs in a details view, not in a line.
 */
export function reasonGist(reason: string): string {
  const cut = reason.indexOf(' (');
  return cut > 0 ? reason.slice(0, cut) : reason;
}
