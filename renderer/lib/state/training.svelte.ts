import type {
  EvalPoint,
  RequestOf,
  RunState,
  RunStatus,
  RunSummary,
  TrainingProgress,
  WeightPreparation,
} from '../../../preload/contract.js';
import type { ApiError } from '../api.js';
import { api, onEvent } from '../api.js';
import { asApiError } from './errors.js';

const LIVE: RunState[] = ['starting', 'running', 'paused'];

/**
 * The run this window follows, kept in the tab's session storage: a reload finds it again rather than the newest run,
 * which may be one started beside it (from the command line or another window).
 */
const FOLLOWED = 'sprout.followedRun';
const followed = {
  get: (): number | undefined => Number(globalThis.sessionStorage?.getItem(FOLLOWED)) || undefined,
  set: (runId: number | undefined): void =>
    runId === undefined ? globalThis.sessionStorage?.removeItem(FOLLOWED) : globalThis.sessionStorage?.setItem(FOLLOWED, String(runId)),
};

/**
 * One training run as the Train step shows it. The run lives in the engine, not in the window: `attach` reads
 * its whole history with `train.status` and then follows `training.progress`, so a reopened window picks up a
 * run that kept going in the background.
 */
export class TrainingRun {
  run = $state.raw<RunStatus | undefined>();
  losses = $state.raw<{ step: number; loss: number }[]>([]);
  evals = $state.raw<EvalPoint[]>([]);
  latest = $state.raw<TrainingProgress | undefined>();
  busy = $state(false);
  error = $state.raw<ApiError | undefined>();
  #stop: (() => void) | undefined;

  get live(): boolean {
    return !!this.run && LIVE.includes(this.status);
  }

  get status(): RunState {
    return this.latest?.status ?? this.run?.status ?? 'starting';
  }

  /** The weights being converted or verified before the run trains; undefined once it trains (or never had to). */
  get preparing(): WeightPreparation | undefined {
    if (this.status !== 'starting') return undefined;
    return (this.latest ?? this.run)?.preparing ?? undefined;
  }

  get step(): number {
    return this.latest?.step ?? this.run?.step ?? 0;
  }

  async start(request: RequestOf<'train.start'>): Promise<void> {
    await this.#act(async () => this.#take(await api['train.start'](request)));
  }

  /** Follows a run started elsewhere (another window, before a reload). */
  async attach(runId: number): Promise<void> {
    await this.#act(async () => this.#take(await api['train.status']({ runId })));
  }

  /**
   * The run still going that this window followed before a reload, else the newest one, if any (a failure to ask is
   * this run's error, shown on the Train step).
   */
  async findLive(): Promise<RunSummary | undefined> {
    try {
      const live = (await api['train.list']({ limit: 20 })).filter((r) => LIVE.includes(r.status));
      return live.find((r) => r.runId === followed.get()) ?? live[0];
    } catch (error) {
      this.error = asApiError(error);
      return undefined;
    }
  }

  pause = () => this.#control('train.pause');
  resume = () => this.#control('train.resume');
  cancel = () => this.#control('train.cancel');

  forget(): void {
    followed.set(undefined);
    this.#stop?.();
    this.#stop = undefined;
    this.run = undefined;
    this.latest = undefined;
    this.losses = [];
    this.evals = [];
    this.error = undefined;
  }

  async #control(op: 'train.pause' | 'train.resume' | 'train.cancel'): Promise<void> {
    const runId = this.run?.runId;
    if (runId) await this.#act(async () => this.#take(await api[op]({ runId })));
  }

  async #act(work: () => Promise<void>): Promise<void> {
    this.busy = true;
    try {
      await work();
      this.error = undefined;
    } catch (error) {
      this.error = asApiError(error);
    } finally {
      this.busy = false;
    }
  }

  #take(run: RunStatus): void {
    if (this.run?.runId !== run.runId) {
      this.losses = run.losses.map(({ step, loss }) => ({ step, loss }));
      this.evals = run.evals;
    } else if (run.losses.length >= this.losses.length) {
      this.losses = run.losses.map(({ step, loss }) => ({ step, loss }));
      this.evals = run.evals;
    }
    this.run = run;
    followed.set(run.runId);
    this.latest = undefined;
    this.#stop ??= onEvent('training.progress', (p) => this.#progress(p));
  }

  #progress(p: TrainingProgress): void {
    if (!this.run || p.runId !== this.run.runId) return;
    // A run answered while still starting lacks what the trainer reports as it starts (device, labels, notes).
    const started = this.status === 'starting' && p.status !== 'starting';
    this.latest = p;
    // A resumed run goes back to its checkpoint and repeats the steps after it: their old points give way.
    if (p.step < (this.losses.at(-1)?.step ?? 0)) {
      this.losses = this.losses.filter((l) => l.step <= p.step);
      this.evals = this.evals.filter((e) => e.step <= p.step);
    }
    const last = this.losses[this.losses.length - 1];
    if (p.loss !== null && (!last || p.step > last.step)) this.losses = [...this.losses, { step: p.step, loss: p.loss }];
    if (p.eval && !this.evals.some((e) => e.step === p.eval!.step)) this.evals = [...this.evals, p.eval];
    // The final status carries the library prompt and the best evaluation.
    if (started || !LIVE.includes(p.status)) void this.attach(p.runId);
  }
}
