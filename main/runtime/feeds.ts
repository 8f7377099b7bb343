/**
 * Packing ragged token ids and soft prompts into the rectangular tensors the T5 graphs take (main/graph/t5/graphs.ts
 * names the inputs), and unpacking the per-example gradient of a mixed batch back into one gradient per prompt.
 */
import type { T5Config } from '../checkpoint/config.js';
import { usesLossScale } from '../graph/t5/graphs.js';
import { bucketMatrix, causalMask } from '../graph/t5/position-buckets.js';
import { COMPUTE_DTYPE, DEFAULT_LOSS_SCALE, type ComputePrecision } from './precision.js';
import { floatTensor, int32Tensor, ort, type Feeds } from './session.js';
import type { MixedPrompts, SoftPrompt, TrainStepOptions } from './types.js';

export function dropoutOn(options: TrainStepOptions): boolean {
  const rate = options.dropout ?? 0;
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`dropout must be in [0, 1), got ${rate}`);
  return rate > 0;
}

/** z-loss always; the loss scale where the precision uses one; the dropout rate and this step's mask seed only for graphs built with dropout. */
export function trainOptionFeeds(options: TrainStepOptions, precision: ComputePrecision): Feeds {
  const feeds: Feeds = { z_loss: floatTensor(new Float32Array([options.zLoss ?? 0]), []) };
  if (usesLossScale(COMPUTE_DTYPE[precision]))
    feeds.loss_scale = floatTensor(new Float32Array([options.lossScale ?? DEFAULT_LOSS_SCALE]), []);
  if (dropoutOn(options)) {
    feeds.dropout_rate = floatTensor(new Float32Array([options.dropout!]), []);
    feeds.dropout_seed = new ort.Tensor('int64', BigInt64Array.of(BigInt(Math.trunc(options.dropoutSeed ?? 0))), []);
  }
  return feeds;
}

function checkPrompt(p: SoftPrompt, d: number): void {
  if (p.data.length !== p.length * d) throw new RangeError(`prompt has ${p.data.length} values, expected ${p.length} × ${d}`);
}

export function mixedPrompt(mixed: MixedPrompts, example: number): SoftPrompt {
  const p = mixed.prompts[mixed.promptIndex[example]];
  if (!p) throw new RangeError(`example ${example} names prompt ${mixed.promptIndex[example]}, but ${mixed.prompts.length} were given`);
  return p;
}

/** The prompt length of a mixed batch's graph: its longest prompt (shorter ones are padded and masked). */
export function mixedPromptLength(mixed: MixedPrompts): number {
  return Math.max(...mixed.promptIndex.map((_, b) => mixedPrompt(mixed, b).length));
}

/**
 * Encoder feeds. A shared prompt is one [P, d] input; mixed prompts become [B, P, d] with P the longest, each
 * left-padded with masked rows so that its own rows keep their positions relative to the text.
 */
export function encoderFeeds(cfg: T5Config, prompt: SoftPrompt | MixedPrompts, inputs: number[][]): Feeds {
  const d = cfg.dModel;
  const mixed = 'prompts' in prompt;
  const lengths = mixed ? inputs.map((_, b) => mixedPrompt(prompt, b).length) : inputs.map(() => prompt.length);
  const P = Math.max(0, ...lengths);
  const B = inputs.length;
  const L = Math.max(1, ...inputs.map((r) => r.length));
  const S = P + L;
  const ids = new Array<number>(B * L).fill(cfg.padTokenId);
  const mask = new Float32Array(B * S);
  inputs.forEach((row, b) => {
    row.forEach((id, i) => (ids[b * L + i] = id));
    for (let i = P - lengths[b]; i < P + row.length; i++) mask[b * S + i] = 1;
  });
  const feeds: Feeds = {
    input_ids: int32Tensor(ids, [B, L]),
    enc_mask: floatTensor(mask, [B, S]),
    enc_buckets: new ort.Tensor('int32', bucketMatrix(S, S, true, cfg.relativeAttentionNumBuckets, cfg.relativeAttentionMaxDistance), [
      S,
      S,
    ]),
  };
  if (P === 0) return feeds;
  if (!mixed) {
    checkPrompt(prompt, d);
    feeds.prompt = floatTensor(prompt.data, [P, d]);
    return feeds;
  }
  const data = new Float32Array(B * P * d);
  inputs.forEach((_, b) => {
    const p = mixedPrompt(prompt, b);
    checkPrompt(p, d);
    data.set(p.data, (b * P + P - p.length) * d);
  });
  feeds.prompt = floatTensor(data, [B, P, d]);
  return feeds;
}

