/**
 * Dynamic loss scaling for float16 training (Micikevicius et al. 2018; PyTorch's GradScaler): the backward pass
 * starts from the loss times `scale`, so that small gradients of half-precision activations stay above float16's
 * subnormals. A step whose prompt gradient overflows (not finite) is skipped, never trained on, and the scale
 * halved; after a run of finite steps the scale doubles again, to keep as much of float16's precision as fits.
 */
import { usesLossScale } from '../graph/t5/graphs.js';
import { COMPUTE_DTYPE, DEFAULT_LOSS_SCALE, nonFiniteError, type ComputePrecision } from '../runtime/precision.js';
import type { PromptModel } from '../runtime/types.js';
import { counted } from '../wording.js';

type DeviceLine = Pick<PromptModel, 'providerDetail' | 'providerReason'>;

/** In the trainer's state and its checkpoint, so that a resumed run scales as the uninterrupted one. */
export interface LossScaleState {
  scale: number;
  /** Finite steps since the scale last changed. */
  finiteSteps: number;
  /** Steps skipped because their gradient overflowed, in order. */
  skipped: number[];
}

/**
 * Finite steps before the scale doubles. PyTorch waits 2,000 from 65,536; prompt tuning runs a few thousand steps
 * from 1,024 (DEFAULT_LOSS_SCALE, enough for every fixture), so a shorter run of 200 lets a run that had to back
 * off climb back within it.
 */
export const GROWTH_INTERVAL = 200;

/**
 * Below this the gradient overflows however little the loss is scaled (float16's range is the limit, not the
 * scale): skipping more steps would train nothing.
 */
const MIN_SCALE = 1;

/**
 * The loss scale a run steps with at `precision`: the one its checkpoint kept, else a fresh one; null where the
 * precision has none (fp32, bf16), even if a run resumed on another device had one.
 */
export function lossScaleOn(precision: ComputePrecision, kept: LossScaleState | null): LossScaleState | null {
  if (!usesLossScale(COMPUTE_DTYPE[precision])) return null;
  return kept ?? { scale: DEFAULT_LOSS_SCALE, finiteSteps: 0, skipped: [] };
}

/** The run record's device line with float16's loss scale in it: the scale, and the steps skipped for overflow. */
export function withLossScale(device: DeviceLine, s: Pick<LossScaleState, 'scale' | 'skipped'> | null): DeviceLine {
  const { providerDetail, providerReason } = device;
  if (!s) return { providerDetail, providerReason };
  const skipped = s.skipped.length
    ? `; ${counted(s.skipped.length, 'step')} skipped, gradient overflowed float16: ${s.skipped.join(', ')}`
    : '';
  return { providerDetail: `${providerDetail} · loss scale ${s.scale}${skipped}`, providerReason };
}

/** After a finite step: true when the scale grew. */
export function afterFiniteStep(s: LossScaleState): boolean {
  if (++s.finiteSteps < GROWTH_INTERVAL) return false;
  s.scale *= 2;
  s.finiteSteps = 0;
  return true;
}

/** After `step` overflowed: the step is recorded as skipped and the scale halved; an error once it cannot go lower. */
export function afterOverflow(s: LossScaleState, step: number): void {
  if (s.scale / 2 < MIN_SCALE) throw nonFiniteError(`prompt gradient (at step ${step}, even with the loss unscaled)`, 'fp16');
  s.skipped.push(step);
  s.scale /= 2;
  s.finiteSteps = 0;
}
