/**
 * Training runs of this host. Each runs on the engine worker through runTraining, which records the run, its losses,
 * evaluations and the kept prompt in the library; this keeps what only a live run knows (rates, every step's loss,
 * the pause flag) and turns the trainer's events into `training.progress`. Because the state lives in main, a run
 * goes on when the window closes and a reopened window gets it back with train.status.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type {
  ContractErrorShape,
  EvalPoint,
  Judgement,
  RunState,
  RunStatus,
  RunSummary,
  TrainingProgress,
  ValidRequestOf,
} from '../../../preload/contract.js';
import { SproutError } from '../../errors.js';
import type { LibraryDb } from '../../library/db.js';
import { latestPromptOfRun } from '../../library/prompts.js';
import { listRuns, requireRun, runMetrics, updateRun, type RunRecord } from '../../library/runs.js';
import { getTask } from '../../library/tasks.js';
import { isProbeRun, parseTrainingConfig } from '../../train/config.js';
import type { TrainingEvent } from '../../train/events.js';
import { readJson, RESULT_FILE, runDir } from '../../train/run-store.js';
import type { MixtureResult, TrainingResult, TrainRequest } from '../../train/run.js';
import { PAUSED } from '../../worker/jobs/train.js';
import { isWritten, refuseIfWritten } from '../../writer-lock.js';
import type { HandlerContext } from '../context.js';
import { toErrorShape } from '../dispatch.js';
import { bestPoint, LiveRun, recordedCurve, type RunControl } from './live-run.js';
import { trainingInput } from './train-input.js';

const ACTIVE = new Set(['queued', 'running', 'paused']);

const NO_JUDGEMENT: Judgement = { metric: null, baselines: { majority: null, zero_shot: null }, warnings: [] };

/** A single task's result; null for none or a mixture's (the app starts single tasks only). */
function singleTask(result: TrainingResult | MixtureResult | null): TrainingResult | null {
  return result && !('mixture' in result) ? result : null;
}

function storedJudgement(stored: TrainingResult | MixtureResult | null): Judgement {
  const result = singleTask(stored);
  // A result.json written before baselines existed has none of these fields.
  if (!result?.baselines) return NO_JUDGEMENT;
  return { metric: { metric: result.metric, reason: result.metric_reason }, baselines: result.baselines, warnings: result.warnings };
}

/**
 * The device and the reason of a run record's provider. The run record appends the reason to the device
 * (providerRecord); each has a field here, so it is said once.
 */
function recordedProvider(provider: string | null): { detail: string | null; reason: string | null } {
  if (provider === null) return { detail: null, reason: null };
  const at = provider.indexOf(' — ');
  return at < 0 ? { detail: provider, reason: null } : { detail: provider.slice(0, at), reason: provider.slice(at + 3) };
}

/** The evaluation of the prompt the run keeps: as the trainer chose it, else by its rule over the evaluations. */
function keptPoint(live: LiveRun | undefined, stored: TrainingResult | MixtureResult | null, evals: EvalPoint[]): EvalPoint | null {
  if (live) return live.best;
  return singleTask(stored)?.best ?? bestPoint(evals, 'rank_accuracy');
}

/** The live run's error, else the one the library recorded. */
function runError(run: RunRecord, live: LiveRun | undefined): ContractErrorShape | null {
  return live?.error ?? (run.error === null ? null : { code: 'training-failed', message: run.error });
}

export class Runs {
  private readonly live = new Map<number, LiveRun>();

  constructor(
    private readonly context: HandlerContext,
    private readonly db: LibraryDb,
  ) {}

  /** Validates the request into a trainer config and starts the run; answers once the run is recorded and training. */
  async start(r: ValidRequestOf<'train.start'>): Promise<RunStatus> {
    const input = trainingInput(this.context.dataDir, this.db, r);
    // Checked here too, so that a bad setting is answered at once rather than after the worker loaded the data.
    const config = parseTrainingConfig(input);
    if (r.init?.startsWith('prompt:') && !/^prompt:[1-9]\d*$/.test(r.init)) {
      throw new SproutError('bad-init', `"${r.init}" does not name a library prompt.`, {
        hint: 'Write prompt:<id>, e.g. prompt:3, or choose a transfer source from the ranking.',
      });
    }
    return this.launch({ config: input }, config.batchSize);
  }

  /**
   * Holds the run after the step in flight and answers once the trainer has stopped, so that what the caller reads
   * next (curve, step, checkpoint) no longer moves.
   */
  async pause(runId: number): Promise<RunStatus> {
    const live = this.requireLive(runId, 'pause');
    if (live.state === 'running') {
      const held = new Promise<void>((resolve) => (live.onHeld = resolve));
      Atomics.store(live.control.flags, PAUSED, 1);
      await Promise.race([held, live.control.ended]);
    }
    return this.status(runId);
  }

