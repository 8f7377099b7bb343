/**
 * How a frozen weight enters a graph at each width: as the float32 the rest of the graph computes in, without
 * ever leaving a float32 copy of a narrow weight resident.
 *
 *   float32 — the external initializer itself.
 *   bf16/fp16 — W, and int8 — Q with a float32 scale per 16 inputs of a row, are made float32 (Cast, times the
 *     scales) at each point of use: once for x Wᵀ, once more for the backward g W. The initializer is also
 *     declared a graph input, which stops onnxruntime from constant-folding the Cast into a float32 initializer
 *     at session creation; sessions turn common-subexpression elimination off so that the two copies stay two
 *     transient buffers instead of one float32 weight alive from forward to backward.
 *
 * Why weight-only for int8 (main/bench/weight-forms.ts, t5-base feed-forward shapes, 672 rows): onnxruntime's
 * DynamicQuantizeMatMul, which also quantises the activation per tensor and multiplies with int8 dot products,
 * ran the forward + backward pair at ~1.4–2.9× float32's speed, but quantising activations and gradients per
 * tensor costs too much accuracy on a pretrained model: the prompt-gradient cosine to float32 fell to 0.964 on
 * ../shared/fixtures/mini-t5-pretrained (0.973 with only the forward quantised), against ≥ 0.99 required and
 * 0.99+ with weight-only int8. It also needs W and Wᵀ stored (B must be [K, N]): 2 bytes per parameter.
 * MatMulNBits (8 bits, accuracy levels 0 and 4) was slower than float32, and DequantizeLinear → Gemm no faster
 * than the Cast used here.
 */
import type { ExternalRef, StoredWeight } from '../../weights/store.js';
import { type Attrs, type Dim, type DType, type Graph, type Tensor } from '../builder.js';
import { CONTRIB_DOMAIN } from '../onnx-proto.js';
import * as op from '../ops.js';

/** Graph values of a checkpoint's frozen tensors, by Hugging Face key name. */
export interface WeightSource {
  /** A small tensor (norm scales, position bias table): in `dtype`, by default the compute dtype (bias tables: the graph's float). */
  tensor(name: string, dtype?: ComputeFloat): Tensor;
  /**
   * x Wᵀ for W [out, in]: x [N, in] -> [N, out] in x's dtype, with its gradient with respect to x. A W stored in
   * another dtype is cast to x's once `after` exists (default x): see floatWhen.
   */
  linear(x: Tensor, name: string, after?: Tensor): Tensor;
  /**
   * W [out, in] as [heads, size, in] (out = heads · size) in the compute dtype, made once `after` exists (a view of
   * a weight stored in that dtype; a narrow one is widened at each use, as for `linear`): for products other than
   * x Wᵀ. Undefined where W is stored for integer products.
   */
  heads(name: string, heads: number, size: number): ((after: Tensor) => Tensor) | undefined;
  /** Rows of W for int ids of any shape: [..., d] in the graph's own float dtype. Frozen, so no gradient is built. */
  rows(name: string, ids: Tensor): Tensor;
  /**
   * relu(x Upᵀ) Downᵀ, x [N, in] -> [N, out] float32, where both are stored for integer products (scoring); undefined
   * otherwise, and the caller builds it from `linear`.
   */
  reluProducts(x: Tensor, up: string, down: string): Tensor | undefined;
  /** Whether `linear` widens W at each use (a narrow or quantised W): a pass over the whole weight per use. */
  widensAtUse(name: string): boolean;
}

export type WeightLookup = (name: string) => StoredWeight;

/** The float dtypes a graph computes in: its own (float32, float64 for gradient checks) or a half one. */
export type ComputeFloat = 'float32' | 'float64' | 'float16' | 'bfloat16';

/**
 * Binds a lookup to one graph: each stored tensor becomes an external-data initializer of that graph, once.
 * `compute` is the dtype of the normalised activations (float16 under --precision fp16): the norms' weights enter
 * in it; the position-bias tables join the float32 attention scores, embedding rows the float32 residual stream.
 */
