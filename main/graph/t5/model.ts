/**
 * T5 (Raffel et al.) expressed in the graph builder, mirroring Hugging Face's modeling_t5.py so that the numbers
 * match: pre-norm residual blocks with RMS norm, attention without 1/sqrt(d_kv) scaling, relative position bias
 * from block 0 shared by every layer, ReLU (v1.0) or gated tanh-GELU (v1.1) feed-forward.
 *
 * Hidden states are kept as 2-D [N, d_model] with N = batch * length so that every projection is one Gemm
 * that reads its frozen weight in place; attention reshapes to 4-D using runtime [batch, length] shapes.
 *
 * Half precision (float16, bfloat16 compute): real checkpoints carry residual streams far beyond float16's largest
 * value (65,504; t5-large, t5-v1_1 and flan-t5 reach 1e5 and more), which is why Hugging Face keeps `wo` in float32
 * (`_keep_in_fp32_modules`) and clamps its float16 residual stream. Here what can grow with the stream stays
 * float32 and nothing needs a clamp:
 *   - the residual streams themselves (embedding rows, the prompt, each block's sum): they carry the scale;
 *   - the products that write into them, attention `o` and feed-forward `wo`: their outputs are the stream's size
 *     (a checkpoint that scales the stream by F scales exactly these weights), and `wo`'s input, the gated or ReLU
 *     activation, is a product of two unnormalised projections that can itself pass 65,504;
 *   - the decoder's final norm and the LM head: a tied model's embedding is the stream's size too, so the gradient
 *     of its LM head's input is as well (t5-v1_0 shape with the stream 1000× larger: 1e6 × the loss scale, where
 *     float16 ends at 65,504). They run on a few rows per example, a small share of the work;
 *   - the norms' statistics, attention scores and softmax, and the loss (see ops.rmsNorm, attention, graphs.ts).
 * What runs in half precision reads a normalised input (q, k, v and wi projections, the attention products), so
 * it is bounded by the norm's weight and the projection and cannot overflow.
 */
import type { T5Config } from '../../checkpoint/config.js';
import type { Graph, Tensor } from '../builder.js';
import * as op from '../ops.js';
import type { WeightSource } from './weight-entry.js';

export { bindWeights, type WeightLookup, type WeightSource } from './weight-entry.js';

/** Additive attention-mask bias from a 0/1 float mask [B, S]: [B, 1, 1, S], 0 where kept, float32 min where masked. */
export function maskBias(g: Graph, mask: Tensor): Tensor {
  const masked = op.sub(g.scalar(1), mask);
  const bias = op.mul(masked, g.scalar(-3.4028234663852886e38));
  return op.unsqueeze(op.unsqueeze(bias, 1), 1);
}

/**
 * Position bias [1, H, Sq, Sk] from the block-0 table [buckets, H] and a bucket matrix [Sq, Sk]. Gathered from the
 * transposed table (a tiny constant), so the bias comes out head-major: gathering [Sq, Sk, H] and transposing it
 * moved the whole [B, H, S, S] sum with the mask through a transpose on every step.
 */
export function positionBias(table: Tensor, buckets: Tensor): Tensor {
  const byHead = op.transpose(table, [1, 0]); // [H, buckets]
  const rows = op.take(byHead, buckets, 1); // [H, Sq, Sk]
  return op.unsqueeze(rows, 0); // [1, H, Sq, Sk]
}

/** Dropout at the places Hugging Face's T5 applies it in training; identity at inference. */
export type Drop = (x: Tensor) => Tensor;
const noDrop: Drop = (x) => x;

