import type { MajorityBaseline, MetricChoice, TestScore } from './baselines.js';
import type { EvalSummary } from './eval-summary.js';
import type { EvalMetrics } from './evaluate.js';
import type { WeightsPreparing } from '../weights/preparing.js';
import type { WeightWidth } from '../weights/width.js';

/** A task of a run as it starts: its data and how its prompt is judged. */
export interface TaskStart {
  name: string;
  trainExamples: number;
  validationExamples: number;
  /** Scored once with the kept prompt when the run ends; 0 without a test split. */
  testExamples: number;
  /** Empty for free-text targets. */
  labels: string[];
  /** The metric the task's prompt is kept by, and why. */
  metric: MetricChoice;
  majority: MajorityBaseline | null;
}

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
      /** One for a single-task run; the events below name a task by its index here. */
      tasks: TaskStart[];
      notes: string[];
    }
  /**
   * `latestEval`: the latest evaluation of the first task. `gradNorm`: before clipping, over every prompt trained;
   * null for a step skipped because its gradient overflowed float16 (a notice says so). `stepS`: a warmed-up step's
   * typical seconds (the median of the latest, the session's first step left out, which also builds the sessions);
   * `etaS`: the steps left at that pace, evaluations not counted. Both null at first. `lossScale`: float16's loss
   * scale after the step (main/train/loss-scale.ts), with the steps skipped so far; null at fp32 and bf16.
   */
  | {
      kind: 'step';
      step: number;
      steps: number;
      loss: number;
      lr: number;
      gradNorm: number | null;
      examplesPerS: number;
      stepS: number | null;
      etaS: number | null;
      epoch: number;
      latestEval: EvalSummary | null;
      lossScale: { scale: number; skipped: number[] } | null;
    }
  /** `improved`: the task's prompt is better than before (main/train/best.ts); `bestStep`: the step of the prompt it keeps. */
  | {
      kind: 'eval';
      task: number;
      step: number;
      metrics: EvalMetrics;
      summary: EvalSummary;
      improved: boolean;
      bestStep: number | null;
      warnings: string[];
    }
  /** When the run has ended: the kept prompt (from `step`) is being scored on the task's `examples` test rows. */
  | { kind: 'testing'; task: number; step: number; examples: number }
  /** When the run ends: the kept prompt scored once on the task's test split, which chose nothing: the score to report. */
  | { kind: 'test'; task: number; metrics: EvalMetrics; score: TestScore }
  /** The initial prompt's evaluation before the first step: the zero-shot baseline. */
  | { kind: 'zero-shot'; task: number; metrics: EvalMetrics; summary: EvalSummary }
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
