/**
 * What a run will take in memory before it starts: the frozen model at its width, the activations of one
 * engine call (micro-batch × input + prompt tokens), the transient float32 copies narrow weights are Cast to,
 * and the optimiser state; compared with the memory this machine has free, so that a run that cannot fit is
 * refused with a suggestion instead of swapping or being killed.
 *
 * Activations are counted per token and layer as 9 d_model-sized values, the d_ff-sized values a backward keeps
 * (gated-GELU: both inputs of the gated product, 2 d_ff; ReLU: its mask, a byte each) and 3 attention rows of S
 * values per head, float32; int8's dequantisation holds two float32 copies of the weight in use, a half width one.
 * Against `npm run bench -- sizes` (batch 8, 84 + 4 tokens) the plan is 2–14 % above the measured peak RSS:
 * t5-base fp32/bf16/int8 2.39/1.15/1.08 GB planned against 2.32/1.07/1.02, t5-large 7.18/2.89/2.47 against
 * 6.81/2.54/2.32, flan-t5-xl int8 7.19 against 7.02.
 *
 * Labelling and evaluation plan a forward pass instead (`scoring`): the model at the width (or the int8 products'
 * own weights) the job uses, and what one scoring call has alive at once; the label texts ranked multiply the
 * decoder's share. It is planned at the job's input length limit, so it bounds a batch of its longest rows.
 */
import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import type { T5Config } from '../checkpoint/config.js';
import { expectedTensors, isProjection, parameterCount } from '../checkpoint/layout.js';
import { SproutError } from '../errors.js';
import { WEIGHT_WIDTHS, type ComputeChoice } from '../choices.js';
import { BYTES_PER_PARAMETER, type WeightWidth } from './width.js';

/** onnxruntime's own share of a process (kernels, session state, thread pools), fitted with the sizes above. */
const RUNTIME_BYTES = 200e6;
/**
 * A forward's values pass through onnxruntime's arena, which grows by whole chunks: t5-base with int8 products
 * (`npm run bench -- sizes`, batch 8, 84 tokens, 2 label texts) peaked at 651 MB, 8 MB above the plan without it.
 */
const ARENA_FACTOR = 1.5;

export interface PlanInput {
  config: T5Config;
  width: WeightWidth;
  /** Examples per engine call (the micro-batch). */
  batch: number;
  inputTokens: number;
  promptLength: number;
  targetTokens: number;
  /**
   * Sessions that each hold the weights at once: 2 when training also evaluates on float32 weights (train + score
   * graphs side by side); 1 on narrow weights (see oneSessionGroupAtATime).
   */
  sessions: number;
  /** float32 values of optimiser state per prompt value: Adafactor ~0 (factored), Adam 2. */
  optimizerValuesPerParameter: number;
  /**
   * Scoring only (labelling, evaluation): a forward pass, no gradient and no optimiser state, with `candidates`
   * decoder rows per example (the label texts ranked; 1 for free text). Without it, a training step.
   */
  scoring?: { candidates: number; compute: ComputeChoice };
}

export interface MemoryPlan {
  width: WeightWidth;
  /** Set for a scoring plan: how it multiplies by the weights. */
  compute?: ComputeChoice;
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
  const ffKept = c.feedForward === 'gated-gelu' ? 2 * c.dFf : c.dFf / 4;
  const perToken = (seq: number) => 9 * c.dModel + ffKept + 3 * c.numHeads * seq;
  const encoder = c.numLayers * S * perToken(S);
  // Cross-attention absorbs its key and value weights (graph/t5/model.ts, absorbedCross): per layer it keeps the
  // scores over S and, per head and target token, a query and a context in d_model, besides the encoder output's transpose.
  const cross = 3 * c.numHeads * S + 2 * c.numHeads * c.dModel;
  const decoder = c.numDecoderLayers * T * (perToken(T) + cross) + S * c.dModel;
  return 4 * batch * (encoder + decoder + 3 * T * c.vocabSize);
}

/**
 * A forward pass keeps no layer's values for a backward: what is alive at once is the encoder's output (which every
 * decoder layer reads), one layer's working set (q, k, v, attention output and residual: 6 d_model values a token;
 * attention scores and their softmax, 2 rows of S per head; the feed-forward's hidden values, 2 d_ff gated) and the
 * logits with their log-softmax, for each of the `candidates` decoder rows of an example.
 */
