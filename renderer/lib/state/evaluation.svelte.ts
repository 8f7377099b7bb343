import type { EvalReport } from '../../../preload/contract.js';
import type { ComputeChoice } from '../../../main/choices.js';
import type { ApiError } from '../api.js';
import { api } from '../api.js';
import { asApiError } from './errors.js';
import { PendingPreparation } from './preparation.svelte.js';

/** Step 5: the finished prompt scored on its validation split (computed once per prompt and arithmetic). */
export class Evaluation {
  report = $state.raw<EvalReport | undefined>();
  /** How the model multiplies while scoring (int8: faster on the CPU); the report shown was scored with `scoredWith`. */
  compute = $state<ComputeChoice>('float');
  scoredWith = $state<ComputeChoice | undefined>();
  busy = $state(false);
  error = $state.raw<ApiError | undefined>();
  readonly preparation = new PendingPreparation();

  async load(promptId: number): Promise<void> {
    if ((this.report?.promptId === promptId && this.scoredWith === this.compute) || this.busy) return;
    this.busy = true;
    const compute = this.compute;
    try {
      this.report = await this.preparation.during(
        'evaluation.preparing',
        (p) => p.promptId === promptId,
        () => api['eval.report']({ promptId, worst: 10, ...(compute === 'int8' ? { compute } : {}) }),
      );
      this.scoredWith = compute;
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
