import type { MajorityBaseline, MetricChoice } from './baselines.js';
import type { EvalSummary } from './eval-summary.js';
import type { EvalMetrics } from './evaluate.js';
import type { WeightsPreparing } from '../weights/preparing.js';
import type { WeightWidth } from '../weights/width.js';

/** What a training run reports while it runs (through the worker contract, or as CLI progress lines). */
export type TrainingEvent =
  /**
   * Before `started`, while the frozen weights are converted to `weights` or the converted files verified: it names
   * the run, which is already recorded, so a host can show a conversion of minutes as this run starting.
   */
  | (WeightsPreparing & { runId: number })
  | {
      kind: 'started';
      runId: number;
      provider: string;
      providerDetail: string;
      /** Why this provider and not a GPU; null when the preferred one runs. */
      providerReason: string | null;
      /** Width of the frozen weights, resolved (never auto). */
      weights: WeightWidth;
      steps: number;
      /** The step a resumed run continues from; null for a new run. */
      resumedAt: number | null;
      trainExamples: number;
      validationExamples: number;
      labels: string[];
      notes: string[];
      /** The metric the best prompt is kept by, and why. */
      metric: MetricChoice;
      majority: MajorityBaseline | null;
    }
  | { kind: 'step'; step: number; steps: number; loss: number; lr: number; gradNorm: number; examplesPerS: number; etaS: number; epoch: number; latestEval: EvalSummary | null }
  | { kind: 'eval'; step: number; metrics: EvalMetrics; summary: EvalSummary; improved: boolean; warnings: string[] }
  /** The initial prompt's evaluation before the first step: the zero-shot baseline. */
  | { kind: 'zero-shot'; metrics: EvalMetrics; summary: EvalSummary }
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