export function bindWeights(g: Graph, lookup: WeightLookup, compute: ComputeFloat = g.float): WeightSource {
  const float = (name: string, dims: number[], data: ExternalRef, dtype: 'float32' | 'bfloat16' | 'float16') =>
    g.externalWeight(name, dims, data, dtype, dtype !== 'float32');
  /** A tensor stored as floats, in its stored dtype. */
  const stored = (name: string): Tensor => {
    const w = lookup(name);
    if (w.kind !== 'float') throw new Error(`${name} is stored quantised, but the graph reads it as a float tensor`);
    return float(name, w.dims, w.data, w.dtype);
  };
  /**
   * int8 Q [out, in] and its scales s [out, in / block, 1]: W[o, i] = Q[o, i] s[o, i / block]. The scales are
   * declared with their trailing 1, which broadcasts over a block: an Unsqueeze of them would be constant-folded
   * into a float32 copy per use (t5-large: 367 MB of copies).
   */
  const quantised = (name: string): { q: Tensor; scale: Tensor; block: number } => {
    const w = lookup(name);
    if (w.kind !== 'int8') throw new Error(`${name} is not stored as int8 blocks`);
    const [out, inn] = w.dims;
    return {
      q: g.externalWeight(name, w.dims, w.q, 'int8', true),
      scale: g.externalWeight(`${name}.scale`, [out, inn / w.block, 1], w.scale),
      block: w.block,
    };
  };
  /** Q [..., in] as float32 [..., in], times its scales [..., in / block, 1]; `lead` is the runtime shape of "...". */
  const dequantise = (q: Tensor, scale: Tensor, block: number, lead: Tensor): Tensor => {
    const inn = q.shape[q.rank - 1] as number;
    const blocks = op.reshape(op.cast(q, g.float), op.shapeConcat([lead, g.ints([inn / block, block])]), [
      ...q.shape.slice(0, -1),
      inn / block,
      block,
    ]);
    const scaled = op.mul(blocks, scale); // [..., in/block, block]
    return op.reshape(scaled, op.shapeConcat([lead, g.ints([inn])]), q.shape);
  };
  /**
   * The float32 value of a narrow W [out, in], made only once `after` exists. onnxruntime runs nodes that read
   * only initializers first, so a plain Cast would run at the start of the graph and every float32 copy would be
   * alive at once (flan-t5-xl int8: 13 GB). Reshaping W (a view, no copy) to [out, in] + 0 × batch(after) makes
   * it wait for its point of use: the batch size is only known at run time, so nothing here can be folded.
   */
  const floatWhen = (name: string, after: Tensor, dtype: ComputeFloat): Tensor => {
    const w = lookup(name);
    const stand = w.kind === 'float' ? stored(name) : quantised(name).q;
    const target = op.shapeAdd(op.shapeMul(op.shapeOf(after, 0, 1), g.ints([0])), g.ints(w.dims)); // w.dims, once `after` exists
    const waiting = op.reshape(stand, target, stand.shape);
    if (w.kind === 'float') return op.cast(waiting, dtype);
    const { scale, block } = quantised(name);
    return op.cast(dequantise(waiting, scale, block, g.ints([w.dims[0]])), dtype);
  };
  // One quantisation of an activation for every integer product that reads it: see integerProduct.
  const quantisedRows = new Map<Tensor, QuantisedRows>();
  const rowsOf: RowsOf = (x) => {
    let rows = quantisedRows.get(x);
    if (!rows) quantisedRows.set(x, (rows = quantiseRows(g, x)));
    return rows;
  };
  return {
    tensor: (name, dtype = name.includes('relative_attention_bias') ? g.float : compute) => op.cast(stored(name), dtype),
    /** Narrow weights: W made float32 at each use, forward and backward, and dropped after it. */
    linear: (x, name, after = x) => {
      const w = lookup(name);
      if (w.kind === 'int8t') return integerProduct(g, x, name, w, rowsOf);
      const dtype = x.dtype as ComputeFloat;
      if (w.kind === 'float' && w.dtype === dtype) return op.linear(x, stored(name));
      return op.linear(x, floatWhen(name, after, dtype), (grad) => floatWhen(name, grad, dtype));
    },
    heads: (name, heads, size) => {
      const w = lookup(name);
      if (w.kind === 'int8t') return undefined;
      return (after) => {
        const whole = w.kind === 'float' && w.dtype === compute ? stored(name) : floatWhen(name, after, compute);
        return op.reshape(whole, [heads, size, -1], [heads, size, w.dims[1]]);
      };
    },
    widensAtUse: (name) => {
      const w = lookup(name);
      return w.kind !== 'float' || w.dtype !== compute;
    },
    reluProducts: (x, up, down) => {
      const [wi, wo] = [lookup(up), lookup(down)];
      if (wi.kind !== 'int8t' || wo.kind !== 'int8t') return undefined;
      return reluIntegerProducts(g, rowsOf(x), { name: up, w: wi }, { name: down, w: wo });
    },
    rows: (name, ids) => {
      const w = lookup(name);
      if (w.kind === 'float' && w.dtype === g.float) return op.gather(stored(name), ids);
      if (w.kind === 'float') return op.cast(op.take(stored(name), ids, 0), g.float);
      const { q, scale, block } = quantised(name);
      const picked = op.take(q, ids, 0); // [..., d] int8
      const rowScales = op.take(scale, ids, 0); // [..., d/block, 1]
      return dequantise(picked, rowScales, block, op.shapeOf(ids));
    },
  };
}

