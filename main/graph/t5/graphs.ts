/**
 * The graphs the app runs on a frozen T5 with a soft prompt prepended to the encoder input:
 *   train  — loss (HF convention), per-example loss and d loss / d prompt, in one pass;
 *   score  — summed log-probability of each of C candidate targets per example (rank classification),
 *            encoder run once per example, and (one prompt for the batch) the encoder output as encode gives it;
 *   encode — encoder output, and decodeStep — the next greedy token given the tokens so far.
 * None of them outputs [B, T, vocab] logits.
 *
 * Inputs shared by all (B batch, L text length, P prompt length, S = P + L, T target length):
 *   prompt [P, d] float32 (absent when P = 0), input_ids [B, L] int32, enc_mask [B, S] float32 (1 = keep,
 *   the prompt's P ones first), enc_buckets [S, S] int32; for the decoder dec_ids [Bd, T] int32,
 *   dec_buckets [T, T] int32, causal [T, T] float32. Ids are int32, not int64: WebGPU has no int64 kernels for
 *   the reshapes and expands they pass through, and every provider gathers with int32 indices.
 */
import type { T5Config } from '../../checkpoint/config.js';
import { Graph, type GraphTarget, type Tensor } from '../builder.js';
import { Dropout } from '../dropout.js';
import * as op from '../ops.js';
import {
  bindWeights,
  decoder,
  embed,
  type Drop,
  encoder,
  labelLogit,
  lmHead,
  maskBias,
  positionBias,
  type WeightLookup,
  type WeightSource,
} from './model.js';

export type GraphKind = 'train' | 'score' | 'encode' | 'decodeStep';

/**
 * The dtype of the normalised activations and the products that read them (mixed precision as in Micikevicius et
 * al.): float16 or bfloat16 under --precision fp16/bf16. The residual streams, the prompt and its gradient, the
 * attention softmax, the norms' statistics, the feed-forward activation with `wo`, and the loss stay float32
 * (main/graph/t5/model.ts says why each).
 */
export type Compute = 'float32' | 'float16' | 'bfloat16';

/**
 * Whether a train graph's backward starts from a loss scale instead of 1: in float16 small gradients of half
 * precision activations would fall below its smallest subnormal (6e-8). The scale is an input, so that training
 * can move it (main/train: halve on overflow, grow after a run of finite steps); the prompt gradient is divided by
 * it again in float32. bfloat16 has float32's range and needs none.
 */
export function usesLossScale(compute: Compute): boolean {
  return compute === 'float16';
}

interface EncoderInputs {
  prompt?: Tensor;
  mask: Tensor;
  hidden: Tensor; // [B*S, d]
  bs: Tensor; // [B, S]
}

/**
 * How the prompt reaches the batch: one prompt [P, d] shared by every example, or one per example [B, P, d]
 * (mixed-task batches; shorter prompts are left-padded and masked so that relative positions are unchanged).
 */
export type PromptMode = 'shared' | 'perExample';

function encoderInputs(
  g: Graph,
  cfg: T5Config,
  w: WeightSource,
  promptLength: number,
  trainable: boolean,
  mode: PromptMode = 'shared',
): EncoderInputs {
  const d = cfg.dModel;
  const ids = g.input('input_ids', 'int32', ['B', 'L']);
  const mask = g.input('enc_mask', 'float32', ['B', 'S']);
  const batch = op.shapeOf(ids, 0, 1);
  let x = embed(w, ids); // [B, L, d]
  let prompt: Tensor | undefined;
  if (promptLength > 0 && mode === 'perExample') {
    prompt = g.input('prompt', 'float32', ['B', promptLength, d], { requiresGrad: trainable });
    x = op.concat([prompt, x], 1); // [B, S, d], float32 at every compute dtype: the residual stream
  } else if (promptLength > 0) {
    prompt = g.input('prompt', 'float32', [promptLength, d], { requiresGrad: trainable });
    const tiled = op.expand(op.unsqueeze(prompt, 0), op.shapeConcat([batch, g.ints([1, 1])]), ['B', promptLength, d]); // [B, P, d]
    x = op.concat([tiled, x], 1); // [B, S, d]
  }
  const bs = op.shapeConcat([batch, op.shapeOf(mask, 1, 2)]);
  return { prompt, mask, hidden: op.reshape(x, [-1, d], ['N', d]), bs };
}

