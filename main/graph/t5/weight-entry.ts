/**
 * How a frozen weight enters a graph at each width: as the float32 the rest of the graph computes in, without
 * ever leaving a float32 copy of a narrow weight resident.
 *
 *   float32 — the external initializer itself.
 *   bf16/fp16 — Cast to float32 at the point of use, once for x Wᵀ and once more for the backward g W. The
 *     initializer is also declared a graph input, which stops onnxruntime from constant-folding the Cast into a
 *     float32 initializer at session creation; sessions turn common-subexpression elimination off so that the
 *     two Casts stay two transient buffers instead of one float32 weight alive from forward to backward.
 *   int8 — com.microsoft DynamicQuantizeMatMul: the activation is quantised per tensor to uint8 on the fly and
 *     multiplied by W quantised per channel with int8 dot products. Its B must be [K, N], so x Wᵀ reads a copy
 *     stored as Wᵀ [in, out] (scale per output channel) and g W one stored as W [out, in] (scale per input
 *     channel). main/bench/weight-forms.ts measured this at ~2.9× float32's speed for the pair of products,
 *     where dequantising one copy per step (DequantizeLinear or Cast → Gemm) was no faster than float32 and
 *     MatMulNBits (8 bits, accuracy levels 0 and 4) slower.
 */
import type { ExternalRef, QuantisedRef, StoredWeight } from '../../weights/store.js';
import type { Graph, Tensor } from '../builder.js';
import { CONTRIB_DOMAIN, DataType } from '../onnx-proto.js';
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
  const quantised = (name: string, form: 'forward' | 'backward' | 'rows'): { q: Tensor; scale: Tensor } => {
    const w = lookup(name);
    const refs: QuantisedRef | undefined = w.kind === 'int8' ? w[form] : undefined;
    if (!refs) throw new Error(`${name} has no int8 ${form} form`);
    const [rows, cols] = w.dims;
    const qDims = form === 'forward' ? [cols, rows] : [rows, cols];
    const scaleDims = [form === 'backward' ? cols : rows];
    return { q: g.externalWeight(`${name}#${form}`, qDims, refs.q, 'int8'), scale: g.externalWeight(`${name}#${form}.scale`, scaleDims, refs.scale) };
  };
  const int8Product = (a: Tensor, b: { q: Tensor; scale: Tensor }, n: number) =>
    g.emitRaw('DynamicQuantizeMatMul', [a, b.q, b.scale], {}, [a.shape[0], n], 'float32', undefined, CONTRIB_DOMAIN); // [N, n]
  return {
    tensor: (name) => {
      const t = stored(name);
      return t.dtype === g.float ? t : castTo(t, g.float);
    },
    linear: (x, name) => {
      const w = lookup(name);
      const [out, inn] = w.dims;
      if (w.kind === 'float' && w.dtype === g.float) return op.linear(x, stored(name));
      if (w.kind === 'float') {
        const W = stored(name); // [out, in], bf16 or fp16
        return g.emit('Gemm', [x, castTo(W, g.float)], { transB: { kind: 'int', value: 1 } }, [x.shape[0], out], x.dtype, (grad) => [
          g.emit('MatMul', [grad, castTo(W, g.float)], {}, x.shape, x.dtype, () => []), // [N, out] x [out, in]
        ]);
      }
      const forward = quantised(name, 'forward');
      return g.emit('DynamicQuantizeMatMul', [x, forward.q, forward.scale], {}, [x.shape[0], out], x.dtype, (grad) => [
        int8Product(grad, quantised(name, 'backward'), inn), // [N, out] x W [out, in]
      ], CONTRIB_DOMAIN);
    },
    rows: (name, ids) => {
      const w = lookup(name);
      const shape = [...ids.shape, w.dims[1]];
      if (w.kind === 'float' && w.dtype === g.float) return op.gather(stored(name), ids);
      if (w.kind === 'float') return castTo(g.emitRaw('Gather', [stored(name), ids], { axis: { kind: 'int', value: 0 } }, shape, w.dtype), g.float);
      const { q, scale } = quantised(name, 'rows');
      const picked = castTo(g.emitRaw('Gather', [q, ids], { axis: { kind: 'int', value: 0 } }, shape, 'int8'), g.float); // [..., d]
      const rowScale = g.emitRaw('Gather', [scale, ids], { axis: { kind: 'int', value: 0 } }, ids.shape, 'float32'); // [...]
      return g.emitRaw('Mul', [picked, op.unsqueeze(rowScale, -1)], {}, shape, g.float);
    },
  };
}
