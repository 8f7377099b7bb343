import type { EvalReport, RetrainStart, RunState, TrainingProgress } from '../../../preload/contract.js';
import type { ApiError } from '../api.js';
import { api, onEvent } from '../api.js';
import { asApiError } from './errors.js';

/** Both prompts scored on the same rows: the version's test split (or, without one, its validation split). */
export interface Comparison {
  split: EvalReport['split'];
  previous: EvalReport;
  next: EvalReport;
}

/**
 * "Train again with my corrections" as the Label step follows it: the version and run it started, the run's steps
 * as they come, and once it is done both prompts scored side by side on the same split.
 */
export class Retraining {
  readonly started: RetrainStart;
  state = $state<RunState>('starting');
  step = $state(0);
  totalSteps = $state(0);
  promptId = $state<number | null>(null);
  comparison = $state.raw<Comparison | undefined>();
  error = $state.raw<ApiError | undefined>();
  #stop: () => void;
  #finishing = false;

  constructor(started: RetrainStart) {
    this.started = started;
    this.state = started.run.status;
    this.step = started.run.step;
    this.totalSteps = started.run.totalSteps;
    this.#stop = onEvent('training.progress', (p) => this.#progress(p));
    // A short run may have ended before this listened.
    void api['train.status']({ runId: started.run.runId }).then(
      (s) => (s.status === 'done' ? this.#finished() : undefined),
      (error: unknown) => void (this.error = asApiError(error)),
    );
  }

  dispose(): void {
    this.#stop();
  }

  #progress(p: TrainingProgress): void {
    if (p.runId !== this.started.run.runId) return;
    this.step = p.step;
    this.totalSteps = p.totalSteps;
    this.state = p.status;
    if (p.status === 'done') void this.#finished();
  }

  async #finished(): Promise<void> {
    if (this.#finishing) return;
    this.#finishing = true;
    this.state = 'done';
    try {
      const status = await api['train.status']({ runId: this.started.run.runId });
      this.promptId = status.promptId;
      if (status.promptId === null) return;
      const datasetId = this.started.dataset.id;
      const split = this.started.dataset.splits.test > 0 ? 'test' : 'validation';
      // One after the other: each scoring takes the engine worker.
      const previous = await api['eval.report']({ promptId: this.started.previousPromptId, datasetId, split });
      const next = await api['eval.report']({ promptId: status.promptId, datasetId, split });
      this.comparison = { split, previous, next };
      this.error = undefined;
    } catch (error) {
      this.error = asApiError(error);
    }
  }
}