function encode(g: Graph, cfg: T5Config, w: WeightSource, inputs: EncoderInputs, drop?: Drop, rows?: op.PackedRows): Tensor {
  const buckets = g.input('enc_buckets', 'int32', ['S', 'S']);
  const bias = op.add(
    positionBias(w.tensor('encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight'), buckets),
    maskBias(g, inputs.mask),
  ); // [B, H, S, S]
  // A prompt shared by the batch and left undropped is the same P rows in every example (see encoder).
  const sharedPrompt = !drop && inputs.prompt?.requiresGrad && inputs.prompt.rank === 2 ? inputs.prompt : undefined;
  return encoder(cfg, w, inputs.hidden, inputs.bs, bias, drop, rows, sharedPrompt); // [B*S, d]
}

/** The training graph's enc_keep [Ntok] and enc_spread [B*S] int32 and its mask: the encoder's real rows (see ops.PackedRows). */
function packedRows(g: Graph, mask: Tensor): op.PackedRows {
  return {
    keep: g.input('enc_keep', 'int32', ['Ntok']),
    spread: g.input('enc_spread', 'int32', ['N']),
    present: op.reshape(mask, [-1, 1], ['N', 1]),
  };
}

function decoderBias(g: Graph, w: WeightSource): Tensor {
  const buckets = g.input('dec_buckets', 'int32', ['T', 'T']);
  const causal = g.input('causal', 'float32', ['T', 'T']);
  return op.add(positionBias(w.tensor('decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight'), buckets), causal); // [1, H, T, T]
}

/**
 * Training: loss and its gradient with respect to the prompt. Labels arrive clamped, with a 0/1 mask.
 * With P = 0 (the plain model) there is nothing to differentiate and only the losses are output.
 * With `dropout`, the graph takes dropout_rate [] float32 and dropout_seed [] int64 and drops as HF T5 does in training.
 * In float16 it takes loss_scale [] float32 (see usesLossScale). `packed`: the encoder runs on the real rows named by
 * enc_keep/enc_spread (see packedRows); unpacked, on every row of the padded layout, without those inputs.
 */