interface AttentionArgs {
  cfg: T5Config;
  w: WeightSource;
  prefix: string; // e.g. encoder.block.0.layer.0.SelfAttention
  query: Tensor; // [Nq, d]
  queryBs: Tensor; // [Bq, Sq]
  keyValue: Tensor; // [Nk, d]
  keyValueBs: Tensor; // [Bk, Sk]
  bias: Tensor; // broadcastable to [Bq, H, Sq, Sk]
  /**
   * Query sequences per key sequence (rank scoring: C candidates per example, rows b-major), as an int64 [1]; the
   * bias is then [Bk, 1, 1, 1, Sk]. Keys and values are broadcast to the C queries by the products themselves:
   * expanding them to [Bk·C, H, Sk, dk] copied 12 % of t5-base's int8 scoring time (24 Expands, 38 ms of 310).
   */
  queriesPerKey?: Tensor;
  drop?: Drop;
  /** The query's real rows: the output projection then runs on them only, and the result is packed (see encoder). */
  rows?: op.PackedRows;
  /** The prompt's normalised rows [P, d] when they alone carry the gradient (see promptAttend); query and keyValue then carry none. */
  promptRows?: Tensor;
  /** Cross-attention without candidates: keyValue (the encoder output) as absorbedCross reads it. */
  memory?: () => CrossMemory;
}

/** The encoder output [B, S, d] and its transpose [B, d, S], for every decoder layer's absorbed cross-attention. */
export interface CrossMemory {
  rows: Tensor;
  cols: Tensor;
}

export function attention(a: AttentionArgs): Tensor {
  const { cfg, w, prefix } = a;
  const H = cfg.numHeads;
  const dk = cfg.dKv;
  const g = a.query.graph;
  const heads = g.ints([H, dk]);
  const split = (x: Tensor, bs: Tensor) => op.reshape(x, op.shapeConcat([bs, heads]), ['B', 'S', H, dk]); // [B, S, H, dk]
  const q = op.transpose(split(w.linear(a.query, `${prefix}.q.weight`), a.queryBs), [0, 2, 1, 3]); // [B, H, Sq, dk]
  const [wk, wv] = a.memory ? [w.heads(`${prefix}.k.weight`, H, dk), w.heads(`${prefix}.v.weight`, H, dk)] : [];
  const context = a.memory && wk && wv ? absorbedCross(q, wk, wv, a.memory(), a.bias, a.drop) : projectedContext(a, q, split);
  const merged = op.reshape(op.transpose(context, [0, 2, 1, 3]), [-1, H * dk], ['N', H * dk]); // [N, H*dk]
  return w.linear(op.toFloat32(a.rows ? op.packRows(merged, a.rows) : merged), `${prefix}.o.weight`); // [N or Ntok, d], float32: it joins the residual stream
}

/** The attention context [B, H, Sq, dk] from keys and values projected from every key row. */
function projectedContext(a: AttentionArgs, q: Tensor, split: (x: Tensor, bs: Tensor) => Tensor): Tensor {
  const { w, prefix } = a;
  // Keys and values wait for this layer's query: cross-attention reads the encoder output, which every decoder
  // layer has at once, and onnxruntime would widen all their narrow weights together (t5-large int8: +0.4 GB).
  const k = op.transpose(split(w.linear(a.keyValue, `${prefix}.k.weight`, a.query), a.keyValueBs), [0, 2, 1, 3]); // [B, H, Sk, dk]
  const v = op.transpose(split(w.linear(a.keyValue, `${prefix}.v.weight`, a.query), a.keyValueBs), [0, 2, 1, 3]); // [B, H, Sk, dk]
  if (a.queriesPerKey) return groupedContext(q, k, v, a.bias, a.queriesPerKey);
  if (!a.promptRows) return attend(q, k, v, a.bias, a.drop);
  const prompt = a.promptRows;
  const own = ['q', 'k', 'v'].map((n) => w.linear(prompt, `${prefix}.${n}.weight`)); // [P, H*dk] each
  return promptAttend(q, k, v, a.bias, own);
}

/**
 * Cross-attention with the key and value weights absorbed into the query side. Per head, softmax(q Kᵀ) V with
 * K = M Wkᵀ and V = M Wvᵀ over the encoder rows M [B, S, d] equals softmax((q Wk) Mᵀ) (M Wvᵀ), and
 * (softmax(·) M) Wvᵀ: the products then touch M with T query rows per head, 2·H·T·S·d multiply-adds per example,
 * instead of projecting all S rows to keys and values, 2·S·d·H·dk, and the backward likewise. Label targets are a
 * few tokens against d_kv = 32-64, so cross-attention in training and greedy decoding costs a fraction of what it
 * did (mini-t5-instruct topic: the six [B·S, d] projections and their backward products: 7 % of a step). Rank
 * scoring keeps the projections: there the keys and values serve every candidate of an example at once.
 * q [B, H, T, dk], wk and wv [H, dk, d] at their point of use, bias [B, 1, 1, S]; returns [B, H, T, dk].
 */