  /** A paused run goes on; a cancelled, failed or interrupted one continues from its last checkpoint. */
  async resume(runId: number): Promise<RunStatus> {
    const live = this.live.get(runId);
    if (live && (live.state === 'paused' || live.state === 'running')) {
      Atomics.store(live.control.flags, PAUSED, 0);
      // A pause still waiting for the trainer is overtaken: the run goes on.
      live.onHeld?.();
      live.onHeld = null;
      if (live.state === 'paused') {
        live.state = 'running';
        this.context.emit('training.progress', live.progress());
      }
      return this.status(runId);
    }
    const run = requireRun(this.db, runId);
    if (run.status === 'done')
      throw new SproutError('run-finished', `Run ${runId} has finished; there is nothing to resume.`, {
        hint: 'Start a new run, e.g. with its prompt as the initialisation.',
      });
    this.refuseElsewhere(runId);
    const config = parseTrainingConfig(run.config);
    return this.launch({ resume: runId }, config.batchSize);
  }

  /** Stops the run after the step in flight (a checkpoint is kept, so it can be resumed) and answers once it stopped. */
  async cancel(runId: number): Promise<RunStatus> {
    const live = this.live.get(runId);
    if (live?.active) {
      live.control.controller.abort();
      await live.control.ended;
      return this.status(runId);
    }
    const run = requireRun(this.db, runId);
    this.refuseElsewhere(runId);
    if (ACTIVE.has(run.status)) updateRun(this.db, runId, { status: 'cancelled' });
    else if (run.status === 'done') throw new SproutError('run-finished', `Run ${runId} has already finished.`);
    return this.status(runId);
  }

  status(runId: number): RunStatus {
    const run = requireRun(this.db, runId);
    const live = this.live.get(runId);
    return live ? this.liveStatus(run, live) : this.storedStatus(run);
  }

  list(limit: number): RunSummary[] {
    return listRuns(this.db)
      .reverse()
      .filter((run) => !isProbeRun(run.config))
      .slice(0, limit)
      .map((run) => {
        const live = this.live.get(run.id);
        return this.summary(run, live, live?.evals ?? recordedCurve(runMetrics(this.db, run.id)).evals);
      });
  }

  private liveStatus(run: RunRecord, live: LiveRun): RunStatus {
    const running = live.state === 'running';
    return {
      ...this.summary(run, live, live.evals),
      provider: live.provider,
      providerDetail: live.providerDetail ?? recordedProvider(run.provider).detail,
      providerReason: live.providerReason,
      weights: live.weights ?? run.weights,
      // A paused run makes no progress: no rate, no time left.
      stepsPerSecond: live.examplesPerSecond == null || !running ? null : live.examplesPerSecond / live.batchSize,
      examplesPerSecond: running ? live.examplesPerSecond : null,
      etaSeconds: running ? live.etaSeconds : null,
      stepSeconds: live.stepSeconds,
      preparing: live.preparing,
      judgement: live.judgement,
      testing: live.testing,
      losses: live.losses,
      evals: live.evals,
      labels: live.labels,
      notes: live.notes,
      config: run.config,
    };
  }

  private storedStatus(run: RunRecord): RunStatus {
    const { evals, losses } = recordedCurve(runMetrics(this.db, run.id));
    const result = this.storedResult(run.id);
    const recorded = recordedProvider(run.provider);
    return {
      ...this.summary(run, undefined, evals, result),
      provider: result?.provider ?? null,
      providerDetail: recorded.detail,
      providerReason: result?.provider_reason ?? recorded.reason,
      weights: run.weights,
      stepsPerSecond: null,
      examplesPerSecond: null,
      etaSeconds: null,
      stepSeconds: null,
      preparing: null,
      judgement: storedJudgement(result),
      testing: null,
      losses,
      evals,
      labels: run.taskId === null ? [] : (getTask(this.db, run.taskId)?.labelSet ?? []),
      notes: result?.notes ?? [],
      config: run.config,
    };
  }