/**
 * x Wᵀ as an integer product for scoring (no gradient rule): x [N, in] -> [N, out], float32. Each row of x is
 * quantised on its own, symmetrically (q = round(x / s) + 128 in uint8, s = max |row| / 127, the zero point 128
 * a scalar as onnxruntime's MatMulInteger requires); W is int8 with one scale per output. The int32 product times
 * s[row] · scale[out] is x Wᵀ.
 *
 * Why this form (t5-base scoring, batch 8, 64 + 20 prompt tokens, 2 candidates, whole-graph CPU time against float32
 * on this 2-core AVX-512 VNNI machine; label agreement with float32 on mini-t5-instruct's HF reference prompts, SST-2
 * dev / AG News held out): per-row MatMulInteger 2.58× at 96.4 % / 98.2 %; DynamicQuantizeMatMul (one scale for the
 * whole activation tensor) 3.29× at 96.7 % / 96.8 %; MatMulNBits, 8 bits, accuracy level 4 (activations quantised
 * per block of 16 or 32 inputs) 1.69–1.78× at 98.4 % / 99.2 % (block 16). A whole-tensor scale also makes a row's
 * label depend on the other rows of its batch (the largest value anywhere sets everyone's step), which labelling
 * cannot have: a resumed job or another batch size would label the same text differently. Per row keeps each
 * row's result its own and is the only row-independent form that reached 2.5× float32's speed. Weight-only int8
 * (the --weights int8 form) agrees on 99.3 % / 99.5 %: the loss is the activations' 7 bits, on rows whose two
 * labels are within a few hundredths of a nat (SST-2: 18 % of dev rows within 0.05).
 *
 * Those figures were taken under load; on a quiet machine the first per-row form ran at 2.05× (CPU) only, and a
 * profile of it (onnxruntime session profiling, t5-base as above) put as much time in the ~11 elementwise passes
 * around each product as in the products themselves. So (quantiseRows) each activation is quantised once for all
 * the products that read it (q, k and v share the normed x; every decoder layer's cross-attention k and v the
 * encoder output: 121 quantisations per call instead of 192), by one QuantizeLinear with a per-row scale instead
 * of Div, Round, Add and Cast; and MatMulIntegerToFloat writes the product as float32 (scales 1: an exact int32 to
 * float32), saving the Cast and the int32 buffer. Quantising and rounding are unchanged (QuantizeLinear divides and
 * rounds half to even as Div + Round did), and the two scales still multiply in the same order, so every score is
 * the same bit for bit and so is the agreement (96.44 % / 98.19 % before and after). Float32 / int8 CPU time per
 * call, the two forms run alternately at load 3–5: 1.83× and 1.89× for the first form, 2.20× and 2.33× for this
 * one (int8 845 and 676 ms → 576 and 596 ms).
 *
 * scale[out] is MatMulIntegerToFloat's per-column B scale, applied as the kernel writes each block of the product,
 * so the row step is the only pass of its own. A first measurement, taken while idle sessions' threads still spun
 * (see runtime/session.ts), had the product grow by what the pass saved. Profiled since (t5-base as above): the
 * products' kernel time 120.3 ms without the B scale, 116.5 ms with it; the multiplications 24.7 → 14.6 ms. Int8 CPU
 * time per call 399 → 381 and 399 → 382 ms, the two forms alternating in one process (25 rounds, twice). Scores
 * change in the last bit (the column scale now comes before the row step), which moves rows decided by a hair:
 * agreement 96.56 % / 98.06 % (96.44 % / 98.19 % before). The quiet figures are in README "Scoring with int8 products".
 */
function integerProduct(g: Graph, x: Tensor, name: string, w: Extract<StoredWeight, { kind: 'int8t' }>, rows: RowsOf): Tensor {
  const [out, inn] = w.dims;
  const qT = g.externalWeight(name, [inn, out], w.qT, 'int8');
  const scale = g.externalWeight(`${name}.scale`, [out], w.scale);
  const { xq, rowScale } = rows(x);
  const shape = [x.shape[0], out];
  const one = g.scalar(1, 'float32');
  const inputs = [xq, qT, one, scale, g.constant([128], 'uint8', [])];
  const product = g.emitRaw('MatMulIntegerToFloat', inputs, {}, shape, 'float32', undefined, CONTRIB_DOMAIN);
  return g.emitRaw('Mul', [product, rowScale], {}, shape, 'float32');
}

