/**
 * Differentiable ops. Each op emits its forward ONNX node(s) and states its vector-Jacobian product right
 * beside it (micrograd/tinygrad style). Composite functions (RMS norm, GELU, cross-entropy) are built from
 * these and need no rule of their own. Gradients are themselves built from ops, so they run on every
 * execution provider that runs the forward graph.
 */
import { dtypeCode, Tensor, type Attrs, type Dim, type DType, type Graph } from './builder.js';
import { CONTRIB_DOMAIN } from './onnx-proto.js';

// ---- attributes ----------------------------------------------------------------------------------------

/**
 * ONNX attributes from plain values: a whole number is an int (axis, keepdims, a dtype code), a list of them ints
 * (perm, axes), text a string. A fraction is a mistake here: the one float attribute (rmsNorm's epsilon) is spelt out.
 */
export function attrs(values: Record<string, number | number[] | string>): Attrs {
  return Object.fromEntries(
    Object.entries(values).map(([name, v]) => {
      if (typeof v === 'string') return [name, { kind: 'string', value: v }];
      if (Array.isArray(v)) return [name, { kind: 'ints', value: v }];
      if (!Number.isInteger(v)) throw new Error(`attribute ${name} takes a whole number, not ${v}`);
      return [name, { kind: 'int', value: v }];
    }),
  );
}

// ---- shape helpers -------------------------------------------------------------------------------------

export function broadcastShape(a: Dim[], b: Dim[]): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === 1) out.push(db);
    else if (db === 1 || da === db || typeof db === 'string') out.push(da);
    else if (typeof da === 'string') out.push(db);
    else throw new Error(`shapes [${a}] and [${b}] do not broadcast`);
  }
  return out;
}

