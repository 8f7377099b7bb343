import type { EventPayload, WeightPreparation } from '../../../preload/contract.js';
import { onEvent } from '../api.js';

type PreparingEvent = 'labelling.preparing' | 'evaluation.preparing';

/**
 * The weight preparation reported while an operation that loads a model is pending (label.start, label.resume,
 * eval.report): those answer only once the weights are converted or verified, minutes for a large model.
 */
export class PendingPreparation {
  current = $state.raw<WeightPreparation | undefined>();

  /** The call's answer; until it comes, `current` follows the reports `mine` accepts. */
  async during<T, E extends PreparingEvent>(event: E, mine: (p: EventPayload<E>) => boolean, call: () => Promise<T>): Promise<T> {
    const stop = onEvent(event, (p) => {
      if (mine(p)) this.current = p.preparing;
    });
    try {
      return await call();
    } finally {
      stop();
      this.current = undefined;
    }
  }
}
