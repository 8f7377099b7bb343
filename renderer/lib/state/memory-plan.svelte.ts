import type { RequestOf, TrainingPlan } from '../../../preload/contract.js';
import type { ApiError } from '../api.js';
import { api } from '../api.js';
import { asApiError } from './errors.js';

/**
 * The memory plan of the run the Prompt step would start (`train.plan`), asked again whenever the request changes.
 * Answers can come back out of order while settings are being typed, so only the newest request's answer is kept.
 */
export class RunMemoryPlan {
  plan = $state.raw<TrainingPlan | undefined>();
  error = $state.raw<ApiError | undefined>();
  busy = $state(false);
  #asked = '';
  #latest = 0;

  /** Why Start must wait, or null when the plan says the run fits. */
  get blocker(): string | null {
    if (this.plan && !this.plan.fits) return `This run would not fit in memory. ${this.plan.suggestion?.message ?? ''}`.trim();
    return null;
  }

  async refresh(request: RequestOf<'train.start'>): Promise<void> {
    const key = JSON.stringify(request);
    if (key === this.#asked) return;
    this.#asked = key;
    const ticket = ++this.#latest;
    this.busy = true;
    try {
      const plan = await api['train.plan'](request);
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
