import type { EvalMetrics } from './evaluate.js';

/** The few numbers of an evaluation that progress lines and the final summary show. */
export interface EvalSummary {
  step: number;
  examples: number;
  rank_accuracy: number | null;
  exact_match: number;
  macro_f1: number | null;
  mcc: number | null;
  valid_label_share: number | null;
}

export function summarizeEval(step: number, m: EvalMetrics): EvalSummary {
  const r = (v: number | undefined | null) => (v === undefined || v === null ? null : Number(v.toFixed(6)));
  return {
    step,
    examples: m.examples,
    rank_accuracy: r(m.rank?.accuracy),
    exact_match: r(m.exactMatch)!,
    macro_f1: r((m.rank ?? m.greedy)?.macroF1),
    mcc: r((m.rank ?? m.greedy)?.mcc),
    valid_label_share: r(m.validLabelShare),
  };
}