function absorbedCross(
  q: Tensor,
  wk: (after: Tensor) => Tensor,
  wv: (after: Tensor) => Tensor,
  m: CrossMemory,
  bias: Tensor,
  drop = noDrop,
): Tensor {
  const g = q.graph;
  const [H, dk, d] = [q.shape[1] as number, q.shape[3] as number, m.rows.shape[2] as number];
  const [B, T] = [op.shapeOf(q, 0, 1), op.shapeOf(q, 2, 3)];
  // The products with the weights run head-major, H products of B·T rows, instead of B·H products of T rows each.
  // Symbolic dims are named apart (T from S, BT from B): reshape's gradient copies a runtime dim where names match.
  const width = (t: Tensor) => t.shape[3] as number;
  const headMajor = (t: Tensor) => op.reshape(op.transpose(t, [1, 0, 2, 3]), [H, -1, width(t)], [H, 'BT', width(t)]); // [B, H, T, w] -> [H, B·T, w]
  const qkHeads = op.reshape(op.matmulFrozen(headMajor(q), wk), op.shapeConcat([g.ints([H]), B, T, g.ints([d])]), [H, 'B', 'T', d]);
  const qk = op.reshape(op.transpose(qkHeads, [1, 0, 2, 3]), [0, -1, d], ['B', 'HT', d]); // [B, H·T, d]: each head's query in the encoder's space
  const products = op.matmul(qk, m.cols); // [B, H·T, S]
  const scores = op.add(
    op.toFloat32(op.reshape(products, op.shapeConcat([B, g.ints([H]), T, op.shapeOf(m.cols, 2, 3)]), ['B', H, 'T', 'S'])),
    bias,
  ); // [B, H, T, S]
  const probs = op.cast(drop(op.softmax(scores)), m.rows.dtype);
  const mixed = op.matmul(op.reshape(probs, op.shapeOf(products), products.shape), m.rows); // [B, H·T, d]
  const mixedHeads = op.reshape(mixed, op.shapeConcat([B, g.ints([H]), T, g.ints([d])]), ['B', H, 'T', d]); // [B, H, T, d]
  const contextT = op.frozenMatmul(wv, op.swapLast(headMajor(mixedHeads))); // [H, dk, B·T]
  return op.transpose(op.reshape(contextT, op.shapeConcat([g.ints([H, dk]), B, T]), [H, dk, 'B', 'T']), [2, 0, 3, 1]); // [B, H, T, dk]
}

/** softmax(q kᵀ + bias) v. Scores and their softmax in float32 whatever the compute dtype: the bias holds float32's most negative value. */
function attend(q: Tensor, k: Tensor, v: Tensor, bias: Tensor, drop: Drop = noDrop): Tensor {
  return attendParts(q, k, v, bias, drop).context;
}

/** attend's softmax [..., Sq, Sk] (before dropout) beside its result, for a backward that reads it (promptAttend). */
function attendParts(q: Tensor, k: Tensor, v: Tensor, bias: Tensor, drop: Drop = noDrop): { probs: Tensor; context: Tensor } {
  const scores = op.add(op.toFloat32(op.matmulT(q, k)), bias); // [..., Sq, Sk]; T5 does not scale by 1/sqrt(dk)
  const probs = op.softmax(scores);
  return { probs, context: op.matmul(op.cast(drop(probs), v.dtype), v) }; // context [..., Sq, dk]
}

