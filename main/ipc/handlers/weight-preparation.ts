import type { WeightPreparation } from '../../../preload/contract.js';
import type { WeightsPreparing } from '../../weights/preparing.js';

/** What a training run or a worker job reports while its weights are prepared, as the contract carries it (no event tags or ids). */
export function weightPreparation(p: WeightsPreparing): WeightPreparation {
  return { weights: p.weights, phase: p.phase, done: p.done, total: p.total };
}