function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** Sums a broadcast gradient back down to `shape`: the axes that broadcasting added or stretched from 1. */
export function sumTo(g: Tensor, shape: Dim[]): Tensor {
  const lead = g.rank - shape.length;
  const stretched: number[] = [];
  shape.forEach((d, i) => {
    if (d === 1 && g.shape[lead + i] !== 1) stretched.push(lead + i);
  });
  let out = g;
  if (stretched.length > 0) out = reduceSum(out, stretched, true);
  if (lead > 0) out = reduceSum(out, range(lead), false);
  return out;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** x's runtime shape, or dims [start, end) of it: int64 [n]. */
export function shapeOf(x: Tensor, start?: number, end?: number): Tensor {
  const bounds: Record<string, number> = {};
  if (start !== undefined) bounds.start = start;
  if (end !== undefined) bounds.end = end;
  const len = (end ?? x.rank) - (start ?? 0);
  return x.graph.emitRaw('Shape', [x], attrs(bounds), [len], 'int64');
}

/** Concatenates int64 shape vectors (runtime shapes and constants). */
export function shapeConcat(parts: Tensor[]): Tensor {
  const len = parts.reduce((n, p) => n + (p.shape[0] as number), 0);
  return parts[0].graph.emitRaw('Concat', parts, attrs({ axis: 0 }), [len], 'int64');
}

/** Arithmetic on int64 shape vectors (runtime sizes, constants), elementwise with broadcasting; no gradient. */
function shapeMath(opType: 'Add' | 'Sub' | 'Mul' | 'Div' | 'Max', a: Tensor, b: Tensor): Tensor {
  return a.graph.emitRaw(opType, [a, b], {}, broadcastShape(a.shape, b.shape), 'int64');
}
export const shapeAdd = (a: Tensor, b: Tensor) => shapeMath('Add', a, b);
export const shapeSub = (a: Tensor, b: Tensor) => shapeMath('Sub', a, b);
export const shapeMul = (a: Tensor, b: Tensor) => shapeMath('Mul', a, b);
/** Integer division, e.g. rows / batch = rows per example. */
export const shapeDiv = (a: Tensor, b: Tensor) => shapeMath('Div', a, b);
export const shapeMax = (a: Tensor, b: Tensor) => shapeMath('Max', a, b);

/**
 * Integer values (ids, sizes) as int32 or int64; no node when they already are. The graphs' ids are int32 (WebGPU
 * has no int64 kernels for what they pass through); shapes are int64, and so are the indices ScatterND reads.
 */
export function toInt(x: Tensor, dtype: 'int32' | 'int64'): Tensor {
  return x.dtype === dtype ? x : x.graph.emitRaw('Cast', [x], attrs({ to: dtypeCode[dtype] }), x.shape, dtype);
}

/** The same value, seen by the backward as a constant: no node, and no gradient reaches x through it. */
export function detach(x: Tensor): Tensor {
  return new Tensor(x.graph, x.name, x.dtype, x.shape, false);
}

/** Zeros of x's runtime shape: a broadcast scalar, since WebGPU has no ConstantOfShape kernel. */
export function zerosLike(x: Tensor): Tensor {
  return x.graph.emitRaw('Expand', [x.graph.scalar(0, x.dtype), shapeOf(x)], {}, x.shape, x.dtype);
}

// ---- elementwise ---------------------------------------------------------------------------------------

export function add(a: Tensor, b: Tensor): Tensor {
  return a.graph.emit('Add', [a, b], {}, broadcastShape(a.shape, b.shape), a.dtype, (g, needs) => [
    needs[0] && sumTo(g, a.shape),
    needs[1] && sumTo(g, b.shape),
  ]);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  return a.graph.emit('Sub', [a, b], {}, broadcastShape(a.shape, b.shape), a.dtype, (g, needs) => [
    needs[0] && sumTo(g, a.shape),
    needs[1] && sumTo(neg(g), b.shape),
  ]);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  return a.graph.emit('Mul', [a, b], {}, broadcastShape(a.shape, b.shape), a.dtype, (g, needs) => [
    needs[0] && sumTo(mul(g, b), a.shape),
    needs[1] && sumTo(mul(g, a), b.shape),
  ]);
}

export function div(a: Tensor, b: Tensor): Tensor {
  const out = a.graph.emit('Div', [a, b], {}, broadcastShape(a.shape, b.shape), a.dtype, (g, needs) => [
    needs[0] && sumTo(div(g, b), a.shape),
    // d(a/b)/db = -(a/b)/b
    needs[1] && sumTo(neg(div(mul(g, out), b)), b.shape),
  ]);
  return out;
}

export function neg(x: Tensor): Tensor {
  return x.graph.emit('Neg', [x], {}, x.shape, x.dtype, (g) => [neg(g)]);
}

export function scale(x: Tensor, s: number): Tensor {
  return mul(x, x.graph.scalar(s, x.dtype));
}

/** x ** p for a constant exponent p. */
export function pow(x: Tensor, p: number): Tensor {
  const graph = x.graph;
  return graph.emit('Pow', [x, graph.scalar(p, x.dtype)], {}, x.shape, x.dtype, (g) => [mul(g, scale(pow(x, p - 1), p))]);
}

export function sqrt(x: Tensor): Tensor {
  const out = x.graph.emit('Sqrt', [x], {}, x.shape, x.dtype, (g) => [div(scale(g, 0.5), out)]);
  return out;
}

export function reciprocal(x: Tensor): Tensor {
  const out = x.graph.emit('Reciprocal', [x], {}, x.shape, x.dtype, (g) => [neg(mul(g, mul(out, out)))]);
  return out;
}

export function exp(x: Tensor): Tensor {
  const out = x.graph.emit('Exp', [x], {}, x.shape, x.dtype, (g) => [mul(g, out)]);
  return out;
}

/** 1 / (1 + exp(-x)); its slope y (1 - y) reads only the output. */
export function sigmoid(x: Tensor): Tensor {
  const out = x.graph.emit('Sigmoid', [x], {}, x.shape, x.dtype, (g) => [mul(g, mul(out, sub(x.graph.scalar(1, x.dtype), out)))]);
  return out;
}

export function tanh(x: Tensor): Tensor {
  const out = x.graph.emit('Tanh', [x], {}, x.shape, x.dtype, (g) => [mul(g, sub(x.graph.scalar(1, x.dtype), mul(out, out)))]);
  return out;
}

/**
 * max(x, 0). Where x needs a gradient it is computed as Where(x > 0, x, 0), so that the mask exists in the forward
 * pass: onnxruntime schedules a node just before its first consumer, so a mask read only by the backward would
 * be made there and keep x alive until then (a byte per value instead of four: t5-large, batch 8, 8 MB less per
 * encoder layer).
 */
export function relu(x: Tensor): Tensor {
  const graph = x.graph;
  if (!x.requiresGrad) return graph.emitRaw('Relu', [x], {}, x.shape, x.dtype);
  const positive = graph.forGradient(() => graph.emitRaw('Greater', [x, graph.scalar(0, x.dtype)], {}, x.shape, 'bool'));
  return where(positive, x, graph.scalar(0, x.dtype));
}

/** Picks `a` where `cond` holds, else `b`; `cond` is a constant mask. */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  const graph = a.graph;
  const shape = broadcastShape(cond.shape, broadcastShape(a.shape, b.shape));
  return graph.emit('Where', [cond, a, b], {}, shape, a.dtype, (g, needs) => {
    const zero = graph.scalar(0, a.dtype);
    return [null, needs[1] && sumTo(where(cond, g, zero), a.shape), needs[2] && sumTo(where(cond, zero, g), b.shape)];
  });
}