/**
 * Packing pays for its gathers only where a batch carries padding: on batches without any (engine bench, t5-small
 * shape, batch 8) the packed graph's train step was 5 % slower, while AG News's 12 % padding rows (64 tokens, batch
 * 32) made topic's step on mini-t5-instruct cheaper. Below this share of padding rows a step runs unpacked.
 */
export const PACK_MIN_PADDING = 1 / 20;

/**
 * A training graph's enc_keep and enc_spread (main/graph/ops.ts PackedRows) from the encoder mask [B, S]: the flat
 * positions of the real rows, and each position's row among them (row 0 for padding). Null when the batch has too
 * little padding to pack (PACK_MIN_PADDING) and `always` is false: the step then runs the train graph without packing.
 */
export function packedRowFeeds(mask: ort.Tensor, always = false): Feeds | null {
  const m = mask.data as Float32Array;
  const spread = new Int32Array(m.length);
  let kept = 0;
  for (let i = 0; i < m.length; i++) if (m[i]) spread[i] = kept++;
  if (!always && m.length - kept < PACK_MIN_PADDING * m.length) return null;
  const keep = new Int32Array(kept);
  for (let i = 0, k = 0; i < m.length; i++) if (m[i]) keep[k++] = i;
  return { enc_keep: new ort.Tensor('int32', keep, [kept]), enc_spread: new ort.Tensor('int32', spread, [m.length]) };
}

/** Decoder inputs for targets: start token then the targets shifted right; labels clamped with a 0/1 mask. */
export function decoderFeeds(cfg: T5Config, targets: number[][]): Feeds {
  const R = targets.length;
  const T = Math.max(1, ...targets.map((t) => t.length));
  const decIds = new Array<number>(R * T).fill(cfg.padTokenId);
  const labels = new Array<number>(R * T).fill(0);
  const mask = new Float32Array(R * T);
  targets.forEach((row, r) => {
    decIds[r * T] = cfg.decoderStartTokenId;
    row.forEach((id, t) => {
      labels[r * T + t] = id;
      mask[r * T + t] = 1;
      if (t + 1 < T) decIds[r * T + t + 1] = id;
    });
  });
  return {
    dec_ids: int32Tensor(decIds, [R, T]),
    labels: int32Tensor(labels, [R * T, 1]),
    label_mask: floatTensor(mask, [R, T]),
    ...decoderPositionFeeds(cfg, T),
  };
}

/** Relative-position buckets and the causal mask of a decoder of length T. */
export function decoderPositionFeeds(cfg: T5Config, T: number): Feeds {
  return {
    dec_buckets: new ort.Tensor('int32', bucketMatrix(T, T, false, cfg.relativeAttentionNumBuckets, cfg.relativeAttentionMaxDistance), [
      T,
      T,
    ]),
    causal: floatTensor(causalMask(T), [T, T]),
  };
}

/** Pads each example's candidate list to the longest with a one-token dummy (eos) whose score the caller drops. */
export function padCandidates(cfg: T5Config, candidates: number[][][]): { flat: number[][]; width: number } {
  const width = Math.max(...candidates.map((c) => c.length));
  const flat = candidates.flatMap((c) => [...c, ...new Array(width - c.length).fill([cfg.eosTokenId])]);
  return { flat, width };
}

/** The mixed train graph's gradient rows [B, P, d], summed per prompt over the examples that used it. */
export function gradientsPerPrompt(mixed: MixedPrompts, rows: Float32Array, P: number, d: number): Float32Array[] {
  const gradPrompts = mixed.prompts.map((p) => new Float32Array(p.length * d));
  mixed.promptIndex.forEach((k, b) => {
    const p = mixed.prompts[k];
    const own = rows.subarray((b * P + P - p.length) * d, (b + 1) * P * d);
    const sum = gradPrompts[k];
    for (let i = 0; i < sum.length; i++) sum[i] += own[i];
  });
  return gradPrompts;
}
