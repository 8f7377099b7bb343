import { Adafactor } from './adafactor.js';
import { Adam } from './adam.js';
import type { OptimizerKind, PromptOptimizer } from './types.js';

export type { OptimizerKind, OptimizerState, PromptOptimizer } from './types.js';
export { Adafactor } from './adafactor.js';
export { Adam } from './adam.js';

export interface OptimizerConfig {
  kind: OptimizerKind;
  /** Default: DEFAULT_LR of the kind. */
  lr?: number;
  /** Default: 1e-5 for Adafactor (Lester et al.), 0 for Adam, 0.01 for AdamW. */
  weightDecay?: number;
}

/** The optimiser for a [rows, cols] prompt. */
export function createOptimizer(config: OptimizerConfig, rows: number, cols: number): PromptOptimizer {
  if (config.kind === 'adafactor') return new Adafactor(rows, cols, { lr: config.lr, weightDecay: config.weightDecay });
  return new Adam(config.kind, rows * cols, { lr: config.lr, weightDecay: config.weightDecay });
}
