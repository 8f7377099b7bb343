import type { EvalMetrics } from './evaluate.js';
import type { WeightWidth } from '../weights/width.js';

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

/** What a training run reports while it runs (through the worker contract, or as CLI progress lines). */
export type TrainingEvent =
  | {
      kind: 'started';
      runId: number;
      provider: string;
      providerDetail: string;
      /** Width of the frozen weights, resolved (never auto). */
      weights: WeightWidth;
      steps: number;
      /** The step a resumed run continues from; null for a new run. */
      resumedAt: number | null;
      trainExamples: number;
      validationExamples: number;
      labels: string[];
      notes: string[];
    }
  | { kind: 'step'; step: number; steps: number; loss: number; lr: number; gradNorm: number; examplesPerS: number; etaS: number; epoch: number; latestEval: EvalSummary | null }
  | { kind: 'eval'; step: number; metrics: EvalMetrics; summary: EvalSummary; improved: boolean }
  | { kind: 'checkpoint'; step: number; file: string }
  | { kind: 'notice'; step: number; message: string }
  | { kind: 'paused'; step: number }
  | { kind: 'resumed'; step: number };

export interface TrainingHooks {
  onProgress?: (event: TrainingEvent) => void;
  /** Aborting stops the run after the step in flight, saving a checkpoint to resume from. */
  signal?: AbortSignal;
  /** While this returns true the run waits between steps (checked before every step). */
  pause?: () => boolean;
}