/** x in another floating dtype; its gradient is cast back. No node when the dtype is already x's. */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  return x.graph.emit('Cast', [x], attrs({ to: dtypeCode[dtype] }), x.shape, dtype, (g) => [cast(g, x.dtype)]);
}

/** Half-precision activations enter float32 where mixed precision keeps statistics and scale: softmax, norms, residual streams, the loss. */
export function toFloat32(x: Tensor): Tensor {
  return x.dtype === 'float16' || x.dtype === 'bfloat16' ? cast(x, 'float32') : x;
}

// ---- matrix products -----------------------------------------------------------------------------------

/** Batched a @ b with both operands variable: [..., m, k] @ [..., k, n] -> [..., m, n], batch dims broadcast as numpy does. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  return a.graph.emit('MatMul', [a, b], {}, productShape(a, b), a.dtype, (g, needs) => [
    needs[0] && sumTo(matmul(g, swapLast(b)), a.shape),
    needs[1] && sumTo(matmul(swapLast(a), g), b.shape),
  ]);
}

/**
 * a @ bᵀ: [..., m, k] x [..., n, k] -> [..., m, n], batch dims broadcast. Attention's keys are made head-major by a
 * Transpose; MatMul would need them swapped as well, and onnxruntime merges the two into one Transpose [0, 2, 3, 1],
 * which its CPU kernel moves element by element (t5-base keys, [8, 84, 12, 64]: 0.75 ms each, against 0.1 ms for the
 * head-major one). In a graph for the CPU provider that computes no gradient (scoring, greedy decoding),
 * FusedMatMul with transB reads b transposed inside the product instead: t5-base rank scoring takes 0.5-4 % less CPU
 * time in float32 and 7.5 % less with int8 products, for the same scores bit for bit. A training graph keeps MatMul
 * throughout, so training computes what it did: the mini-t5-instruct topic step (1 thread) was no faster with
 * FusedMatMul where nothing below it is differentiated. Other providers may lack the contrib kernel; the CPU has it
 * for float32 only.
 */
export function matmulT(a: Tensor, b: Tensor): Tensor {
  const fused = a.graph.target === 'cpu' && !a.graph.differentiates && a.dtype === 'float32';
  if (!fused) return matmul(a, swapLast(b));
  const shape = productShape(a, b, b.shape[b.rank - 2]);
  return a.graph.emitRaw('FusedMatMul', [a, b], attrs({ transB: 1 }), shape, a.dtype, undefined, CONTRIB_DOMAIN);
}

/** The shape of a product of a [..., m, k] with b: batch dims broadcast, then m and b's n (its last dim, unless b is read transposed). */
function productShape(a: Tensor, b: Tensor, n: Dim = b.shape[b.rank - 1]): Dim[] {
  return [...broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)), a.shape[a.rank - 2], n];
}

/**
 * a @ w for a frozen w: [..., m, k] @ [..., k, n] -> [..., m, n], batch dims broadcast as numpy does. `weight(after)`
 * gives w once `after` exists (see linear's backwardWeight), for the forward and again for the backward. The gradient
 * g wᵀ is formed as (w gᵀ)ᵀ so that only activations are transposed: a transposed frozen weight is a constant that
 * onnxruntime folds into a second copy of it.
 */
export function matmulFrozen(a: Tensor, weight: (after: Tensor) => Tensor): Tensor {
  const w = weight(a);
  return a.graph.emit('MatMul', [a, w], {}, productShape(a, w), a.dtype, (g) => [sumTo(swapLast(matmul(weight(g), swapLast(g))), a.shape)]);
}

/** w @ b for a frozen w, as matmulFrozen: its gradient wᵀ g is formed as (gᵀ w)ᵀ. */
export function frozenMatmul(weight: (after: Tensor) => Tensor, b: Tensor): Tensor {
  const w = weight(b);
  return b.graph.emit('MatMul', [w, b], {}, productShape(w, b), b.dtype, (g) => [
    null,
    sumTo(swapLast(matmul(swapLast(g), weight(g))), b.shape),
  ]);
}

/** x with its last two axes swapped. */
export function swapLast(x: Tensor): Tensor {
  const perm = range(x.rank);
  [perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1], perm[x.rank - 2]];
  return transpose(x, perm);
}

/**
 * x @ w^T for a frozen weight w stored [out, in] as in PyTorch's nn.Linear: x [N, in] -> [N, out].
 * Gemm with transB reads w in place, so no transposed copy of the weight is ever made. `backwardWeight` gives the
 * w the gradient g [N, out] multiplies (default w itself): a narrow weight is widened again there, after g exists,
 * rather than kept wide from the forward pass (graph/t5/weight-entry.ts).
 */
