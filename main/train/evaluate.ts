/**
 * Validation as the papers score it: rank classification (the label whose target ids get the highest summed
 * log-probability) and exact match of greedy decoding (anything that is not exactly a label's ids, eos included,
 * is wrong), each with a classification report; free-text tasks get greedy exact match only.
 */
import type { EvalMetricName } from '../choices.js';
import type { PromptModel, SoftPrompt } from '../runtime/types.js';
import type { EncodedExample } from './encode.js';
import { classificationReport, reportMetric, type ClassificationReport } from './metrics.js';

export interface EvalMetrics {
  examples: number;
  /** Rank classification over the label set (classification tasks). */
  rank?: ClassificationReport;
  /** Greedy decoding compared with the target ids exactly. */
  exactMatch: number;
  /** Share of greedy outputs that are exactly some label (classification tasks). */
  validLabelShare?: number;
  greedy?: ClassificationReport;
  /** Greedy ids (eos included when reached) of the first SAMPLE_OUTPUTS examples, to see what the model says. */
  firstOutputs: number[][];
  seconds: number;
}

export type { EvalMetricName } from '../choices.js';

/** Exact match is greedy decoding's; the others read the rank report, or greedy's where there is none (free text: exact match). */
export function metricValue(m: EvalMetrics, name: EvalMetricName): number {
  if (name === 'exact_match') return m.exactMatch;
  const report = name === 'rank_accuracy' ? m.rank : (m.rank ?? m.greedy);
  return report ? reportMetric(report, name) : m.exactMatch;
}

export interface EvalOptions {
  labels: string[];
  /** Target ids (eos included) of each label; empty for free text. */
  labelTargets: number[][];
  batchSize: number;
  /** Greedy decoding stops at eos or after this many tokens; default: the longest label (or target). */
  maxNewTokens?: number;
  signal?: AbortSignal;
}

export const SAMPLE_OUTPUTS = 5;

const sameIds = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

export async function evaluate(model: PromptModel, prompt: SoftPrompt, examples: EncodedExample[], o: EvalOptions): Promise<EvalMetrics> {
  const t0 = performance.now();
  const classification = o.labelTargets.length > 0;
  // Batches of similar input length pad least; results go back to each example's own slot.
  const order = examples.map((_, i) => i).sort((a, b) => examples[a].input.length - examples[b].input.length);
  const rankPred = new Array<number>(examples.length).fill(-1);
  const greedyOut: number[][] = new Array(examples.length);
  const maxNew = o.maxNewTokens ?? Math.max(1, ...(classification ? o.labelTargets : examples.map((e) => e.target)).map((t) => t.length));
  for (let start = 0; start < order.length; start += o.batchSize) {
    o.signal?.throwIfAborted();
    const idx = order.slice(start, start + o.batchSize);
    const inputs = idx.map((i) => examples[i].input);
    // One encoder pass serves both rank scoring and greedy decoding.
    const { scores, generated } = classification
      ? await model.scoreAndGenerate(prompt, inputs, o.labelTargets, maxNew) // scores [B * C]
      : { scores: undefined, generated: await model.generate(prompt, inputs, maxNew) };
    if (scores) {
      const C = o.labelTargets.length;
      idx.forEach((ex, b) => {
        let best = 0;
        for (let c = 1; c < C; c++) if (scores[b * C + c] > scores[b * C + best]) best = c;
        rankPred[ex] = best;
      });
    }
    idx.forEach((ex, b) => (greedyOut[ex] = generated[b]));
  }
  const exact = examples.filter((e, i) => sameIds(greedyOut[i], e.target)).length;
  const metrics: EvalMetrics = {
    examples: examples.length,
    exactMatch: examples.length ? exact / examples.length : 0,
    firstOutputs: greedyOut.slice(0, SAMPLE_OUTPUTS),
    seconds: (performance.now() - t0) / 1000,
  };
  if (classification) {
    const gold = examples.map((e) => e.label);
    const greedyPred = greedyOut.map((out) => o.labelTargets.findIndex((t) => sameIds(t, out)));
    metrics.rank = classificationReport(o.labels, gold, rankPred);
    metrics.greedy = classificationReport(o.labels, gold, greedyPred);
    metrics.validLabelShare = examples.length ? greedyPred.filter((p) => p >= 0).length / examples.length : 0;
  }
  return metrics;
}
