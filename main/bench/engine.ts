/**
 * Engine benchmark: a randomly initialised checkpoint with the real t5-small shape, batch 8, 64 input tokens
 * plus a 20-row prompt, 4 target tokens — milliseconds per train step (forward + backward to the prompt),
 * examples/s for scoring 2 candidates at batch 32, session creation time, peak RSS, and the achieved GFLOP/s
 * against onnxruntime's own MatMul peak on this machine.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeRandomT5Checkpoint } from '../checkpoint/checkpoint.js';
import type { T5Config } from '../checkpoint/config.js';
import { findFamily } from '../checkpoint/families.js';
import { familyConfig } from '../checkpoint/generate.js';
import { loadPromptModel } from '../runtime/model.js';
import type { DevicePreference } from '../runtime/types.js';
import { matmulPeakGflops } from './matmul-peak.js';
import { median, peakRssMb, randomIds, time } from './measure.js';

/** A Hub family's architecture (checkpoint/families.ts holds the shapes) for a generated benchmark checkpoint. */
export function familyShape(repo: string): T5Config {
  const family = findFamily(repo);
  if (!family) throw new Error(`checkpoint/families.ts has no ${repo}`);
  return familyConfig(family).config;
}

export const T5_SMALL = familyShape('t5-small');

/**
 * Forward FLOPs of one example (2 per multiply-add) of the train graph, from the model shape; backward to activations
 * costs about as much again. Cross-attention is counted as the graph computes it, with its key and value weights
 * absorbed into the query side (graph/t5/model.ts, absorbedCross).
 */
export function t5Flops(
  cfg: Required<Pick<T5Config, 'dModel' | 'dKv' | 'numHeads' | 'dFf' | 'numLayers' | 'numDecoderLayers' | 'vocabSize'>> & {
    gated: boolean;
  },
  S: number,
  T: number,
): number {
  const inner = cfg.numHeads * cfg.dKv;
  const ffMats = cfg.gated ? 3 : 2;
  const enc = cfg.numLayers * (S * (4 * cfg.dModel * inner + ffMats * cfg.dModel * cfg.dFf) + 2 * S * S * inner);
  const cross = 4 * T * inner * cfg.dModel + 2 * cfg.numHeads * T * S * cfg.dModel; // q, o, absorbed k and v; scores and context
  const dec = cfg.numDecoderLayers * (T * (4 * cfg.dModel * inner + ffMats * cfg.dModel * cfg.dFf) + 2 * T * T * inner + cross);
  return 2 * (enc + dec + T * cfg.dModel * cfg.vocabSize);
}

export async function ensureCheckpoint(dir: string, config: Partial<T5Config>, tokenizerFrom: string): Promise<string> {
  if (!existsSync(join(dir, 'model.safetensors'))) await writeRandomT5Checkpoint(dir, { ...config, tokenizerFrom }, 0);
  return dir;
}

/** The step every engine benchmark times: batch 8, 64 input tokens, a 20-row prompt, 4 target tokens. */
export const STEP = { B: 8, L: 64, P: 20, T: 4 } as const;

/** Options of the benchmarks that time the engine on a generated t5-small-shaped checkpoint. */
export interface EngineBenchOptions {
  workDir: string;
  tokenizerFrom: string;
  device?: DevicePreference;
  steps?: number;
}

export async function benchEngine(o: EngineBenchOptions) {
  const dir = await ensureCheckpoint(join(o.workDir, 't5-small-random'), T5_SMALL, o.tokenizerFrom);
  const { B, L, P, T } = STEP;
  const t0 = performance.now();
  const model = await loadPromptModel(dir, { device: o.device ?? 'cpu' });
  const cfg = model.config;
  const prompt = { length: P, data: model.embeddings(randomIds(P, 5000, 1)) };
  const batch = {
    inputs: Array.from({ length: B }, (_, b) => randomIds(L - 1, 32000, 10 + b).concat(1)),
    targets: Array.from({ length: B }, (_, b) => randomIds(T - 1, 32000, 50 + b).concat(1)),
  };
  await model.trainStep(prompt, batch);
  const sessionCreateMs = performance.now() - t0;
  const stepTimes: number[] = [];
  for (let i = 0; i < (o.steps ?? 5); i++) stepTimes.push(await time(() => model.trainStep(prompt, batch)));
  const trainStepMs = median(stepTimes);

  const scoreB = 32;
  const inputs = Array.from({ length: scoreB }, (_, b) => randomIds(L - 1, 32000, 100 + b).concat(1));
  const candidates = [
    [9961, 1],
    [29452, 1],
  ];
  await model.score(prompt, inputs, candidates);
  const scoreTimes: number[] = [];
  for (let i = 0; i < 3; i++) scoreTimes.push(await time(() => model.score(prompt, inputs, candidates)));
  const scoreExamplesPerS = scoreB / (median(scoreTimes) / 1000);

  const shape = { ...cfg, gated: cfg.feedForward === 'gated-gelu' };
  // A train step is a forward pass plus a backward pass to the activations (no weight gradients): ~2x forward.
  const stepFlops = 2 * B * t5Flops(shape, P + L, T);
  const achievedGflops = stepFlops / (trainStepMs / 1000) / 1e9;
  const peak = await matmulPeakGflops(o.device ?? 'cpu');
  await model.dispose();
  return {
    benchmark: 'engine',
    model: 't5-small-shaped random checkpoint',
    batch: B,
    input_tokens: L,
    prompt_length: P,
    target_tokens: T,
    train_step_ms_median: round(trainStepMs),
    train_step_ms_all: stepTimes.map(round),
    score_examples_per_s: round(scoreExamplesPerS),
    session_create_ms: round(sessionCreateMs),
    peak_rss_mb: peakRssMb(),
    achieved_gflops: round(achievedGflops),
    matmul_peak_gflops: round(peak),
    model_flop_utilisation: round(achievedGflops / peak, 3),
    provider: model.providerDetail,
  };
}

const round = (v: number, digits = 1) => Number(v.toFixed(digits));