export function linear(x: Tensor, w: Tensor, backwardWeight: (g: Tensor) => Tensor = () => w): Tensor {
  if (w.requiresGrad) throw new Error('linear() takes a frozen weight; use matmul() for two variables');
  const out = w.shape[0];
  return x.graph.emit('Gemm', [x, w], attrs({ transB: 1 }), [x.shape[0], out], x.dtype, (g) => [
    x.graph.emit('MatMul', [g, backwardWeight(g)], {}, x.shape, x.dtype, () => []), // [N, out] x [out, in]
  ]);
}

// ---- shape ops -----------------------------------------------------------------------------------------

/**
 * Reshapes x to `target` (a constant spec with ONNX's 0 = keep, -1 = infer, or a runtime int64 shape);
 * `shape` is the resulting static shape for bookkeeping.
 */
export function reshape(x: Tensor, target: number[] | Tensor, shape: Dim[]): Tensor {
  const graph = x.graph;
  const spec = Array.isArray(target) ? graph.ints(target) : target;
  return graph.emit('Reshape', [x, spec], {}, shape, x.dtype, (g) => [reshape(g, staticShapeOf(x, g) ?? shapeOf(x), x.shape)]);
}

/**
 * A constant Reshape spec that gives `like` x's shape, when x's static shape says enough: its numbers, 0 (copy)
 * where `like` has the same named dim at the same place, and at most one -1. Shape(x) in a backward would keep x
 * alive from the forward pass to there (onnxruntime runs Shape just before its consumer); a constant keeps nothing.
 */
function staticShapeOf(x: Tensor, like: Tensor): number[] | null {
  const spec = x.shape.map((d, i) => (typeof d === 'number' ? d : like.shape[i] === d ? 0 : -1));
  return spec.filter((d) => d === -1).length <= 1 ? spec : null;
}

/**
 * A reduction's gradient g, kept dims of size 1, spread over x's shape. Expand broadcasts, so the target needs only
 * the reduced dims (1 elsewhere): a constant when they are static, else Shape(x) (see staticShapeOf for why).
 */
function spreadOver(g: Tensor, x: Tensor, axes: number[]): Tensor {
  const reduced = axes.map((a) => normAxis(a, x.rank));
  const dims = x.shape.map((d, i) => (reduced.includes(i) ? d : 1));
  const target = dims.every((d) => typeof d === 'number') ? x.graph.ints(dims as number[]) : shapeOf(x);
  return expand(g, target, x.shape);
}

export function transpose(x: Tensor, perm: number[]): Tensor {
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  return x.graph.emit(
    'Transpose',
    [x],
    attrs({ perm: perm }),
    perm.map((p) => x.shape[p]),
    x.dtype,
    (g) => [transpose(g, inverse)],
  );
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  const shape = [...x.shape];
  shape.splice(normAxis(axis, x.rank + 1), 0, 1);
  return x.graph.emit('Unsqueeze', [x, x.graph.ints([axis])], {}, shape, x.dtype, (g) => [squeeze(g, axis)]);
}

export function squeeze(x: Tensor, axis: number): Tensor {
  const shape = x.shape.filter((_, i) => i !== normAxis(axis, x.rank));
  return x.graph.emit('Squeeze', [x, x.graph.ints([axis])], {}, shape, x.dtype, (g) => [unsqueeze(g, axis)]);
}

export function concat(xs: Tensor[], axis: number): Tensor {
  const graph = xs[0].graph;
  const ax = normAxis(axis, xs[0].rank);
  const total = xs.every((x) => typeof x.shape[ax] === 'number') ? xs.reduce((n, x) => n + (x.shape[ax] as number), 0) : `concat${ax}`;
  const shape = xs[0].shape.map((d, i) => (i === ax ? total : d));
  return graph.emit('Concat', xs, attrs({ axis: ax }), shape, xs[0].dtype, (g, needs) => {
    // Each input's gradient is its slab of g along the axis; offsets come from the inputs' runtime sizes.
    let start: Tensor = graph.ints([0]);
    return xs.map((x, i) => {
      const size = shapeOf(x, ax, ax + 1);
      const end = shapeAdd(start, size);
      const piece = needs[i] && sliceDynamic(g, start, end, ax, x.shape[ax]);
      start = end;
      return piece;
    });
  });
}

/**
 * x [N, ...] as k consecutive row blocks of ceil(N / k) rows (the last may be shorter, or empty), for work that runs
 * faster block by block. The gradient of x is the blocks' gradients concatenated once, not k zero-padded copies
 * summed: each block's rule hands its gradient to the first block's, which the backward pass reaches last (the
 * blocks are recorded in order, and nothing in between). Every block must reach the loss.
 */
