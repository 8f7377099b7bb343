import type { EvalReport } from '../../../preload/contract.js';
import type { ApiError } from '../api.js';
import { api } from '../api.js';
import { asApiError } from './errors.js';
import { PendingPreparation } from './preparation.svelte.js';

/** Step 5: the finished prompt scored on its validation split (computed once per prompt). */
export class Evaluation {
  report = $state.raw<EvalReport | undefined>();
  busy = $state(false);
  error = $state.raw<ApiError | undefined>();
  readonly preparation = new PendingPreparation();

  async load(promptId: number): Promise<void> {
    if (this.report?.promptId === promptId || this.busy) return;
    this.busy = true;
    try {
      this.report = await this.preparation.during('evaluation.preparing', (p) => p.promptId === promptId, () => api['eval.report']({ promptId, worst: 10 }));
      this.error = undefined;
    } catch (error) {
      this.error = asApiError(error);
    } finally {
      this.busy = false;
    }
  }

  forget(): void {
    this.report = undefined;
    this.error = undefined;
  }
}
