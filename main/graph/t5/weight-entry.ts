/**
 * How a frozen weight enters a graph at each width: as the float32 the rest of the graph computes in, without
 * ever leaving a float32 copy of a narrow weight resident.
 *
 *   float32 — the external initializer itself.
 *   bf16/fp16 — W, and int8 — Q with W = diag(s) Q (one scale per output channel), are Cast to float32 at each
 *     point of use: once for x Wᵀ, once more for the backward g W. The initializer is also declared a graph
 *     input, which stops onnxruntime from constant-folding the Cast into a float32 initializer at session
 *     creation; sessions turn common-subexpression elimination off so that the two Casts stay two transient
 *     buffers instead of one float32 weight alive from forward to backward. int8's scale is applied to the
 *     activations ([N, out]), never to the weight: x Wᵀ = (x Qᵀ) diag(s), g W = (g diag(s)) Q.
 *
 * Why weight-only for int8 (main/bench/weight-forms.ts, t5-base feed-forward shapes, 672 rows): onnxruntime's
 * DynamicQuantizeMatMul, which also quantises the activation per tensor and multiplies with int8 dot products,
 * ran the forward + backward pair at ~1.4–2.9× float32's speed, but quantising activations and gradients per
 * tensor costs too much accuracy on a pretrained model: the prompt-gradient cosine to float32 fell to 0.964 on
 * ../shared/fixtures/mini-t5-pretrained (0.973 with only the forward quantised), against ≥ 0.99 required and
 * 0.99+ with weight-only int8. MatMulNBits (8 bits, accuracy levels 0 and 4) was slower than float32, and
 * DequantizeLinear → Gemm no faster than the Cast used here, which also needs no second copy of W.
 */
import type { ExternalRef, StoredWeight } from '../../weights/store.js';
import type { Graph, Tensor } from '../builder.js';
import { DataType } from '../onnx-proto.js';
import * as op from '../ops.js';

/** Graph values of a checkpoint's frozen tensors, by Hugging Face key name. */
export interface WeightSource {
  /** A small tensor (norm scales, position bias table) as float32. */
  tensor(name: string): Tensor;
  /** x Wᵀ for W [out, in]: x [N, in] -> [N, out], with its gradient with respect to x. */
  linear(x: Tensor, name: string): Tensor;
  /** Rows of W for int64 ids of any shape: [..., d]. Frozen, so no gradient is built. */
  rows(name: string, ids: Tensor): Tensor;
}

export type WeightLookup = (name: string) => StoredWeight;

const castTo = (x: Tensor, float: 'float32' | 'float64') =>
  x.graph.emitRaw('Cast', [x], { to: { kind: 'int', value: float === 'float32' ? DataType.FLOAT : DataType.DOUBLE } }, x.shape, float);

/** Binds a lookup to one graph: each stored tensor becomes an external-data initializer of that graph, once. */
export function bindWeights(g: Graph, lookup: WeightLookup): WeightSource {
  const float = (name: string, dims: number[], data: ExternalRef, dtype: 'float32' | 'bfloat16' | 'float16') =>
    g.externalWeight(name, dims, data, dtype, dtype !== 'float32');
  /** A tensor stored as floats, in its stored dtype. */
  const stored = (name: string): Tensor => {
    const w = lookup(name);
    if (w.kind !== 'float') throw new Error(`${name} is stored quantised, but the graph reads it as a float tensor`);
    return float(name, w.dims, w.data, w.dtype);
  };
  /** int8 Q [out, in] and its per-row scale s [out]: W = diag(s) Q. */
  const quantised = (name: string): { q: Tensor; scale: Tensor } => {
    const w = lookup(name);
    if (w.kind !== 'int8') throw new Error(`${name} is not stored as int8`);
    return {
      q: g.externalWeight(name, w.dims, w.q, 'int8', true),
      scale: g.externalWeight(`${name}.scale`, [w.dims[0]], w.scale),
    };
  };
  /**
   * W [out, in] Cast to float32 only once `after` exists. onnxruntime orders nodes that read only initializers
   * first, so a plain Cast would run at the start of the graph and every float32 copy would be alive at once;
   * reshaping W to a shape read from `after` (a view, no copy) makes the Cast wait for its point of use.
   */
  const castWhen = (W: Tensor, after: Tensor, shape: (afterCols: Tensor) => Tensor[]): Tensor =>
    castTo(g.emitRaw('Reshape', [W, op.shapeConcat(shape(op.shapeOf(after, 1, 2)))], {}, W.shape, W.dtype), g.float);
  /** x Wᵀ for a narrow W [out, in]: x [N, in] -> [N, out], W Cast to float32 at each use (forward and backward). */
  const castLinear = (x: Tensor, W: Tensor): Tensor => {
    const [out, inn] = W.shape as number[];
    const forward = castWhen(W, x, (cols) => [g.ints([out]), cols]); // cols = [in]
    return g.emit('Gemm', [x, forward], { transB: { kind: 'int', value: 1 } }, [x.shape[0], out], x.dtype, (grad) => [
      g.emit('MatMul', [grad, castWhen(W, grad, (cols) => [cols, g.ints([inn])])], {}, x.shape, x.dtype, () => []), // [N, out] x [out, in]
    ]);
  };
  return {
    tensor: (name) => {
      const t = stored(name);
      return t.dtype === g.float ? t : castTo(t, g.float);
    },
    linear: (x, name) => {
      const w = lookup(name);
      if (w.kind === 'float' && w.dtype === g.float) return op.linear(x, stored(name));
      if (w.kind === 'float') return castLinear(x, stored(name)); // W bf16 or fp16
      const { q, scale } = quantised(name);
      const xq = castLinear(x, q); // x Qᵀ [N, out]
      return g.emit('Mul', [xq, scale], {}, xq.shape, x.dtype, (grad) => [g.emitRaw('Mul', [grad, scale], {}, grad.shape, x.dtype)]);
    },
    rows: (name, ids) => {
      const w = lookup(name);
      const shape = [...ids.shape, w.dims[1]];
      if (w.kind === 'float' && w.dtype === g.float) return op.gather(stored(name), ids);
      if (w.kind === 'float') return castTo(g.emitRaw('Gather', [stored(name), ids], { axis: { kind: 'int', value: 0 } }, shape, w.dtype), g.float);
      const { q, scale } = quantised(name);
      const picked = castTo(g.emitRaw('Gather', [q, ids], { axis: { kind: 'int', value: 0 } }, shape, 'int8'), g.float); // [..., d]
      const rowScale = g.emitRaw('Gather', [scale, ids], { axis: { kind: 'int', value: 0 } }, ids.shape, 'float32'); // [...]
      return g.emitRaw('Mul', [picked, op.unsqueeze(rowScale, -1)], {}, shape, g.float);
    },
  };
}