export function splitRows(x: Tensor, k: number): Tensor[] {
  const graph = x.graph;
  const rows = shapeOf(x, 0, 1);
  const step = shapeDiv(shapeAdd(rows, graph.ints([k - 1])), graph.ints([k])); // ceil(N / k); Slice clamps past N
  const grads: Tensor[] = [];
  return Array.from({ length: k }, (_, i) => {
    const [start, end] = [i, i + 1].map((b) => shapeMul(step, graph.ints([b])));
    const n = x.shape[0];
    const known = typeof n === 'number' ? Math.ceil(n / k) : 0;
    const shape = [typeof n === 'number' ? Math.max(0, Math.min(n, (i + 1) * known) - i * known) : `${n}/${k}#${i}`, ...x.shape.slice(1)];
    return graph.emit('Slice', [x, start, end, graph.ints([0])], {}, shape, x.dtype, (g) => {
      grads[i] = g;
      if (i > 0) return [null];
      if (grads.filter(Boolean).length !== k) throw new Error('splitRows: a block has no gradient');
      return [concat(grads, 0)];
    });
  });
}

/** x[start:end] along one axis, with constant bounds. */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  const graph = x.graph;
  return sliceDynamic(x, graph.ints([start]), graph.ints([end]), axis, end - start >= 0 && end < 2 ** 31 ? end - start : `slice${axis}`);
}

function sliceDynamic(x: Tensor, start: Tensor, end: Tensor, axis: number, size: Dim): Tensor {
  const graph = x.graph;
  const ax = normAxis(axis, x.rank);
  const shape = x.shape.map((d, i) => (i === ax ? size : d));
  return graph.emit('Slice', [x, start, end, graph.ints([ax])], {}, shape, x.dtype, (g) => {
    // Pad g back with zeros: `start` before and (dim - end) after, on this axis only.
    const dim = shapeOf(x, ax, ax + 1);
    const afterClamped = shapeMax(shapeSub(dim, end), graph.ints([0]));
    const pads = shapeConcat(
      [
        graph.ints(new Array(ax).fill(0)),
        start,
        graph.ints(new Array(x.rank - ax - 1).fill(0)),
        graph.ints(new Array(ax).fill(0)),
        afterClamped,
        graph.ints(new Array(x.rank - ax - 1).fill(0)),
      ].filter((t) => (t.shape[0] as number) > 0),
    );
    return [graph.emit('Pad', [g, pads], {}, x.shape, x.dtype, () => [])];
  });
}

/** Broadcasts x to a runtime shape; the gradient sums over the broadcast axes. */
export function expand(x: Tensor, target: Tensor, shape: Dim[]): Tensor {
  return x.graph.emit('Expand', [x, target], {}, shape, x.dtype, (g) => [sumTo(g, x.shape)]);
}

/** Rows of `x` (axis 0) picked by int32 or int64 `ids`; repeated ids accumulate their gradients. */
export function gather(x: Tensor, ids: Tensor): Tensor {
  const graph = x.graph;
  const shape = [...ids.shape, ...x.shape.slice(1)];
  return graph.emit('Gather', [x, ids], attrs({ axis: 0 }), shape, x.dtype, (g) => {
    const index = unsqueeze(toInt(ids, 'int64'), -1); // [..., 1]: ScatterND reads int64 indices only
    return [graph.emit('ScatterND', [zerosLike(x), index, g], attrs({ reduction: 'add' }), x.shape, x.dtype, () => [])];
  });
}

/**
 * Slices of x along `axis` picked by integer `ids`, the axis replaced by ids' dims: for values no gradient passes
 * through (frozen tables, inference outputs). Fails loudly, like every op without a gradient rule, if one would.
 */
export function take(x: Tensor, ids: Tensor, axis: number): Tensor {
  const ax = normAxis(axis, x.rank);
  const shape = [...x.shape.slice(0, ax), ...ids.shape, ...x.shape.slice(ax + 1)];
  return x.graph.emitRaw('Gather', [x, ids], attrs({ axis: ax }), shape, x.dtype);
}

/** x at one constant position along `axis` (negative: from the end), the axis dropped; no gradient. */
export function at(x: Tensor, axis: number, index: number): Tensor {
  return take(x, x.graph.constant([index], 'int64', []), axis);
}

/** Position of the largest value along `axis` (int64, the axis dropped); the first on ties, no gradient. */
export function argmax(x: Tensor, axis: number): Tensor {
  const ax = normAxis(axis, x.rank);
  return x.graph.emitRaw(
    'ArgMax',
    [x],
    attrs({ axis: ax, keepdims: 0 }),
    x.shape.filter((_, i) => i !== ax),
    'int64',
  );
}

