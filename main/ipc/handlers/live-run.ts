/**
 * What only a live run knows (rates, every step's loss, the pause flag, the judgement so far), kept up to date
 * from the trainer's events and turned into `training.progress` payloads. The library keeps the rest; a finished
 * run is served from there.
 */
import type { ContractErrorShape, EvalPoint, Judgement, RunState, TrainingProgress, WeightPreparation } from '../../../preload/contract.js';
import type { RunMetric } from '../../library/runs.js';
import { summaryValue, type MajorityBaseline, type MetricChoice, type TestScore } from '../../train/baselines.js';
import { bestOf } from '../../train/best.js';
import type { EvalMetricName } from '../../train/evaluate.js';
import type { TrainingEvent } from '../../train/events.js';
import type { WeightWidth } from '../../weights/width.js';
import { weightPreparation } from './weight-preparation.js';

/** An evaluation as the library stored it (a run_metrics row's eval). */
export function evalPoint(e: Record<string, unknown>, step: number): EvalPoint {
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  return {
    step,
    examples: num(e.examples) ?? 0,
    rank_accuracy: num(e.rank_accuracy),
    exact_match: num(e.exact_match) ?? 0,
    macro_f1: num(e.macro_f1),
    mcc: num(e.mcc),
    valid_label_share: num(e.valid_label_share),
  };
}

/** The best of a run's evaluations by the trainer's rule, for a run whose trainer does not say (not live, no result). */
export function bestPoint(evals: EvalPoint[], metric: EvalMetricName): EvalPoint | null {
  return bestOf(evals, (e) => ({ value: summaryValue(e, metric) ?? -Infinity, exactMatch: e.exact_match }));
}

/** A run's recorded curve: its losses and evaluations. */
export function recordedCurve(metrics: RunMetric[]): { losses: LiveRun['losses']; evals: EvalPoint[] } {
  return {
    losses: metrics.filter((m) => m.loss !== null).map((m) => ({ step: m.step, loss: m.loss!, lr: null })),
    evals: metrics.filter((m) => m.eval !== null).map((m) => evalPoint(m.eval!, m.step)),
  };
}

/** Drops, in place, the points of a curve (in step order) after `step`. */
function dropAfter(points: { step: number }[], step: number): void {
  const after = points.findIndex((p) => p.step > step);
  if (after >= 0) points.splice(after);
}

/** The worker job's handles: the pause flag it reads between steps, the abort, and its end. */
export interface RunControl {
  flags: Int32Array;
  controller: AbortController;
  /** Settles when the worker job has ended, however it ended. */
  ended: Promise<void>;
}

export class LiveRun {
  state: RunState = 'starting';
  provider: string | null = null;
  providerDetail: string | null = null;
  providerReason: string | null = null;
  weights: WeightWidth | null = null;
  labels: string[] = [];
  notes: string[] = [];
  examplesPerSecond: number | null = null;
  etaSeconds: number | null = null;
  stepSeconds: number | null = null;
  resumedAt: number | null = null;
  /** Null while the run is starting: the trainer chooses it as training starts. */
  metric: MetricChoice | null = null;
  majority: MajorityBaseline | null = null;
  zeroShot: EvalPoint | null = null;
  /** Of the latest evaluation. */
  warnings: string[] = [];
  /** The step of the prompt the trainer keeps; null before this session's first evaluation. */
  bestStep: number | null = null;
  /** Test rows being scored with the kept prompt as the run ends; null otherwise. */
  testing: number | null = null;
  /** The kept prompt's score on the test split, once the run has ended. */
  test: TestScore | null = null;
  error: ContractErrorShape | null = null;
  preparing: WeightPreparation | null = null;
  /** Answers a pending pause once the trainer has stopped between steps. */
  onHeld: (() => void) | null = null;
  readonly losses: { step: number; loss: number; lr: number | null }[];
  readonly evals: EvalPoint[];

  /** `recorded`: what the library holds of the run so far (a resumed run's earlier curve). */
  constructor(
    readonly runId: number,
    readonly control: RunControl,
    readonly batchSize: number,
    public step: number,
    public totalSteps: number,
    recorded: { losses: LiveRun['losses']; evals: EvalPoint[] },
  ) {
    this.losses = recorded.losses;
    this.evals = recorded.evals;
  }

  /** Whether the trainer may still step: starting, running or paused. */
  get active(): boolean {
    return this.state === 'running' || this.state === 'paused' || this.state === 'starting';
  }

