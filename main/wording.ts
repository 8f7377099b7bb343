/**
 * How scores read, in the app and on the command line alike: shares as percentages, metric keys in words, and a
 * library prompt's headline from the metrics its training stored (main/train/run-result.ts).
 */
import { EVAL_METRIC_NAMES, EVAL_METRICS } from './choices.js';

/** A share as a percentage; the space before % does not break, so a narrow card never puts the sign on a line of its own. */
export function percent(share: number | null | undefined, digits = 1): string {
  return share === null || share === undefined || !Number.isFinite(share) ? '–' : `${(share * 100).toFixed(digits)}\u00a0%`;
}

/**
 * percent() with a plain space: engine messages and the command line, which scripts and terminals read. One decimal in
 * both, so the same share never reads three ways.
 */
export function percentText(share: number | null | undefined, digits = 1): string {
  return percent(share, digits).replace('\u00a0', ' ');
}

/** A plain score (an F1 score, a correlation): three decimals wherever it is shown. */
export function score(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(3);
}

export function count(n: number): string {
  return n.toLocaleString('en');
}

/** The word that agrees with a count: `one` for 1, else `many` ("was"/"were", "it"/"them"). */
export function agreeing(n: number, one: string, many: string): string {
  return n === 1 ? one : many;
}

/** "1 prompt", "1,200 prompts": the noun in the number's form (`plural` where adding an s is wrong). */
export function counted(n: number, noun: string, plural = `${noun}s`): string {
  return `${count(n)} ${agreeing(n, noun, plural)}`;
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

/** Whether a metric key's values are shares of the examples, written as percentages. */
export const isShare = (key: string): boolean => SHARES.has(key);

/** Shares are percentages; correlations and F1 scores are plain numbers; any other whole number is a count. */
export function metricValue(key: string, value: number): string {
  if (Number.isInteger(value) && !SCORES.has(key)) return count(value);
  return isShare(key) ? percent(value) : score(value);
}

/** metricValue with a plain space, for engine messages and the command line (see percentText). */
export function metricText(key: string, value: number): string {
  return metricValue(key, value).replace('\u00a0', ' ');
}

/** A change in a metric, signed: percentage points for shares, the plain difference for the other scores. */
export function metricChange(key: string, delta: number): string {
  const sign = delta >= 0 ? '+' : '−';
  return SHARES.has(key) ? `${sign}${Math.abs(delta * 100).toFixed(1)}\u00a0pts` : `${sign}${score(Math.abs(delta))}`;
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

/** Words joined as a sentence lists them, the last after `conjunction`: "a, b or c". */
function sentenceList(words: readonly string[], conjunction: 'or' | 'and'): string {
  return words.length < 2 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} ${conjunction} ${words.at(-1)}`;
}

/** A label inside a sentence: its first letter lower-cased, the rest kept ("A threshold I pick" → "a threshold I pick"). */
export function midSentence(label: string): string {
  return label.charAt(0).toLowerCase() + label.slice(1);
}

/**
 * A name or a tag on one line: control characters (a line break, a terminal's escape sequences, which a PEFT file's
 * metadata or a pasted name may carry and `sprout library list` would pass to the terminal) as spaces.
 */
export function oneLine(text: string): string {
  return text.replace(/\p{Cc}/gu, ' ');
}

/** A text of at most `max` characters: a longer one keeps its first `max` − 1 and ends in "…" (never half an emoji). */
export function clipped(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text;
}

/** "a, b, … h and 12 more": the first `shown` of a long list, and how many more there are. */
export function firstOf(words: readonly string[], shown = 8): string {
  const first = words.slice(0, shown).join(', ');
  return words.length > shown ? `${first} and ${words.length - shown} more` : first;
}

/** "a, b or c". */
export const alternatives = (words: readonly string[]): string => sentenceList(words, 'or');

/** "a, b and c". */
export const allOf = (words: readonly string[]): string => sentenceList(words, 'and');