/**
 * The real rows of a padded [B*S, c] layout: `keep` [Ntok] int32, the flat positions of the rows that are not
 * padding; `spread` [B*S] int32, each position's row in the packed layout (row 0 for padding); `present` [B*S, 1],
 * 1 at real positions and 0 at padding.
 */
export interface PackedRows {
  keep: Tensor;
  spread: Tensor;
  present: Tensor;
}

/** x [B*S, c] -> its real rows [Ntok, c]; the gradient goes back to them, padding rows get zeros (unpackRows). */
export function packRows(x: Tensor, rows: PackedRows): Tensor {
  const graph = x.graph;
  return graph.emit('Gather', [x, rows.keep], attrs({ axis: 0 }), [rows.keep.shape[0], ...x.shape.slice(1)], x.dtype, (g) => [
    unpackRows(g, rows),
  ]);
}

function gatherSpread(t: Tensor, rows: PackedRows): Tensor {
  return t.graph.emitRaw('Gather', [t, rows.spread], attrs({ axis: 0 }), [rows.spread.shape[0], ...t.shape.slice(1)], t.dtype);
}

/**
 * Packed rows t [Ntok, c] -> the padded layout [B*S, c], zeros at padding. Every packed row lands at exactly one
 * position, so the gradient is the packing of g (packRows).
 */
export function unpackRows(t: Tensor, rows: PackedRows): Tensor {
  return t.graph.composite(
    [t],
    () => mul(gatherSpread(t, rows), cast(rows.present, t.dtype)),
    (g) => [packRows(g, rows)],
  );
}

/**
 * Packed rows t [Ntok, c] -> the padded layout [B*S, c] with a copy of a real row at each padding position, for a
 * value whose padding rows no real result reads (masked keys and values, queries whose output is packed again): one
 * pass fewer than unpackRows. Its gradient at padding positions is then exactly zero, so packing g is exact.
 */
export function spreadRows(t: Tensor, rows: PackedRows): Tensor {
  return t.graph.composite(
    [t],
    () => gatherSpread(t, rows),
    (g) => [packRows(g, rows)],
  );
}

// ---- reductions ----------------------------------------------------------------------------------------