  /** `stored`: the run's result file, read once here unless the caller has it (a live run has none yet). */
  private summary(
    run: RunRecord,
    live: LiveRun | undefined,
    evals: EvalPoint[],
    stored = live ? null : this.storedResult(run.id),
  ): RunSummary {
    const train = run.config.train as { dataset?: number } | undefined;
    const task = run.taskId === null ? undefined : getTask(this.db, run.taskId);
    const status = this.runState(run, live);
    const judged = live ? live.judgement : storedJudgement(stored);
    return {
      runId: run.id,
      name: (run.config.name as string | undefined) ?? task?.name ?? `run ${run.id}`,
      status,
      modelId: run.modelId,
      datasetId: train?.dataset ?? null,
      step: live ? live.step : run.step,
      totalSteps: live?.totalSteps ?? run.plannedSteps ?? 0,
      promptId: latestPromptOfRun(this.db, run.id) ?? null,
      best: keptPoint(live, stored, evals),
      metric: judged.metric?.metric ?? null,
      test: live ? live.test : (singleTask(stored)?.test ?? null),
      warnings: judged.warnings,
      created: run.created,
      error: runError(run, live),
    };
  }

  private runState(run: RunRecord, live: LiveRun | undefined): RunState {
    if (live) return live.state;
    if (!ACTIVE.has(run.status)) return run.status as RunState;
    // A run the library says is active but no worker of this process runs is trained by another live process
    // (a `sprout train`), or was stopped by a crash or a quit.
    if (!isWritten({ dataDir: this.context.dataDir, kind: 'run', id: run.id })) return 'interrupted';
    return run.status === 'paused' ? 'paused' : 'running';
  }

  private storedResult(runId: number): TrainingResult | MixtureResult | null {
    const file = join(runDir(this.context.dataDir, String(runId)), RESULT_FILE);
    return existsSync(file) ? (readJson(file, 'bad-run-file') as TrainingResult | MixtureResult) : null;
  }

  private refuseElsewhere(runId: number): void {
    refuseIfWritten({ dataDir: this.context.dataDir, kind: 'run', id: runId });
  }

  private requireLive(runId: number, what: string): LiveRun {
    const live = this.live.get(runId);
    if (!live?.active) {
      requireRun(this.db, runId);
      throw new SproutError('run-not-running', `Run ${runId} is not running, so it cannot ${what}.`, {
        hint: 'Resume it first, or start a new run.',
      });
    }
    return live;
  }

  /**
   * Starts the worker job; resolves when the trainer reports the run started, or first reports preparing its weights
   * (then as `starting`), or with the stored state of a run that had finished.
   */
  private launch(request: TrainRequest, batchSize: number): Promise<RunStatus> {
    const flags = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
    let endLive!: () => void;
    const control: RunControl = { flags, controller: new AbortController(), ended: new Promise<void>((resolve) => (endLive = resolve)) };
    let live: LiveRun | undefined;
    return new Promise<RunStatus>((resolve, reject) => {
      const onEvent = (e: TrainingEvent) => {
        const first = !live && (e.kind === 'preparing' || e.kind === 'started');
        if (first) live = this.track(e.runId, control, batchSize);
        if (live) this.show(live, e);
        if (first) resolve(this.status(live!.runId));
      };
      this.context.worker
        .run(
          'train.run',
          { dataDir: this.context.dataDir, request, control: flags.buffer as SharedArrayBuffer },
          onEvent,
          control.controller.signal,
        )
        .then(
          (result) => {
            if (!live) return resolve(this.status(result.run_id));
            live.state = result.status === 'cancelled' ? 'cancelled' : 'done';
            live.step = result.steps;
          },
          (error: unknown) => {
            if (!live) return reject(error);
            const shape = toErrorShape(error);
            live.state = shape.code === 'cancelled' ? 'cancelled' : 'failed';
            if (live.state === 'failed') live.error = shape;
          },
        )
        .finally(() => {
          if (live) {
            this.context.emit('training.progress', live.progress());
            // Finished runs are served from the library; the live entry only held what the library does not keep.
            this.live.delete(live.runId);
          }
          endLive();
        });
    });
  }

  /** The live entry of a run the worker has just recorded, `starting` until the trainer reports it started. */
  private track(runId: number, control: RunControl, batchSize: number): LiveRun {
    const run = requireRun(this.db, runId);
    const live = new LiveRun(runId, control, batchSize, run.step, run.plannedSteps ?? 0, recordedCurve(runMetrics(this.db, runId)));
    this.live.set(runId, live);
    return live;
  }

  /** Sends what an event changed; a pause waiting for the trainer to stop is answered once it has. */
  private show(live: LiveRun, e: TrainingEvent): void {
    const progress: TrainingProgress | null = live.apply(e, Atomics.load(live.control.flags, PAUSED) === 1);
    if (progress) this.context.emit('training.progress', progress);
    if (e.kind === 'paused') {
      live.onHeld?.();
      live.onHeld = null;
    }
  }
}
