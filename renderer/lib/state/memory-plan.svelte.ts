import type { RequestOf, TrainingPlan } from '../../../preload/contract.js';
import type { ApiError } from '../api.js';
import { api } from '../api.js';
import { asApiError } from './errors.js';

/**
 * The memory plan of what a step would start (`train.plan` for the Prompt step's run, `label.plan` for the Label
 * step's job), asked again whenever the request changes. Answers can come back out of order while settings are
 * being typed, so only the newest request's answer is kept.
 */
export class MemoryPlanState<Request> {
  plan = $state.raw<TrainingPlan | undefined>();
  error = $state.raw<ApiError | undefined>();
  busy = $state(false);
  #asked = '';
  #latest = 0;

  constructor(
    private readonly ask: (request: Request) => Promise<TrainingPlan>,
    private readonly what: string,
  ) {}

  /** Why Start must wait, or null when the plan says the run fits. */
  get blocker(): string | null {
    if (this.plan && !this.plan.fits) return `This ${this.what} would not fit in memory. ${this.plan.suggestion?.message ?? ''}`.trim();
    return null;
  }

  async refresh(request: Request): Promise<void> {
    const key = JSON.stringify(request);
    if (key === this.#asked) return;
    this.#asked = key;
    const ticket = ++this.#latest;
    this.busy = true;
    try {
      const plan = await this.ask(request);
      if (ticket !== this.#latest) return;
      this.plan = plan;
      this.error = undefined;
    } catch (error) {
      if (ticket !== this.#latest) return;
      this.plan = undefined;
      this.error = asApiError(error);
    } finally {
      if (ticket === this.#latest) this.busy = false;
    }
  }
}

/** The Prompt step's run. */
export class RunMemoryPlan extends MemoryPlanState<RequestOf<'train.start'>> {
  constructor() {
    super((request) => api['train.plan'](request), 'run');
  }
}

/** The Label step's job. */
export class LabelMemoryPlan extends MemoryPlanState<RequestOf<'label.plan'>> {
  constructor() {
    super((request) => api['label.plan'](request), 'labelling job');
  }
}
