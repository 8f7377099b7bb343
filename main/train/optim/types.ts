import type { OptimizerKind } from '../../choices.js';

export type { OptimizerKind } from '../../choices.js';

/** An optimiser for one [rows, cols] parameter (the soft prompt), with state that can be saved and restored exactly. */
export interface PromptOptimizer {
  readonly kind: OptimizerKind;
  /** Updates `param` in place from `grad` (same length, row-major [rows, cols]) and advances the step count. */
  step(param: Float32Array, grad: Float32Array): void;
  /** Learning rate the next step will use. */
  learningRate(): number;
  /** The step count and every moment tensor, by name; restored bit for bit by `load`. */
  state(): OptimizerState;
  load(state: OptimizerState): void;
}

export interface OptimizerState {
  kind: OptimizerKind;
  step: number;
  tensors: Record<string, Float32Array>;
}

export function checkState(state: OptimizerState, kind: OptimizerKind, shapes: Record<string, number>): void {
  if (state.kind !== kind) throw new RangeError(`optimiser state is for ${state.kind}, not ${kind}`);
  if (!Number.isInteger(state.step) || state.step < 0) throw new RangeError(`optimiser step ${state.step} is not a count`);
  for (const [name, length] of Object.entries(shapes)) {
    const t = state.tensors[name];
    if (!(t instanceof Float32Array) || t.length !== length)
      throw new RangeError(`optimiser state ${name} must hold ${length} float32 values`);
  }
}
