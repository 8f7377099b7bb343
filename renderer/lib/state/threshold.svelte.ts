import type { ThresholdView } from '../../../preload/contract.js';
import type { ThresholdTarget } from '../../../main/choices.js';
import { pointAt, thresholdFor, type ThresholdPoint } from '../../../main/train/threshold.js';
import type { ApiError } from '../api.js';
import { api } from '../api.js';
import { asApiError } from './errors.js';
import { PendingPreparation } from './preparation.svelte.js';

/**
 * A two-label prompt's decision threshold in the Evaluate step: the curve of the label to find on the validation
 * rows, a threshold picked or derived from a target (previewed with the engine's own rule), stored with the prompt.
 */
export class Threshold {
  view = $state.raw<ThresholdView | undefined>();
  busy = $state(false);
  error = $state.raw<ApiError | undefined>();
  by = $state<ThresholdTarget>('threshold');
  value = $state(0.5);
  readonly preparation = new PendingPreparation();

  constructor(
    readonly promptId: number,
    /** Called after the stored threshold changed: the evaluation's numbers change with it. */
    private readonly changed: () => void,
  ) {}

  /**
   * The value field: the threshold itself, or a target precision or recall as a percentage, as every figure on screen is
   * written (`value` keeps the share the engine takes). Empty or not a number: null.
   */
  get entry(): number | null {
    return this.by === 'threshold' ? this.value : Number((this.value * 100).toPrecision(12));
  }
  set entry(typed: number | null) {
    this.value = typed === null ? NaN : this.by === 'threshold' ? typed : typed / 100;
  }

  /** Why the value cannot be used, in words; '' when it can. */
  get problem(): string {
    if (this.value >= 0 && this.value <= 1) return '';
    return this.by === 'threshold' ? 'A threshold is a probability: type one from 0 to 1.' : `Type a target ${this.by} from 0 to 100 %.`;
  }

  /** The threshold the current choice gives on these rows, and its point; undefined when no threshold reaches the target. */
  readonly preview = $derived.by((): ThresholdPoint | undefined => {
    if (!this.view || this.problem) return undefined;
    const t = thresholdFor(this.view.curve, this.by, this.value);
    return t === undefined ? undefined : pointAt(this.view.curve, t);
  });

  load(positive?: string): Promise<void> {
    return this.#call(
      () => api['prompt.thresholdCurve']({ promptId: this.promptId, ...(positive === undefined ? {} : { positive }) }),
      (view) => {
        const d = view.decision;
        if (d && d.positive === view.curve.positive) [this.by, this.value] = [d.chosenBy, d.target];
      },
    );
  }

  save(): Promise<void> {
    const positive = this.view?.curve.positive;
    if (positive === undefined) return Promise.resolve();
    return this.#call(
      () => api['prompt.setThreshold']({ promptId: this.promptId, positive, by: this.by, value: this.value }),
      this.changed,
    );
  }

  async clear(): Promise<void> {
    this.busy = true;
    try {
      await api['prompt.clearThreshold']({ promptId: this.promptId });
      if (this.view) this.view = { ...this.view, decision: null };
      this.error = undefined;
      this.changed();
    } catch (error) {
      this.error = asApiError(error);
    } finally {
      this.busy = false;
    }
  }

  async #call(request: () => Promise<ThresholdView>, then: (view: ThresholdView) => void): Promise<void> {
    this.busy = true;
    try {
      const view = await this.preparation.during('evaluation.preparing', (p) => p.promptId === this.promptId, request);
      this.view = view;
      this.error = undefined;
      then(view);
    } catch (error) {
      this.error = asApiError(error);
    } finally {
      this.busy = false;
    }
  }
}