export function buildTrainGraph(
  cfg: T5Config,
  weights: WeightLookup,
  promptLength: number,
  mode: PromptMode = 'shared',
  dropout = false,
  compute: Compute = 'float32',
  packed = true,
  target: GraphTarget = 'any',
): Graph {
  const g = new Graph('sprout_train', 'float32', target);
  const w = bindWeights(g, weights, compute);
  const inputs = encoderInputs(g, cfg, w, promptLength, true, mode);
  const dropper = dropout ? new Dropout(g, g.input('dropout_rate', 'float32', []), g.input('dropout_seed', 'int64', [])) : undefined;
  const drop: Drop | undefined = dropper && ((x) => dropper.apply(x));
  const memory = encode(g, cfg, w, inputs, drop, packed ? packedRows(g, inputs.mask) : undefined);
  const decIds = g.input('dec_ids', 'int32', ['B', 'T']);
  const labels = g.input('labels', 'int32', ['BT', 1]); // -100 replaced by 0; see label_mask
  const labelMask = g.input('label_mask', 'float32', ['B', 'T']);
  const zLoss = g.input('z_loss', 'float32', []);
  const bsDec = op.shapeOf(decIds);
  const h = decoder(cfg, w, {
    x: op.reshape(embed(w, decIds), [-1, cfg.dModel], ['BT', cfg.dModel]),
    bs: bsDec,
    selfBias: decoderBias(g, w),
    memory,
    memoryBs: inputs.bs,
    crossBias: maskBias(g, inputs.mask),
    drop,
  });
  // Per token: cross-entropy + z-loss (Lester et al.: coefficient * log(Z)^2); [B*T, 1] each.
  const picked = labelLogit(cfg, w, h, labels);
  const { loss: perToken, ce } = op.crossEntropy(op.toFloat32(lmHead(cfg, w, h)), labels, zLoss, picked);
  const maskFlat = op.reshape(labelMask, [-1, 1], ['BT', 1]);
  const tokens = op.reduceSum(maskFlat, [0, 1], false);
  const loss = op.div(op.reduceSum(op.mul(perToken, maskFlat), [0, 1], false), tokens);
  const ceRows = op.reshape(op.mul(ce, maskFlat), bsDec, ['B', 'T']);
  const perExample = op.div(op.reduceSum(ceRows, [1], false), op.reduceSum(labelMask, [1], false));
  if (inputs.prompt && usesLossScale(compute)) {
    const lossScale = g.input('loss_scale', 'float32', []);
    g.output(op.div(g.backward(loss, [inputs.prompt], lossScale)[0], lossScale), 'grad_prompt');
  } else if (inputs.prompt) {
    g.output(g.backward(loss, [inputs.prompt])[0], 'grad_prompt');
  }
  g.output(loss, 'loss');
  g.output(perExample, 'per_example_loss');
  return g;
}

/**
 * Rank scoring: for each example b and candidate c, sum over the candidate's tokens of log softmax(logits).
 * With a shared prompt the candidates are shared by the batch: dec_ids [C, T] decoder inputs, labels [C*T, 1]
 * clamped ids, label_mask [C, T]. With per-example prompts each example brings its own C candidates (another
 * task, another label set): dec_ids [B*C, T], labels [B*C*T, 1], label_mask [B*C, T], rows b-major.
 * Keys and values of cross-attention are computed once per example and broadcast to its candidates.
 */
export function buildScoreGraph(
  cfg: T5Config,
  weights: WeightLookup,
  promptLength: number,
  mode: PromptMode = 'shared',
  compute: Compute = 'float32',
  target: GraphTarget = 'any',
): Graph {
  const g = new Graph('sprout_score', 'float32', target);
  const w = bindWeights(g, weights, compute);
  const d = cfg.dModel;
  const inputs = encoderInputs(g, cfg, w, promptLength, false, mode);
  const memory = encode(g, cfg, w, inputs);
  const own = mode === 'perExample';
  const candIds = g.input('dec_ids', 'int32', [own ? 'BC' : 'C', 'T']);
  const candLabels = g.input('labels', 'int32', [own ? 'BCT' : 'CT', 1]);
  const candMask = g.input('label_mask', 'float32', [own ? 'BC' : 'C', 'T']);
  const batch = op.shapeOf(inputs.mask, 0, 1);
  const rows = op.shapeOf(candIds, 0, 1);
  const numCand = own ? op.shapeDiv(rows, batch) : rows;
  const len = op.shapeOf(candIds, 1, 2);
  const bc = op.shapeConcat([batch, numCand]);
  // Every tensor indexed by (example, candidate) is laid out b-major: row b*C + c.
  const perExample = (t: Tensor) =>
    own ? t : op.expand(op.unsqueeze(t, 0), op.shapeConcat([batch, g.ints(Array(t.rank).fill(1))]), ['B', ...t.shape]); // [B, ...t]
  const decIds = op.reshape(perExample(candIds), op.shapeConcat([g.ints([-1]), len]), ['BC', 'T']); // [B*C, T]
  const crossBias = op.unsqueeze(maskBias(g, inputs.mask), 1); // [B, 1, 1, 1, S]
  const h = decoder(cfg, w, {
    x: op.reshape(embed(w, decIds), [-1, d], ['BCT', d]),
    bs: op.shapeConcat([op.shapeMul(batch, numCand), len]),
    selfBias: decoderBias(g, w),
    memory,
    memoryBs: inputs.bs,
    crossBias,
    queriesPerKey: numCand,
  });
  const logits = op.toFloat32(lmHead(cfg, w, h)); // [B*C*T, V]
  const labels = op.reshape(perExample(candLabels), [-1, 1], ['BCT', 1]);
  const mask = op.reshape(perExample(candMask), [-1, 1], ['BCT', 1]);
  const { ce } = op.crossEntropy(logits, labels); // -log p(token)
  const tokenLogProb = op.mul(op.neg(ce), mask);
  const scores = op.reduceSum(op.reshape(tokenLogProb, op.shapeConcat([bc, g.ints([-1])]), ['B', 'C', 'T']), [2], false); // [B, C]
  g.output(scores, 'scores');
  // Evaluation decodes the same inputs greedily next: this saves it a second encoder pass (a run may fetch scores alone).
  if (!own) g.output(encoderHidden(g, cfg, memory, inputs), 'encoder_hidden');
  return g;
}