  /** The evaluation of the prompt the trainer keeps: as it chose it, else by its rule (a resumed run, before it evaluates). */
  get best(): EvalPoint | null {
    return this.evals.find((e) => e.step === this.bestStep) ?? bestPoint(this.evals, this.metric?.metric ?? 'rank_accuracy');
  }

  get judgement(): Judgement {
    return { metric: this.metric, baselines: { majority: this.majority, zero_shot: this.zeroShot }, warnings: this.warnings };
  }

  /** Takes in a trainer event; returns the progress to send, or null when there is nothing new to show. */
  apply(e: TrainingEvent, paused: boolean): TrainingProgress | null {
    switch (e.kind) {
      case 'preparing':
        this.preparing = weightPreparation(e);
        this.weights = e.weights;
        return this.progress();
      case 'started':
        this.started(e, paused);
        return this.progress();
      case 'step':
        Object.assign(this, {
          step: e.step,
          totalSteps: e.steps,
          examplesPerSecond: e.examplesPerS,
          etaSeconds: e.etaS,
          stepSeconds: e.stepS,
        });
        this.losses.push({ step: e.step, loss: e.loss, lr: e.lr });
        return this.progress({ loss: e.loss, lr: e.lr });
      case 'eval':
        return this.evaluated(e);
      case 'zero-shot':
        this.zeroShot = { ...e.summary };
        return this.progress();
      case 'testing':
        this.testing = e.examples;
        return this.progress();
      case 'test':
        // The warnings now judge the headline: the test split's evaluation.
        Object.assign(this, { testing: null, test: e.score, warnings: e.score.warnings });
        return this.progress();
      case 'paused':
        this.state = 'paused';
        return this.progress();
      case 'resumed':
        this.state = 'running';
        return null;
      default:
        return null;
    }
  }

  private started(e: Extract<TrainingEvent, { kind: 'started' }>, paused: boolean): void {
    // The app trains single tasks: a mixture of one.
    const [task] = e.tasks;
    Object.assign(this, {
      state: paused ? 'paused' : 'running',
      totalSteps: e.steps,
      provider: e.provider,
      providerDetail: e.providerDetail,
      providerReason: e.providerReason,
      weights: e.weights,
      labels: task.labels,
      notes: e.notes,
      step: e.resumedAt ?? 0,
      resumedAt: e.resumedAt,
      metric: task.metric,
      majority: task.majority,
      preparing: null,
    } satisfies Partial<LiveRun>);
    // A resumed run repeats the steps after its checkpoint: what was logged of them gives way to the repeat.
    if (e.resumedAt !== null) for (const points of [this.losses, this.evals]) dropAfter(points, e.resumedAt);
  }

  private evaluated(e: Extract<TrainingEvent, { kind: 'eval' }>): TrainingProgress {
    const point: EvalPoint = { ...e.summary };
    this.evals.push(point);
    this.warnings = e.warnings;
    this.bestStep = e.bestStep;
    if (e.step === 0) this.zeroShot = point;
    return this.progress(undefined, point);
  }

  /** The `training.progress` payload: the latest step's loss (or the last recorded one), rates while running. */
  progress(step?: { loss: number; lr: number }, evaluated?: EvalPoint): TrainingProgress {
    const last = this.losses.at(-1);
    const latestEval = this.evals.at(-1) ?? null;
    const running = this.state === 'running';
    const payload: TrainingProgress = {
      runId: this.runId,
      status: this.state,
      step: this.step,
      totalSteps: this.totalSteps,
      loss: step?.loss ?? last?.loss ?? null,
      lr: step?.lr ?? last?.lr ?? null,
      latestEval,
      stepsPerSecond: this.examplesPerSecond === null || !running ? 0 : this.examplesPerSecond / this.batchSize,
      examplesPerSecond: running ? (this.examplesPerSecond ?? 0) : 0,
      etaSeconds: running ? this.etaSeconds : null,
      best: this.best,
      judgement: this.judgement,
      testing: this.testing,
      test: this.test,
      stepSeconds: this.stepSeconds,
      preparing: this.preparing,
    };
    if (latestEval && this.metric)
      payload.validation = { metric: this.metric.metric, value: summaryValue(latestEval, this.metric.metric) ?? latestEval.exact_match };
    if (evaluated) payload.eval = evaluated;
    return payload;
  }
}