/**
 * attend for encoder layer 0 when only the prompt is differentiated and every example shares it, undropped: the
 * gradient of the layer's input is then wanted at the first P positions alone, where every example holds the same
 * rows. q, k and v come from input that carries no gradient; `handles` are the prompt rows' own projections
 * [P, H*dk], which only give the backward its path to the prompt through the q, k and v weights. The backward takes
 * the P query rows and P key columns of the scores' gradient, sums over the batch before the projections, and skips
 * what the op-by-op rule computed for every position: dq, dk and dv of all B*S rows, their three [B*S, d] products
 * with the weights and the norm's backward (mini-t5-instruct topic, S = 85, P = 20: about 3 % of a step).
 */
function promptAttend(q: Tensor, k: Tensor, v: Tensor, bias: Tensor, handles: Tensor[]): Tensor {
  const P = handles[0].shape[0] as number;
  let probs: Tensor | undefined;
  return q.graph.composite(
    handles,
    () => {
      const parts = attendParts(q, k, v, bias);
      probs = parts.probs; // [B, H, S, S]
      return parts.context; // [B, H, S, dk]
    },
    (dctx) => {
      const p = probs!;
      const dProbs = op.toFloat32(op.matmul(dctx, op.swapLast(v))); // [B, H, S, S]
      const dScores = op.cast(op.mul(p, op.sub(dProbs, op.reduceSum(op.mul(dProbs, p), [-1], true))), q.dtype);
      const dq = op.matmul(op.slice(dScores, 2, 0, P), k); // [B, H, P, dk]
      const dk = op.matmul(op.swapLast(op.slice(dScores, 3, 0, P)), q); // [B, H, P, dk]
      const dv = op.matmul(op.swapLast(op.slice(op.cast(p, v.dtype), 3, 0, P)), dctx); // [B, H, P, dk]
      const byRow = (t: Tensor) => op.reshape(op.transpose(op.reduceSum(t, [0], false), [1, 0, 2]), [P, -1], handles[0].shape); // [P, H*dk]
      return [dq, dk, dv].map(byRow);
    },
  );
}

/** attend for C query sequences per key sequence: q [B·C, H, Sq, dk], k and v [B, H, Sk, dk]. */
function groupedContext(q: Tensor, k: Tensor, v: Tensor, bias: Tensor, perKey: Tensor): Tensor {
  const g = q.graph;
  const grouped = op.reshape(q, op.shapeConcat([g.ints([-1]), perKey, op.shapeOf(q, 1)]), ['B', 'C', ...q.shape.slice(1)]); // [B, C, H, Sq, dk]
  const context = attend(grouped, op.unsqueeze(k, 1), op.unsqueeze(v, 1), bias); // [B, C, H, Sq, dk]
  return op.reshape(context, op.shapeOf(q), q.shape); // [B·C, H, Sq, dk]
}

/**
 * Row blocks a differentiated gated feed-forward runs in on the CPU, its weights stored at the width it computes
 * in. Its 16 elementwise passes over [N, d_ff] (gatedGelu, forward and backward) weigh on a small model's step;
 * within a block a pass reads values written moments before, still in cache. Each row's numbers are the same
 * either way (losses equal to the bit). Measured on
 * mini-t5-instruct, 1 thread: one layer's feed-forward, forward and backward, N = 2336: 11.6 ms whole, 10.0 ms in
 * 4 blocks, 9.7 in 8; whole topic-shaped steps (N ≈ 2300) alternating in one process, 91.6 / 94.6 / 90.9 ms whole
 * against 88.6 / 92.2 / 88.9 in 2 blocks and 89.1 / 92.0 / 89.3 in 4; SST-2-shaped (N ≈ 1300) the same either way.
 */
const FEED_FORWARD_BLOCKS = 2;

/**
 * x [N, d] normalised, in the compute dtype; returns [N, d] in float32 (activation and `wo`: see the top).
 * `rowBlocks` is FEED_FORWARD_BLOCKS for the encoder's rows; the decoder's (a batch's label tokens, B·T, a few
 * dozen rows) already fit in cache, so it passes 1.
 */
