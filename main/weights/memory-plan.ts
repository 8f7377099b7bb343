/**
 * What a run will take in memory before it starts: the frozen model at its width, the activations of one
 * engine call (micro-batch × input + prompt tokens), the transient float32 copies narrow weights are Cast to,
 * and the optimiser state; compared with the memory this machine has free, so that a run that cannot fit is
 * refused with a suggestion instead of swapping or being killed.
 *
 * Activations are counted per token and layer as ~14 d_model-sized values, 3 (ReLU) or 4 (gated-GELU)
 * d_ff-sized values and 3 attention rows of S values per head, float32: on t5-base (batch 8, 84 tokens) that
 * is 741 MB against 704 MB measured by `npm run bench -- memory-base`.
 */
import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import type { T5Config } from '../checkpoint/config.js';
import { expectedTensors, parameterCount } from '../checkpoint/layout.js';
import { SproutError } from '../errors.js';
import { BYTES_PER_PARAMETER, WEIGHT_WIDTHS, type WeightWidth } from './width.js';

/** onnxruntime's own fixed share of a process (kernels, arenas, thread pools), measured on t5-small. */
const RUNTIME_BYTES = 150e6;

export interface PlanInput {
  config: T5Config;
  width: WeightWidth;
  /** Examples per engine call (the micro-batch). */
  batch: number;
  inputTokens: number;
  promptLength: number;
  targetTokens: number;
  /** Sessions that each hold the weights at once: 2 when training also evaluates on float32 weights (train + score graphs side by side); 1 on narrow weights (see oneSessionGroupAtATime). */
  sessions: number;
  /** float32 values of optimiser state per prompt value: Adafactor ~0 (factored), Adam 2. */
  optimizerValuesPerParameter: number;
}

export interface MemoryPlan {
  width: WeightWidth;
  batch: number;
  modelBytes: number;
  transientWeightBytes: number;
  activationBytes: number;
  optimizerBytes: number;
  runtimeBytes: number;
  totalBytes: number;
  availableBytes: number;
  fits: boolean;
}

/** Memory the kernel can give without swapping: MemAvailable on Linux, free memory elsewhere. */
export function availableMemory(): number {
  try {
    const match = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // Not Linux: os.freemem() is the nearest figure.
  }
  return freemem();
}

function activationBytes(c: T5Config, batch: number, S: number, T: number): number {
  const ff = c.feedForward === 'gated-gelu' ? 4 : 3;
  const perToken = (seq: number) => 14 * c.dModel + ff * c.dFf + 3 * c.numHeads * seq;
  const encoder = c.numLayers * S * perToken(S);
  const decoder = c.numDecoderLayers * (T * (perToken(T) + 3 * c.numHeads * S) + 2 * S * c.numHeads * c.dKv);
  return 4 * batch * (encoder + decoder + 3 * T * c.vocabSize);
}

export function memoryPlan(p: PlanInput, available = availableMemory()): MemoryPlan {
  const c = p.config;
  const modelBytes = p.sessions * parameterCount(c) * BYTES_PER_PARAMETER[p.width];
  // A narrow weight is Cast to float32 where it is used; the largest, forward and backward, bound what is alive.
  const largest = Math.max(...[...expectedTensors(c).values()].map((s) => s.reduce((a, b) => a * b, 1)));
  const transientWeightBytes = p.width === 'fp32' ? 0 : 2 * 4 * largest;
  const activations = activationBytes(c, p.batch, p.promptLength + p.inputTokens, p.targetTokens);
  const optimizerBytes = 4 * (2 + p.optimizerValuesPerParameter) * p.promptLength * c.dModel;
  const totalBytes = modelBytes + transientWeightBytes + activations + optimizerBytes + RUNTIME_BYTES;
  return {
    width: p.width, batch: p.batch, modelBytes, transientWeightBytes, activationBytes: activations, optimizerBytes,
    runtimeBytes: RUNTIME_BYTES, totalBytes, availableBytes: available, fits: totalBytes <= 0.9 * available,
  };
}

const gb = (b: number) => `${(b / 1e9).toFixed(2)} GB`;

export function describePlan(plan: MemoryPlan): string {
  return [
    `memory plan (${plan.width} weights, ${plan.batch} examples per engine call):`,
    `  model ${gb(plan.modelBytes)} · activations ${gb(plan.activationBytes)} · transient weight copies ${gb(plan.transientWeightBytes)}`,
    `  · optimiser ${gb(plan.optimizerBytes)} · runtime ${gb(plan.runtimeBytes)} = ${gb(plan.totalBytes)} of ${gb(plan.availableBytes)} available`,
  ].join('\n');
}

/** What would make a plan fit: the largest smaller batch, the widest narrower width, the longest shorter input; empty when nothing would. */
export interface FitSuggestion {
  batch?: number;
  width?: WeightWidth;
  inputTokens?: number;
}

export function suggestFit(p: PlanInput, available = availableMemory()): FitSuggestion {
  const suggestion: FitSuggestion = {};
  for (let b = p.batch >> 1; b >= 1; b >>= 1) {
    if (memoryPlan({ ...p, batch: b }, available).fits) {
      suggestion.batch = b;
      break;
    }
  }
  const narrower = WEIGHT_WIDTHS.filter((w) => BYTES_PER_PARAMETER[w] < BYTES_PER_PARAMETER[p.width] && memoryPlan({ ...p, width: w }, available).fits);
  if (narrower.length) suggestion.width = narrower[narrower.length - 1];
  for (let L = p.inputTokens >> 1; L >= 16; L >>= 1) {
    if (memoryPlan({ ...p, inputTokens: L }, available).fits) {
      suggestion.inputTokens = L;
      break;
    }
  }
  return suggestion;
}

export const NO_FIT_HINT = 'This model does not fit in this machine\'s memory at any width; use a smaller model.';

/** Throws a SproutError naming what would fit (a smaller batch, a narrower width, shorter inputs) when the plan does not. */
export function requireFits(p: PlanInput, available = availableMemory()): MemoryPlan {
  const plan = memoryPlan(p, available);
  if (plan.fits) return plan;
  const fit = suggestFit(p, available);
  const suggestions = [
    ...(fit.batch ? [`--micro-batch-size ${fit.batch} (same effective batch, gradients accumulated)`] : []),
    ...(fit.width ? [`--weights ${fit.width}`] : []),
    ...(fit.inputTokens ? [`--max-input-length ${fit.inputTokens}`] : []),
  ];
  throw new SproutError('memory-plan', `This run needs about ${gb(plan.totalBytes)} of memory, but only ${gb(plan.availableBytes)} is available.\n${describePlan(plan)}`, {
    hint: suggestions.length ? `Try ${suggestions.join(', or ')}.` : NO_FIT_HINT,
  });
}