/** The encoder's output [B*S, d] as greedy decoding reads it: [B, S, d] float32. */
function encoderHidden(g: Graph, cfg: T5Config, memory: Tensor, inputs: EncoderInputs): Tensor {
  return op.reshape(op.toFloat32(memory), op.shapeConcat([inputs.bs, g.ints([cfg.dModel])]), ['B', 'S', cfg.dModel]);
}

/** The encoder alone: its final hidden states [B, S, d] (for greedy decoding and --hidden). */
export function buildEncodeGraph(
  cfg: T5Config,
  weights: WeightLookup,
  promptLength: number,
  compute: Compute = 'float32',
  target: GraphTarget = 'any',
): Graph {
  const g = new Graph('sprout_encode', 'float32', target);
  const w = bindWeights(g, weights, compute);
  const inputs = encoderInputs(g, cfg, w, promptLength, false, 'shared');
  g.output(encoderHidden(g, cfg, encode(g, cfg, w, inputs), inputs), 'encoder_hidden');
  return g;
}

/** One greedy step: the argmax token after the decoder tokens so far, from encoder states [B, S, d]. */
export function buildDecodeStepGraph(
  cfg: T5Config,
  weights: WeightLookup,
  compute: Compute = 'float32',
  target: GraphTarget = 'any',
): Graph {
  const g = new Graph('sprout_decode_step', 'float32', target);
  const w = bindWeights(g, weights, compute);
  const d = cfg.dModel;
  const memory3 = g.input('encoder_hidden', 'float32', ['B', 'S', d]);
  const mask = g.input('enc_mask', 'float32', ['B', 'S']);
  const decIds = g.input('dec_ids', 'int32', ['B', 'T']);
  const h = decoder(cfg, w, {
    x: op.reshape(embed(w, decIds), [-1, d], ['BT', d]),
    bs: op.shapeOf(decIds),
    selfBias: decoderBias(g, w),
    memory: op.cast(op.reshape(memory3, [-1, d], ['BS', d]), compute),
    memoryBs: op.shapeOf(mask),
    crossBias: maskBias(g, mask),
  });
  const h3 = op.reshape(h, op.shapeConcat([op.shapeOf(decIds), g.ints([d])]), ['B', 'T', d]);
  const last = op.at(h3, 1, -1); // [B, d]
  const logits = op.toFloat32(lmHead(cfg, w, last)); // [B, V]; CUDA has no bfloat16 ArgMax
  g.output(op.argmax(logits, 1), 'next_ids'); // [B] int64
  // ArgMax of NaN logits is an ordinary id: their sum [B] tells the caller whether the logits were finite.
  g.output(op.reduceSum(logits, [1], false), 'logit_sum');
  return g;
}
