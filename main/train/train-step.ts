/**
 * One optimiser step on a batch: micro-batches accumulated to the effective batch (weighted by target tokens, so the
 * gradient is that of the whole batch's token-mean loss, as Hugging Face computes it), halved on an out-of-memory
 * error, optional gradient-norm clipping, then each prompt's optimiser. With several prompts (a mixture's prompt per
 * task) each example runs with its task's prompt in one mixed batch: one loss, a gradient per prompt. In float16 the
 * backward starts from the state's loss scale, and a step whose gradient overflows is skipped (main/train/loss-scale.ts).
 */
import { SproutError } from '../errors.js';
import type { PromptModel, Seq2SeqBatch, SoftPrompt, TrainStepOptions } from '../runtime/types.js';
import type { RunSettings } from './config.js';
import type { EncodedExample } from './encode.js';
import { afterFiniteStep, afterOverflow } from './loss-scale.js';
import type { PromptOptimizer } from './optim/index.js';
import type { TrainerState } from './trainer-state.js';

export interface Stepper {
  model: PromptModel;
  config: Pick<RunSettings, 'seed' | 'zLoss' | 'dropout' | 'maxGradNorm'>;
  /** The prompts trained, views on the state's arrays (the optimisers update them in place). */
  prompts: SoftPrompt[];
  optimizers: PromptOptimizer[];
  state: TrainerState;
  /** A message for the user, e.g. that the micro-batch was halved. */
  notice: (message: string) => void;
}

/** Examples of a batch, and for several prompts the prompt of each (null with one). */
export interface StepBatch {
  examples: EncodedExample[];
  promptIndex: number[] | null;
}

/** Messages onnxruntime and the providers use when an allocation fails. */
const OOM =
  /out of memory|\bOOM\b|bad_alloc|failed to allocate|CUDA_ERROR_OUT_OF_MEMORY|cudaErrorMemoryAllocation|E_OUTOFMEMORY|insufficient memory/i;

export function isOutOfMemory(error: unknown): boolean {
  return error instanceof Error && OOM.test(error.message);
}

/** The step's dropout masks are seeded by step and micro-batch, so that a resumed run draws them again. */
function stepOptions(s: Stepper, micro: number): TrainStepOptions {
  const { config, state } = s;
  return {
    zLoss: config.zLoss || undefined,
    dropout: config.dropout || undefined,
    dropoutSeed: config.dropout ? (config.seed * 1_000_003 + state.step * 1009 + micro) >>> 0 : undefined,
    lossScale: state.lossScale?.scale,
  };
}

/**
 * Runs the step; returns its loss, the gradient norm before clipping (null when the step was skipped: its gradient
 * overflowed at the loss scale) and the learning rate it stepped with.
 */
export async function optimizerStep(s: Stepper, batch: StepBatch): Promise<{ loss: number; gradNorm: number | null; lr: number }> {
  const { loss, grads, overflow } = await accumulate(s, batch);
  if (!Number.isFinite(loss)) {
    throw new SproutError('training-diverged', `The training loss became ${loss} at step ${s.state.step + 1}.`, {
      hint: 'Lower the learning rate (--lr), or clip gradients; the last checkpoint holds the prompt before this step.',
    });
  }
  const lr = s.optimizers[0].learningRate();
  const scale = s.state.lossScale;
  if (overflow && scale) {
    const step = s.state.step + 1;
    afterOverflow(scale, step);
    s.notice(
      `Step ${step} skipped: its gradient overflowed float16 at loss scale ${scale.scale * 2}; the loss scale is now ${scale.scale}.`,
    );
    return { loss, gradNorm: null, lr };
  }
  if (scale) afterFiniteStep(scale);
  const gradNorm = clip(grads, s.config.maxGradNorm);
  // A prompt whose task sat out this batch has no gradient; stepping it would still move its optimiser state.
  const present = batch.promptIndex && new Set(batch.promptIndex);
  grads.forEach((g, k) => (!present || present.has(k)) && s.optimizers[k].step(s.prompts[k].data, g));
  return { loss, gradNorm, lr };
}

/** The L2 norm over every prompt's gradient; above `max`, every gradient is scaled down to it (in place). */
function clip(grads: Float32Array[], max: number | undefined): number {
  const norm = Math.sqrt(grads.reduce((total, grad) => grad.reduce((s, g) => s + g * g, total), 0));
  if (max !== undefined && norm > max) {
    // torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6).
    const scale = Math.fround(max / (norm + 1e-6));
    for (const grad of grads) for (let i = 0; i < grad.length; i++) grad[i] *= scale;
  }
  return norm;
}

/**
 * One effective batch in micro-batches: the gradient of the batch's token-mean loss is Σ_k n_k·g_k / Σ_k n_k
 * (n_k target tokens of micro-batch k). On an out-of-memory error the micro-batch is halved and the step redone.
 */
async function accumulate(s: Stepper, batch: StepBatch): Promise<{ loss: number; grads: Float32Array[]; overflow: boolean }> {
  const { examples } = batch;
  for (;;) {
    const size = Math.min(s.state.microBatchSize, examples.length);
    try {
      if (size === examples.length) {
        const r = await pass(s, batch, 0);
        return { loss: r.loss, grads: r.grads.map((g) => g.slice()), overflow: r.overflow };
      }
      const sums = s.prompts.map((p) => new Float64Array(p.data.length));
      let tokens = 0;
      let lossSum = 0;
      let overflow = false;
      for (let start = 0, k = 0; start < examples.length; start += size, k++) {
        const part = { examples: examples.slice(start, start + size), promptIndex: batch.promptIndex?.slice(start, start + size) ?? null };
        const r = await pass(s, part, k);
        overflow ||= r.overflow;
        const n = r.targetTokens;
        sums.forEach((sum, j) => {
          const g = r.grads[j];
          for (let i = 0; i < sum.length; i++) sum[i] += n * g[i];
        });
        tokens += n;
        lossSum += n * r.loss;
      }
      return { loss: Math.fround(lossSum / tokens), grads: sums.map((sum) => Float32Array.from(sum, (g) => g / tokens)), overflow };
    } catch (error) {
      if (!isOutOfMemory(error)) throw error;
      if (size <= 1) {
        throw new SproutError('out-of-memory', 'The device ran out of memory even for one example at a time.', {
          hint: 'Use shorter inputs (--max-input-length), a shorter prompt, or the CPU (--device cpu).',
        });
      }
      s.state.microBatchSize = Math.ceil(size / 2);
      s.notice(
        `Out of memory with ${size} examples per pass` +
          `; continuing with ${s.state.microBatchSize} and accumulating gradients to keep the batch of ${examples.length}.`,
      );
    }
  }
}

/** One engine call: the shared prompt's graph with one prompt, the mixed-prompt graph with several. */
async function pass(
  s: Stepper,
  batch: StepBatch,
  micro: number,
): Promise<{ loss: number; targetTokens: number; grads: Float32Array[]; overflow: boolean }> {
  const seq: Seq2SeqBatch = { inputs: batch.examples.map((e) => e.input), targets: batch.examples.map((e) => e.target) };
  const options = stepOptions(s, micro);
  if (!batch.promptIndex) {
    const r = await s.model.trainStep(s.prompts[0], seq, options);
    return { loss: r.loss, targetTokens: r.targetTokens, grads: [r.gradPrompt], overflow: r.overflow === true };
  }
  const r = await s.model.trainStepMixed({ prompts: s.prompts, promptIndex: batch.promptIndex }, seq, options);
  return { loss: r.loss, targetTokens: r.targetTokens, grads: r.gradPrompts, overflow: r.overflow === true };
}
