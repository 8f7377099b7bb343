import type { PrepareProgress } from './store.js';
import type { WeightWidth } from './width.js';

/**
 * Frozen weights converted to their width or verified before a model loads, as a message among a job's other
 * reports: minutes for a large model, reported so that a host shows the job preparing rather than stuck.
 */
export interface WeightsPreparing extends PrepareProgress {
  kind: 'preparing';
  weights: WeightWidth;
}

/** loadPromptModel's onPrepare for a job or run that reports through a channel of its own. */
export function reportPreparing(weights: WeightWidth, report: (p: WeightsPreparing) => void): (p: PrepareProgress) => void {
  return (p) => report({ kind: 'preparing', weights, ...p });
}