function feedForward(cfg: T5Config, w: WeightSource, prefix: string, x: Tensor, drop: Drop, rowBlocks: number): Tensor {
  // A weight widened at each use would be widened once per block.
  const blocks =
    rowBlocks > 1 &&
    cfg.feedForward === 'gated-gelu' &&
    x.graph.target === 'cpu' &&
    x.requiresGrad &&
    !w.widensAtUse(`${prefix}.wi_0.weight`);
  if (blocks) {
    return op.concat(
      op.splitRows(x, rowBlocks).map((rows) => feedForwardRows(cfg, w, prefix, rows, drop)),
      0,
    );
  }
  return feedForwardRows(cfg, w, prefix, x, drop);
}

function feedForwardRows(cfg: T5Config, w: WeightSource, prefix: string, x: Tensor, drop: Drop): Tensor {
  if (cfg.feedForward !== 'gated-gelu') {
    const integer = w.reluProducts(x, `${prefix}.wi.weight`, `${prefix}.wo.weight`); // scoring only: nothing to drop
    if (integer) return integer;
  }
  const up = (name: string) => op.toFloat32(w.linear(x, `${prefix}.${name}.weight`)); // [N, d_ff]
  const act = cfg.feedForward === 'gated-gelu' ? op.gatedGelu(up('wi_0'), up('wi_1')) : op.relu(up('wi'));
  return w.linear(drop(act), `${prefix}.wo.weight`);
}

/**
 * The encoder over input embeddings [N, d] (prompt rows already prepended; the residual stream, float32): returns
 * the final-norm output [N, d] in the compute dtype. `bias` is position bias + mask bias, [B, H, S, S].
 *
 * With `rows` (the real rows of the padded layout), the residual stream, the norms, the output projections and the
 * feed-forward run on the real rows only, and attention reads its input spread back to the padded [B, S] layout its
 * masks are in (zeros at padding, which the mask hides). Padding positions never reach a real position's result,
 * so this computes the same numbers while a batch padded to its longest input skips the padding's share of the
 * step's largest products (AG News at 64 tokens, random batches of 32: 12 % of the rows; SST-2: 49 %).
 *
 * `sharedPrompt` [P, d]: the prompt that x's first P rows repeat in every example, given when it is the only thing
 * differentiated and nothing is dropped; layer 0's attention then takes its gradient path through the prompt alone
 * (promptAttend).
 */
export function encoder(
  cfg: T5Config,
  w: WeightSource,
  x: Tensor,
  bs: Tensor,
  bias: Tensor,
  drop: Drop = noDrop,
  rows?: op.PackedRows,
  sharedPrompt?: Tensor,
): Tensor {
  const eps = cfg.layerNormEpsilon;
  const padded = (t: Tensor) => (rows ? op.spreadRows(t, rows) : t);
  let h = rows ? op.packRows(drop(x), rows) : drop(x);
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `encoder.block.${i}.layer`;
    const norm = (t: Tensor) => op.rmsNorm(t, w.tensor(`${p}.0.layer_norm.weight`), eps);
    const promptRows = i === 0 && sharedPrompt ? norm(sharedPrompt) : undefined;
    const n = padded(norm(promptRows ? op.detach(h) : h));
    const self = {
      cfg,
      w,
      prefix: `${p}.0.SelfAttention`,
      query: n,
      queryBs: bs,
      keyValue: n,
      keyValueBs: bs,
      bias,
      drop,
      rows,
      promptRows,
    };
    h = op.add(h, drop(attention(self)));
    const normed = op.rmsNorm(h, w.tensor(`${p}.1.layer_norm.weight`), eps);
    h = op.add(h, drop(feedForward(cfg, w, `${p}.1.DenseReluDense`, normed, drop, FEED_FORWARD_BLOCKS)));
  }
  return padded(drop(op.rmsNorm(h, w.tensor('encoder.final_layer_norm.weight'), eps)));
}

