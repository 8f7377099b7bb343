import type { PrepareProgress } from '../../weights/store.js';
import type { WeightWidth } from '../../weights/width.js';

/**
 * A job's frozen weights converted to their width or verified before its model loads: minutes for a large model,
 * reported so that a host shows the job preparing rather than stuck.
 */
export interface WeightsPreparing extends PrepareProgress {
  kind: 'preparing';
  weights: WeightWidth;
}

/** loadPromptModel's onPrepare for a job that reports through its progress channel. */
export function reportPreparing(weights: WeightWidth, progress: (p: WeightsPreparing) => void): (p: PrepareProgress) => void {
  return (p) => progress({ kind: 'preparing', weights, ...p });
}