function forwardBytes(c: T5Config, batch: number, S: number, T: number, candidates: number): number {
  const layer = (seq: number, keys: number) => seq * (6 * c.dModel + 2 * c.numHeads * keys + 2 * c.dFf);
  const encoder = S * c.dModel + layer(S, S);
  const decoder = candidates * (layer(T, T + S) + 2 * T * c.vocabSize);
  return 4 * batch * (encoder + decoder);
}

/** Bytes of the weights int8 products hold: projections int8 with a float32 scale per output, the rest float32 (main/weights/store.ts). */
function int8ProductBytes(c: T5Config): number {
  let bytes = 0;
  for (const [name, shape] of expectedTensors(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    bytes += isProjection(name) ? n + 4 * shape[0] : 4 * n;
  }
  return bytes;
}

export function memoryPlan(p: PlanInput, available = availableMemory()): MemoryPlan {
  const c = p.config;
  const products = p.scoring?.compute === 'int8';
  const modelBytes = p.sessions * (products ? int8ProductBytes(c) : parameterCount(c) * BYTES_PER_PARAMETER[p.width]);
  // A narrow weight is made float32 where it is used: the largest bounds what is alive (int8: Cast, then times the
  // scales). Integer products read their int8 weights as they are; but a tied model's LM head is the float32
  // embedding, whose transposed copy onnxruntime folds into a second constant (t5-base int8 compute: the measured
  // peak, 651 MB, was 107 MB above the plan without it; that copy is 99 MB).
  const largest = Math.max(...[...expectedTensors(c).values()].map((s) => s.reduce((a, b) => a * b, 1)));
  const tiedHead = c.tieWordEmbeddings ? 4 * c.vocabSize * c.dModel : 0;
  const transientWeightBytes = products ? tiedHead : { fp32: 0, bf16: 1, fp16: 1, int8: 2 }[p.width] * 4 * largest;
  const S = p.promptLength + p.inputTokens;
  const activations = p.scoring
    ? ARENA_FACTOR * forwardBytes(c, p.batch, S, p.targetTokens, p.scoring.candidates)
    : activationBytes(c, p.batch, S, p.targetTokens);
  // The prompt and its gradient, and the optimiser's state; scoring holds the prompt alone.
  const optimizerBytes = 4 * (p.scoring ? 1 : 2 + p.optimizerValuesPerParameter) * p.promptLength * c.dModel;
  const totalBytes = modelBytes + transientWeightBytes + activations + optimizerBytes + RUNTIME_BYTES;
  return {
    width: p.width,
    ...(p.scoring ? { compute: p.scoring.compute } : {}),
    batch: p.batch,
    modelBytes,
    transientWeightBytes,
    activationBytes: activations,
    optimizerBytes,
    runtimeBytes: RUNTIME_BYTES,
    totalBytes,
    availableBytes: available,
    fits: totalBytes <= 0.9 * available,
  };
}

const gb = (b: number) => `${(b / 1e9).toFixed(2)} GB`;

export function describePlan(plan: MemoryPlan): string {
  const products = plan.compute === 'int8' ? ', int8 products' : '';
  return [
    `memory plan (${plan.width} weights${products}, ${plan.batch} examples per engine call):`,
    `  model ${gb(plan.modelBytes)} · activations ${gb(plan.activationBytes)} · transient weight copies ${gb(plan.transientWeightBytes)}`,
    `  · ${plan.compute ? 'prompt' : 'optimiser'} ${gb(plan.optimizerBytes)} · runtime ${gb(plan.runtimeBytes)}` +
      ` = ${gb(plan.totalBytes)} of ${gb(plan.availableBytes)} available`,
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
  const narrower = WEIGHT_WIDTHS.filter(
    (w) => BYTES_PER_PARAMETER[w] < BYTES_PER_PARAMETER[p.width] && memoryPlan({ ...p, width: w }, available).fits,
  );
  if (narrower.length) suggestion.width = narrower[narrower.length - 1];
  for (let L = p.inputTokens >> 1; L >= 16; L >>= 1) {
    if (memoryPlan({ ...p, inputTokens: L }, available).fits) {
      suggestion.inputTokens = L;
      break;
    }
  }
  return suggestion;
}

export const NO_FIT_HINT = "This model does not fit in this machine's memory at any width; use a smaller model.";

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
  throw new SproutError(
    'memory-plan',
    `This run needs about ${gb(plan.totalBytes)} of memory, but only ${gb(plan.availableBytes)} is available.\n${describePlan(plan)}`,
    {
      hint: suggestions.length ? `Try ${suggestions.join(', or ')}.` : NO_FIT_HINT,
    },
  );
}