export interface DecoderArgs {
  x: Tensor; // decoder input embeddings [Nd, d], float32 (the residual stream)
  bs: Tensor; // [Bd, T]
  selfBias: Tensor; // position bias + causal mask, [1, H, T, T]
  memory: Tensor; // encoder output [Ne, d]
  memoryBs: Tensor; // [Be, S]
  crossBias: Tensor; // encoder mask bias, broadcastable to [Bd, H, T, S] ([Be, 1, 1, 1, S] with queriesPerKey)
  /** Decoder sequences per encoder sequence (see AttentionArgs). */
  queriesPerKey?: Tensor;
  drop?: Drop;
}

/** The decoder: returns the final-norm output [Nd, d] in float32, for the LM head (before any LM-head scaling). */
export function decoder(cfg: T5Config, w: WeightSource, a: DecoderArgs): Tensor {
  const eps = cfg.layerNormEpsilon;
  const drop = a.drop ?? noDrop;
  let cross: CrossMemory | undefined;
  const memory = (): CrossMemory => {
    if (cross) return cross;
    const rows = op.reshape(a.memory, op.shapeConcat([a.memoryBs, a.memory.graph.ints([cfg.dModel])]), ['B', 'S', cfg.dModel]);
    return (cross = { rows, cols: op.transpose(rows, [0, 2, 1]) });
  };
  let h = drop(a.x);
  for (let i = 0; i < cfg.numDecoderLayers; i++) {
    const p = `decoder.block.${i}.layer`;
    const n0 = op.rmsNorm(h, w.tensor(`${p}.0.layer_norm.weight`), eps);
    h = op.add(
      h,
      drop(
        attention({
          cfg,
          w,
          prefix: `${p}.0.SelfAttention`,
          query: n0,
          queryBs: a.bs,
          keyValue: n0,
          keyValueBs: a.bs,
          bias: a.selfBias,
          drop,
        }),
      ),
    );
    const n1 = op.rmsNorm(h, w.tensor(`${p}.1.layer_norm.weight`), eps);
    h = op.add(
      h,
      drop(
        attention({
          cfg,
          w,
          prefix: `${p}.1.EncDecAttention`,
          query: n1,
          queryBs: a.bs,
          keyValue: a.memory,
          keyValueBs: a.memoryBs,
          bias: a.crossBias,
          queriesPerKey: a.queriesPerKey,
          memory: a.queriesPerKey ? undefined : memory,
          drop,
        }),
      ),
    );
    h = op.add(h, drop(feedForward(cfg, w, `${p}.2.DenseReluDense`, op.rmsNorm(h, w.tensor(`${p}.2.layer_norm.weight`), eps), drop, 1)));
  }
  return drop(op.rmsNorm(h, w.tensor('decoder.final_layer_norm.weight', a.x.graph.float), eps));
}

/** Vocabulary logits [N, V] from decoder output [N, d] (float32: see the top): tied models rescale by d_model^-0.5 and reuse shared.weight. */
export function lmHead(cfg: T5Config, w: WeightSource, h: Tensor): Tensor {
  if (cfg.tieWordEmbeddings) return w.linear(op.scale(h, cfg.dModel ** -0.5), 'shared.weight');
  return w.linear(h, 'lm_head.weight');
}

/**
 * The logit lmHead gives each row's label: h [N, d], labels [N, 1] -> [N, 1] float32, as h · W[label] without the
 * [N, V] product. The training loss takes it apart from the logits (crossEntropy's `picked`), so that its backward
 * reaches h through W's label rows instead of a scatter over the vocabulary.
 */
export function labelLogit(cfg: T5Config, w: WeightSource, h: Tensor, labels: Tensor): Tensor {
  const x = op.toFloat32(cfg.tieWordEmbeddings ? op.scale(h, cfg.dModel ** -0.5) : h);
  const rows = w.rows(cfg.tieWordEmbeddings ? 'shared.weight' : 'lm_head.weight', labels); // [N, 1, d]
  return op.reduceSum(op.mul(x, op.reshape(rows, [-1, cfg.dModel], x.shape)), [-1], true);
}

/** Rows of shared.weight for int ids of any shape: [..., d] float32, the residual stream's dtype. Frozen, so no gradient is built. */
export function embed(w: WeightSource, ids: Tensor): Tensor {
  return w.rows('shared.weight', ids);
}