type Int8t = { name: string; w: Extract<StoredWeight, { kind: 'int8t' }> };

/**
 * relu(x Wiᵀ) Woᵀ as two integer products, the hidden activation [N, d_ff] touched by three passes instead of
 * seven. With x's rows quantised (step s[row]), x Wiᵀ = s[row] · z with z = (xq − 128) Qiᵀ · scale_i[col], which
 * MatMulIntegerToFloat writes directly (scale_i as its per-column B scale). relu(x Wiᵀ) = s[row] · relu(z) because
 * s > 0, and quantising a row is blind to a positive factor, so z's rows are quantised as they are: relu(z) ≥ 0 gets
 * all 8 bits (step max(z[row]) / 255, zero point 0), and QuantizeLinear's saturation at 0 is the relu. The wo product
 * then takes the row step s[row] · t[row]. Measured (t5-base scoring, quiet, float32 and int8 alternating in one
 * process): see README "Scoring with int8 products".
 */
function reluIntegerProducts(g: Graph, rows: QuantisedRows, up: Int8t, down: Int8t): Tensor {
  const [hidden, inn] = up.w.dims;
  const [out] = down.w.dims;
  const n = rows.xq.shape[0];
  const f = (opType: string, inputs: Tensor[], shape: Dim[], dtype: DType = 'float32', attrs: Attrs = {}, domain?: string) =>
    g.emitRaw(opType, inputs, attrs, shape, dtype, undefined, domain);
  const one = g.scalar(1, 'float32');
  const qiT = g.externalWeight(up.name, [inn, hidden], up.w.qT, 'int8');
  const scaleI = g.externalWeight(`${up.name}.scale`, [hidden], up.w.scale);
  const z = f(
    'MatMulIntegerToFloat',
    [rows.xq, qiT, one, scaleI, g.constant([128], 'uint8', [])],
    [n, hidden],
    'float32',
    {},
    CONTRIB_DOMAIN,
  );
  const top = f('ReduceMax', [z], [n, 1], 'float32', op.attrs({ axes: [1], keepdims: 1 }));
  const { xq: hq, rowScale: step } = quantiseByRow(g, z, top, { levels: 255, zero: 0 }); // relu(z) / step, rounded; a row with no positive value quantises to 0
  const qoT = g.externalWeight(down.name, [hidden, out], down.w.qT, 'int8');
  const scaleO = g.externalWeight(`${down.name}.scale`, [out], down.w.scale);
  const product = f('MatMulIntegerToFloat', [hq, qoT, one, scaleO], [n, out], 'float32', {}, CONTRIB_DOMAIN);
  const rowStep = f('Mul', [step, rows.rowScale], [n, 1]);
  return f('Mul', [product, rowStep], [n, out]);
}

/** x's rows quantised for integerProduct: uint8 [N, in] (zero point 128) and each row's step s, [N, 1]. */
interface QuantisedRows {
  xq: Tensor;
  rowScale: Tensor;
}
type RowsOf = (x: Tensor) => QuantisedRows;

function quantiseRows(g: Graph, x: Tensor): QuantisedRows {
  const xf = op.toFloat32(x);
  const abs = g.emitRaw('Abs', [xf], {}, xf.shape, 'float32');
  const maxAbs = g.emitRaw('ReduceMax', [abs], op.attrs({ axes: [1], keepdims: 1 }), [x.shape[0], 1], 'float32');
  return quantiseByRow(g, xf, maxAbs, { levels: 127, zero: 128 });
}

/**
 * x [N, in] float32 as uint8, row by row: the step of a row is top[row] / levels ([N, 1]; at least 1e-30, so that an
 * all-zero row keeps a positive one), the zero point `zero` for every row.
 */
function quantiseByRow(g: Graph, x: Tensor, top: Tensor, o: { levels: number; zero: number }): QuantisedRows {
  const n = x.shape[0];
  const f = (opType: string, inputs: Tensor[], shape: Dim[], dtype: DType = 'float32', attrs: Attrs = {}) =>
    g.emitRaw(opType, inputs, attrs, shape, dtype);
  const rowScale = f('Max', [f('Div', [top, g.scalar(o.levels)], [n, 1]), g.scalar(1e-30)], [n, 1]);
  // QuantizeLinear takes a per-row scale as [N] along axis 0, with a zero point of the same shape.
  const step = op.reshape(rowScale, g.ints([-1]), [n]);
  const zero = f('Expand', [g.constant([o.zero], 'uint8', [1]), op.shapeOf(step)], [n], 'uint8');
  return { xq: f('QuantizeLinear', [x, step, zero], x.shape, 'uint8', op.attrs({ axis: 0 })), rowScale };
}
