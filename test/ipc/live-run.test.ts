/**
 * A live run as the app follows it, fed the trainer's events: the kept evaluation moves with each evaluation (the Train
 * step's "best validation" tile), and a run resumed from its checkpoint drops what was logged after it, which it repeats.
 */
import { describe, expect, it } from 'vitest';
import type { EvalPoint } from '../../preload/contract.js';
import { LiveRun, type RunControl } from '../../main/ipc/handlers/live-run.js';
import type { TrainingEvent } from '../../main/train/events.js';
import type { EvalMetrics } from '../../main/train/evaluate.js';

const control: RunControl = { flags: new Int32Array(1), controller: new AbortController(), ended: Promise.resolve() };

const point = (step: number, accuracy: number): EvalPoint => ({
  step,
  examples: 8,
  rank_accuracy: accuracy,
  exact_match: accuracy,
  macro_f1: null,
  mcc: null,
  valid_label_share: 1,
});

const started = (resumedAt: number | null): TrainingEvent => ({
  kind: 'started',
  runId: 1,
  provider: 'cpu',
  providerDetail: 'CPU · 1 thread',
  providerReason: null,
  weights: 'fp32',
  steps: 12,
  resumedAt,
  tasks: [
    {
      name: 'cola',
      trainExamples: 96,
      validationExamples: 8,
      testExamples: 0,
      labels: ['0', '1'],
      metric: { metric: 'rank_accuracy', reason: 'balanced' },
      majority: null,
    },
  ],
  notes: [],
});

const evaluated = (summary: EvalPoint, bestStep: number): TrainingEvent => ({
  kind: 'eval',
  task: 0,
  step: summary.step,
  metrics: {} as EvalMetrics,
  summary,
  improved: summary.step === bestStep,
  bestStep,
  warnings: [],
});

/** A run resumed from its checkpoint at step 4, whose library logged steps 1 to 7 and evaluations at 2 and 6. */
function resumedRun(): LiveRun {
  const losses = [1, 2, 3, 4, 5, 6, 7].map((step) => ({ step, loss: 1 / step, lr: null }));
  return new LiveRun(1, control, 4, 7, 12, { losses, evals: [point(2, 0.5), point(6, 0.75)] });
}

describe('a live run', () => {
  it('resumed from its checkpoint, drops the losses and evaluations logged after it, and says the checkpoint step', () => {
    const live = resumedRun();
    const progress = live.apply(started(4), false)!;
    expect(live.losses.map((l) => l.step)).toEqual([1, 2, 3, 4]);
    expect(live.evals.map((e) => e.step)).toEqual([2]);
    expect(progress).toMatchObject({ step: 4, loss: 1 / 4, latestEval: point(2, 0.5) });
  });

  it('sends the kept evaluation with every progress, as it moves with the evaluations', () => {
    const live = resumedRun();
    // Resumed, before its trainer evaluates: the best of the evaluations so far, by the trainer's rule.
    expect(live.apply(started(6), false)!.best).toEqual(point(6, 0.75));
    expect(live.apply(evaluated(point(8, 0.625), 6), false)!.best).toEqual(point(6, 0.75));
    expect(live.apply(evaluated(point(10, 0.875), 10), false)!.best).toEqual(point(10, 0.875));
  });
});
