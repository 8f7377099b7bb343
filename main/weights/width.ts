/**
 * How the frozen weights of a model are stored and enter the graph. The prompt, its gradient and the optimiser
 * state are float32 at every width: only the model, which never changes, is held narrower.
 */
import type { WeightWidth } from '../choices.js';

export type { ComputeChoice, WeightsChoice, WeightWidth } from '../choices.js';

/** Bytes per parameter of the frozen weights (int8: one float32 scale per 16 values, main/weights/quantize.ts). */
export const BYTES_PER_PARAMETER: Record<WeightWidth, number> = { fp32: 4, bf16: 2, fp16: 2, int8: 1.25 };

/**
 * Narrow widths are chosen to save memory, so a model on them holds the sessions of one kind of work at a time
 * (training, or evaluation and labelling) rather than mapping its weights once per session: see
 * main/runtime/session-cache.ts. Float32 keeps them side by side, for speed.
 */
export function oneSessionGroupAtATime(width: WeightWidth): boolean {
  return width !== 'fp32';
}