function reducedShape(x: Tensor, axes: number[], keepdims: boolean): Dim[] {
  const ax = axes.map((a) => normAxis(a, x.rank));
  return keepdims ? x.shape.map((d, i) => (ax.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !ax.includes(i));
}

/** Undoes a reduction's shape change so that the gradient broadcasts over the reduced axes. */
function keepReduced(g: Tensor, x: Tensor, axes: number[], keepdims: boolean): Tensor {
  if (keepdims) return g;
  let out = g;
  for (const a of axes.map((a) => normAxis(a, x.rank)).sort((p, q) => p - q)) out = unsqueeze(out, a);
  return out;
}

export function reduceSum(x: Tensor, axes: number[], keepdims: boolean): Tensor {
  const graph = x.graph;
  return graph.emit(
    'ReduceSum',
    [x, graph.ints(axes)],
    attrs({ keepdims: keepdims ? 1 : 0 }),
    reducedShape(x, axes, keepdims),
    x.dtype,
    (g) => [spreadOver(keepReduced(g, x, axes, keepdims), x, axes)],
  );
}

export function reduceMean(x: Tensor, axes: number[], keepdims: boolean): Tensor {
  const graph = x.graph;
  return graph.emit('ReduceMean', [x], attrs({ axes, keepdims: keepdims ? 1 : 0 }), reducedShape(x, axes, keepdims), x.dtype, (g) => {
    const spread = spreadOver(keepReduced(g, x, axes, keepdims), x, axes);
    return [div(spread, countOf(x, axes))];
  });
}

/** Number of elements over `axes`, as a float scalar (static when known, else from the runtime shape). */
function countOf(x: Tensor, axes: number[]): Tensor {
  const graph = x.graph;
  const dims = axes.map((a) => x.shape[normAxis(a, x.rank)]);
  if (dims.every((d) => typeof d === 'number'))
    return graph.scalar(
      (dims as number[]).reduce((p, d) => p * d, 1),
      x.dtype,
    );
  const sizes = axes.map((a) => shapeOf(x, normAxis(a, x.rank), normAxis(a, x.rank) + 1));
  const all = sizes.length === 1 ? sizes[0] : shapeConcat(sizes);
  const prod = graph.emitRaw('ReduceProd', [all], attrs({ keepdims: 0 }), [], 'int64');
  return graph.emitRaw('Cast', [prod], attrs({ to: dtypeCode[x.dtype] }), [], x.dtype);
}

/**
 * log(sum(exp(x))) over the last axis, keepdims, as max + log(sum(exp(x - max))); `exps` and `sum` are kept for the
 * gradient (softmax(x) = exps / sum). onnxruntime's CPU ReduceLogSumExp came out ~2.7e-4 low over T5's 32,128
 * logits (the loss 2e-5 relative below PyTorch's and float64's, always low); its vectorised ReduceSum does not.
 */
function logSumExpParts(x: Tensor): { lse: Tensor; exps: Tensor; sum: Tensor } {
  const graph = x.graph;
  const axis = x.rank - 1;
  const shape = reducedShape(x, [axis], true);
  const max = graph.emitRaw('ReduceMax', [x], attrs({ axes: [axis], keepdims: 1 }), shape, x.dtype);
  const exps = graph.emitRaw('Exp', [graph.emitRaw('Sub', [x, max], {}, x.shape, x.dtype)], {}, x.shape, x.dtype);
  const sum = graph.emitRaw('ReduceSum', [exps, graph.ints([axis])], attrs({ keepdims: 1 }), shape, x.dtype);
  return { lse: graph.emitRaw('Add', [graph.emitRaw('Log', [sum], {}, shape, x.dtype), max], {}, shape, x.dtype), exps, sum };
}

/** log(sum(exp(x))) over the last axis, keepdims; its gradient is softmax(x), from the forward's exponentials. */
export function logSumExp(x: Tensor): Tensor {
  let parts: ReturnType<typeof logSumExpParts> | undefined;
  return x.graph.composite(
    [x],
    () => (parts = logSumExpParts(x)).lse,
    (g) => [mul(parts!.exps, div(g, parts!.sum))],
  );
}

/** Softmax over the last axis: dx = y * (g - sum(g * y)). */
export function softmax(x: Tensor): Tensor {
  const out: Tensor = x.graph.emit('Softmax', [x], attrs({ axis: -1 }), x.shape, x.dtype, (g) => [
    mul(out, sub(g, reduceSum(mul(g, out), [-1], true))),
  ]);
  return out;
}

/** Log-softmax over the last axis: dx = g - softmax(x) * sum(g). */
export function logSoftmax(x: Tensor): Tensor {
  const out: Tensor = x.graph.emit('LogSoftmax', [x], attrs({ axis: -1 }), x.shape, x.dtype, (g) => [
    sub(g, mul(exp(out), reduceSum(g, [-1], true))),
  ]);
  return out;
}

// ---- composites ----------------------------------------------------------------------------------------

/**
 * T5LayerNorm: RMS norm without mean or bias, x * r * w with r = rsqrt(mean(x^2) + eps). Half-precision input is
 * normalised in float32 and cast back to the weight's dtype, as HF's T5LayerNorm does (a float16 mean of squares
 * overflows). Differentiated as one op (w is frozen): with u = g w, dx = r (u - x r² mean(x u)), four passes over
 * [N, d] where the op-by-op rule made nine (an Expand of the mean's gradient among them). Plain ops, not onnxruntime's
 * SimplifiedLayerNormalization: that kernel is not in the CUDA and WebGPU lists at our opset (test/runtime/placement),
 * and it saved about 1 % of a mini-t5 step on the CPU.
 */
export function rmsNorm(x: Tensor, w: Tensor, eps: number): Tensor {
  if (w.requiresGrad) throw new Error('rmsNorm() takes a frozen weight');
  const graph = x.graph;
  let xf: Tensor | undefined;
  let r: Tensor | undefined;
  return graph.composite(
    [x],
    () => {
      xf = toFloat32(x);
      const variance = reduceMean(mul(xf, xf), [-1], true);
      r = reciprocal(sqrt(add(variance, graph.scalar(eps, xf.dtype))));
      return mul(cast(mul(xf, r), w.dtype), w);
    },
    (g) => {
      const u = toFloat32(mul(g, w));
      const c = mul(reduceMean(mul(xf!, u), [-1], true), mul(r!, r!)); // [N, 1]
      return [cast(mul(sub(u, mul(xf!, c)), r!), x.dtype)];
    },
  );
}

/**
 * gelu_new, the tanh approximation 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), computed as x · sigmoid(z) with
 * z = x (A + B x²), A = 2 sqrt(2/pi), B = 0.044715 A, since 0.5 (1 + tanh(u)) = sigmoid(2u): one vectorised
 * Sigmoid instead of Pow, Tanh and their scalings, and a slope that reuses it. These are passes over [N, d_ff], the
 * largest activations of a step, so their number sets much of a small model's step time.
 */
const GELU_A = 2 * Math.sqrt(2 / Math.PI);
const GELU_B = 0.044715 * GELU_A;

interface GeluParts {
  /** x², sigmoid(z) and gelu_new(x) itself. */
  square: Tensor;
  sig: Tensor;
  value: Tensor;
}

function geluParts(x: Tensor): GeluParts {
  const square = mul(x, x);
  const sig = sigmoid(mul(x, add(scale(square, GELU_B), x.graph.scalar(GELU_A, x.dtype))));
  return { square, sig, value: mul(x, sig) };
}

/** d gelu_new / dx = s + gelu_new(x) (1 - s) (A + 3 B x²), s = sigmoid(z). */
function geluSlope(x: Tensor, p: GeluParts): Tensor {
  const one = x.graph.scalar(1, x.dtype);
  const dz = add(scale(p.square, 3 * GELU_B), x.graph.scalar(GELU_A, x.dtype));
  return add(p.sig, mul(mul(p.value, sub(one, p.sig)), dz));
}

/** gelu_new as one op whose backward keeps only x and recomputes the rest (see gatedGelu). */
export function geluTanh(x: Tensor): Tensor {
  return x.graph.composite(
    [x],
    () => geluParts(x).value,
    (g) => [mul(g, geluSlope(x, geluParts(x)))],
  );
}

/**
 * T5 v1.1's gated feed-forward product gelu_new(a) * b, a and b [N, d_ff]. Differentiated as one op whose backward
 * recomputes gelu_new(a) from a, so that only a and b stay alive until then (flan-t5-xl, batch 8: ~40 MB less per
 * encoder layer than op by op); where common-subexpression elimination is on (float32 weights) onnxruntime merges
 * the recomputation with the forward's nodes instead.
 */
export function gatedGelu(a: Tensor, b: Tensor): Tensor {
  return a.graph.composite(
    [a, b],
    () => mul(geluParts(a).value, b),
    (g, needs) => {
      const p = geluParts(a);
      return [needs[0] && mul(mul(g, b), geluSlope(a, p)), needs[1] && mul(g, p.value)];
    },
  );
}

/**
 * Per-row cross-entropy of logits [N, V] against labels [N, 1] (int32 as the graphs feed them, or int64; already clamped to valid ids):
 * ce = lse(logits) - logits[label], with lse the log-sum-exp [N, 1]. `loss` = ce + zLoss · lse² (Lester et al.'s
 * z-loss; ce itself without a coefficient) is the differentiable value; `ce` and `lse` are plain values for
 * reporting and scoring. Differentiated as one op: d loss / d logits = softmax · g (1 + 2 zLoss · lse) - onehot · g,
 * the softmax from the forward's exponentials, so the backward makes one pass over the [N, V] logits.
 *
 * `picked` [N, 1], when given, is logits[label] computed apart from the logits (h · W[label]: see labelLogit), and
 * the one-hot term -g goes to it, reaching h as -g · W[label] [N, d]. Otherwise the one-hot is added to the softmax
 * in place by a scatter over [N, V]: a copy of the whole gradient, as long as the LM head's product itself on a
 * small model (mini-t5-instruct, 64 label rows: 2.4 ms of a 95 ms step).
 */
export function crossEntropy(logits: Tensor, labels: Tensor, zLoss?: Tensor, picked?: Tensor): { loss: Tensor; ce: Tensor; lse: Tensor } {
  const graph = logits.graph;
  let parts: ReturnType<typeof logSumExpParts> | undefined;
  let ce: Tensor | undefined;
  const loss = graph.composite(
    picked ? [logits, picked] : [logits],
    () => {
      parts = logSumExpParts(logits);
      const label = picked ?? graph.emitRaw('GatherElements', [logits, labels], attrs({ axis: 1 }), [logits.shape[0], 1], logits.dtype);
      ce = graph.emitRaw('Sub', [parts.lse, label], {}, parts.lse.shape, logits.dtype);
      return zLoss ? add(ce, mul(zLoss, mul(parts.lse, parts.lse))) : ce;
    },
    (g) => {
      const { exps, sum, lse } = parts!;
      const weight = zLoss ? mul(g, add(graph.scalar(1, logits.dtype), mul(scale(zLoss, 2), lse))) : g;
      const soft = mul(exps, div(weight, sum)); // [N, V]
      if (picked) return [soft, neg(g)];
      return [graph.emitRaw('ScatterElements', [soft, labels, neg(g)], attrs({ axis: 1, reduction: 'add' }), logits.shape, logits.dtype)];
    },
  );
  return { loss, ce: ce!, lse: parts!.lse };
}

export { Tensor };
export type { Graph };
