/**
 * Which ranked source to start from: the app's Prompt step preselects it and `sprout transfer rank --use best` names
 * it. SPoT takes the most similar source; a source that learnt nothing of its own task has nothing to pass on, however
 * similar its prompt, so one whose headline score is not above its baselines is passed over.
 */
import { EVAL_METRICS, isOneOf, type EvalMetricName } from '../choices.js';
import { aboveBaseline } from '../train/baselines.js';
import type { RankedSource } from './rank.js';
import { agreeing, allOf, clipped, firstOf } from '../wording.js';

export interface Recommendation {
  /** The source to start from; null when none is similar (a score above 0) and learnt its task. */
  id: number | null;
  /** Sources ranked above it (or above none) that were passed over, not having learnt their own task. */
  passedOver: RankedSource[];
}

export function recommendSource(ranked: readonly RankedSource[]): Recommendation {
  const passedOver: RankedSource[] = [];
  for (const source of ranked) {
    if (source.score === null || source.score <= 0) break;
    if (!aboveBaselines(source.metrics)) passedOver.push(source);
    else return { id: source.id, passedOver };
  }
  return { id: null, passedOver };
}

/**
 * Whether a prompt's stored headline (its test score where a test split was held out, else its best validation
 * score) is above both baselines stored beside it, by the metric it was kept by: the majority class and the run's
 * initial prompt, as the training's warnings judge it (main/train/baselines.ts). A record without them (a PEFT
 * import, an older Sprout) is taken to be.
 */
export function aboveBaselines(metrics: Record<string, unknown>): boolean {
  const metric: EvalMetricName = isOneOf(EVAL_METRICS, metrics.metric) ? metrics.metric : 'rank_accuracy';
  const record = (v: unknown) => (v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined);
  const test = record(metrics.test);
  const headline = test ?? record(metrics.best);
  const baselines = test ?? record(metrics.baselines);
  const value = headline?.[metric];
  if (typeof value !== 'number') return true;
  return [record(baselines?.majority)?.[metric], record(baselines?.zero_shot)?.[metric]].every(
    (b) => typeof b !== 'number' || aboveBaseline(value, b),
  );
}

/**
 * Why sources more similar than the one preselected are not: they learnt nothing of their own tasks. The first five
 * by name, and how many more: a library of copies once listed 23 names here, one of them 200 characters long.
 */
export function passedOverNote(passedOver: readonly RankedSource[]): string {
  if (passedOver.length === 0) return '';
  const one = passedOver.length === 1;
  const shown = passedOver.map((s) => `“${clipped(s.name, 40)}” (${s.score!.toFixed(3)})`);
  const names = shown.length > 5 ? firstOf(shown, 5) : allOf(shown);
  const scores = one ? 'its score on its own task is' : 'their scores on their own tasks are';
  return ` ${names} ${agreeing(passedOver.length, 'is', 'are')} passed over: ${scores} not above the baselines, so there is nothing learnt to pass on.`;
}
