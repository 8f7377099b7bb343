import { describe, expect, it } from 'vitest';
import type { Graph, Tensor } from '../../main/graph/builder.js';
import * as op from '../../main/graph/ops.js';
import { gradCheck, randomArray, rng } from './gradcheck.js';

const c = (g: Graph, shape: number[], seed: number, lo = -1, hi = 1) =>
  g.constant(
    Array.from(
      randomArray(
        shape.reduce((a, b) => a * b, 1),
        rng(seed),
        lo,
        hi,
      ),
    ),
    'float64',
    shape,
  );

/** Inputs bounded away from 0, for ops whose derivative is discontinuous or singular there. */
const awayFromZero = (n: number) => Float64Array.from(randomArray(n, rng(7)), (v) => (v < 0 ? v - 0.3 : v + 0.3));
const positive = (n: number) => Float64Array.from(randomArray(n, rng(8), 0.2, 2));

interface Case {
  name: string;
  shape: number[];
  f: (x: Tensor, g: Graph) => Tensor;
  x?: (n: number) => Float64Array;
}

const cases: Case[] = [
  { name: 'add broadcast (x stretched)', shape: [1, 3], f: (x, g) => op.add(x, c(g, [2, 3], 1)) },
  { name: 'add broadcast (x rank-extended)', shape: [3], f: (x, g) => op.add(c(g, [2, 3], 2), x) },
  { name: 'sub both sides', shape: [2, 3], f: (x, g) => op.sub(c(g, [2, 1], 3), op.sub(x, c(g, [3], 4))) },
  { name: 'mul broadcast', shape: [2, 1], f: (x, g) => op.mul(x, op.mul(c(g, [2, 3], 5), x)) },
  { name: 'div numerator', shape: [2, 3], f: (x, g) => op.div(x, c(g, [3], 6, 0.5, 2)) },
  { name: 'div denominator', shape: [2, 3], f: (x, g) => op.div(c(g, [2, 3], 7), x), x: positive },
  { name: 'neg and scale', shape: [4], f: (x) => op.scale(op.neg(x), 2.5) },
  { name: 'pow', shape: [2, 3], f: (x) => op.pow(x, 3) },
  { name: 'sqrt', shape: [2, 3], f: (x) => op.sqrt(x), x: positive },
  { name: 'reciprocal', shape: [2, 3], f: (x) => op.reciprocal(x), x: positive },
  { name: 'exp', shape: [2, 3], f: (x) => op.exp(x) },
  { name: 'tanh', shape: [2, 3], f: (x) => op.tanh(x) },
  { name: 'sigmoid', shape: [2, 3], f: (x) => op.sigmoid(x) },
  { name: 'relu', shape: [2, 5], f: (x) => op.relu(x), x: awayFromZero },
  {
    name: 'where',
    shape: [2, 3],
    f: (x, g) => op.where(g.constant([1, 0, 1, 0, 0, 1], 'bool', [2, 3]), x, op.mul(x, x)),
  },
  { name: 'matmul left', shape: [2, 3, 4], f: (x, g) => op.matmul(x, c(g, [2, 4, 5], 9)) },
  { name: 'matmul right', shape: [2, 4, 5], f: (x, g) => op.matmul(c(g, [2, 3, 4], 10), x) },
  { name: 'matmul both variable', shape: [2, 3, 3], f: (x) => op.matmul(x, op.transpose(x, [0, 2, 1])) },
  { name: 'matmul, batch dims broadcast', shape: [2, 1, 3, 4], f: (x, g) => op.matmul(x, c(g, [5, 4, 2], 21)) },
  { name: 'linear (frozen weight)', shape: [4, 3], f: (x, g) => op.linear(x, c(g, [5, 3], 11)) },
  { name: 'matmulFrozen (weight per head, broadcast)', shape: [2, 3, 4, 5], f: (x, g) => op.matmulFrozen(x, () => c(g, [3, 5, 6], 22)) },
  { name: 'frozenMatmul (weight per head, broadcast)', shape: [2, 3, 5, 4], f: (x, g) => op.frozenMatmul(() => c(g, [3, 6, 5], 23), x) },
  { name: 'reshape', shape: [2, 6], f: (x, g) => op.mul(op.reshape(x, [0, 3, 2], [2, 3, 2]), c(g, [2, 3, 2], 12)) },
  { name: 'transpose', shape: [2, 3, 4], f: (x) => op.transpose(x, [2, 0, 1]) },
  {
    name: 'splitRows (7 rows in blocks of 3, 3, 1), each block its own function, joined',
    shape: [7, 3],
    f: (x) =>
      op.concat(
        op.splitRows(x, 3).map((b, i) => op.mul(b, op.scale(op.tanh(b), i + 1))),
        0,
      ),
  },
  {
    name: 'splitRows with an empty last block (3 rows in 4)',
    shape: [3, 2],
    f: (x) =>
      op.concat(
        op.splitRows(x, 4).map((b) => op.mul(b, b)),
        0,
      ),
  },
  { name: 'unsqueeze/squeeze', shape: [2, 3], f: (x) => op.squeeze(op.mul(op.unsqueeze(x, 1), op.unsqueeze(x, 1)), 1) },
  { name: 'concat (x first)', shape: [2, 2, 3], f: (x, g) => op.concat([x, c(g, [2, 4, 3], 13)], 1) },
  { name: 'concat (x twice)', shape: [2, 3], f: (x, g) => op.concat([c(g, [1, 3], 14), x, op.mul(x, x)], 0) },
  { name: 'slice', shape: [3, 5], f: (x) => op.slice(x, 1, 1, 4) },
  { name: 'expand', shape: [1, 3], f: (x, g) => op.expand(x, g.ints([4, 3]), [4, 3]) },
  { name: 'gather with repeats', shape: [5, 3], f: (x, g) => op.gather(x, g.constant([2, 0, 2, 4], 'int64', [4])) },
  // The model's ids are int32; ScatterND, the gradient's scatter, reads int64 indices only.
  { name: 'gather with int32 ids', shape: [5, 3], f: (x, g) => op.gather(x, g.constant([2, 0, 2, 4], 'int32', [4])) },
  { name: 'reduceSum keepdims', shape: [2, 3, 4], f: (x) => op.reduceSum(x, [1], true) },
  { name: 'reduceSum drop axes', shape: [2, 3, 4], f: (x) => op.reduceSum(x, [0, 2], false) },
  { name: 'reduceMean', shape: [2, 3, 4], f: (x) => op.reduceMean(x, [-1], true) },
  { name: 'reduceMean drop', shape: [2, 3, 4], f: (x) => op.reduceMean(x, [1], false) },
  { name: 'softmax', shape: [2, 5], f: (x) => op.softmax(x) },
  { name: 'logSoftmax', shape: [2, 5], f: (x) => op.logSoftmax(x) },
  { name: 'logSumExp', shape: [3, 5], f: (x) => op.logSumExp(x) },
  { name: 'rmsNorm', shape: [2, 6], f: (x, g) => op.rmsNorm(x, c(g, [6], 15, 0.5, 1.5), 1e-6) },
  { name: 'gelu (tanh)', shape: [2, 5], f: (x) => op.geluTanh(x) },
  { name: 'gated gelu (gate)', shape: [2, 5], f: (x, g) => op.gatedGelu(x, c(g, [2, 5], 16)) },
  { name: 'gated gelu (up)', shape: [2, 5], f: (x, g) => op.gatedGelu(c(g, [2, 5], 17), x) },
  { name: 'gated gelu (both)', shape: [2, 5], f: (x) => op.gatedGelu(x, op.mul(x, x)) },
  { name: 'cross-entropy', shape: [3, 6], f: (x, g) => op.crossEntropy(x, g.constant([5, 0, 2], 'int64', [3, 1])).loss },
  { name: 'cross-entropy with int32 labels', shape: [3, 6], f: (x, g) => op.crossEntropy(x, g.constant([5, 0, 2], 'int32', [3, 1])).loss },
  {
    name: 'cross-entropy with z-loss',
    shape: [3, 6],
    f: (x, g) => op.crossEntropy(x, g.constant([5, 0, 2], 'int64', [3, 1]), g.scalar(1e-4)).loss,
  },
  {
    // As the training graph takes it: logits x Wᵀ, and the label's logit apart as x · W[label] (labelLogit).
    name: 'cross-entropy with the label logit taken apart',
    shape: [3, 4],
    f: (x, g) => {
      const w = c(g, [6, 4], 18);
      const labels = g.constant([5, 0, 2], 'int32', [3, 1]);
      const picked = op.reduceSum(op.mul(x, op.reshape(op.gather(w, labels), [-1, 4], x.shape)), [-1], true);
      return op.crossEntropy(op.linear(x, w), labels, g.scalar(1e-4), picked).loss;
    },
  },
];

describe('every op’s vector-Jacobian product matches central finite differences (float64)', () => {
  for (const k of cases) {
    it(k.name, async () => {
      const n = k.shape.reduce((a, b) => a * b, 1);
      const result = await gradCheck(k.shape, k.f, { x: k.x?.(n) });
      expect(result.maxRelError).toBeLessThan(1e-6);
      expect(Math.max(...Array.from(result.analytic, Math.abs))).toBeGreaterThan(0);
    });
  }
});

describe('autodiff bookkeeping', () => {
  it("joins splitRows' block gradients with one Concat, not a zero-padded copy of x per block", async () => {
    const { Graph } = await import('../../main/graph/builder.js');
    const g = new Graph('t', 'float64');
    const x = g.input('x', 'float64', ['N', 4], { requiresGrad: true });
    const loss = op.reduceSum(
      op.concat(
        op.splitRows(x, 4).map((b) => op.mul(b, b)),
        0,
      ),
      [0, 1],
      false,
    );
    const before = g.nodes.length;
    g.backward(loss, [x]);
    const backward = g.nodes.slice(before).map((n) => n.opType);
    expect(backward.filter((t) => t === 'Pad')).toEqual([]);
    expect(backward.filter((t) => t === 'Concat')).toEqual(['Concat']);
  });

  it('builds no gradient nodes for values that do not depend on the differentiated input', async () => {
    const { Graph } = await import('../../main/graph/builder.js');
    const g = new Graph('t', 'float64');
    const x = g.input('x', 'float64', [3], { requiresGrad: true });
    const frozen = op.tanh(op.mul(c(g, [3], 1), c(g, [3], 2)));
    const before = g.nodes.length;
    const loss = op.reduceSum(op.mul(x, frozen), [0], false);
    g.backward(loss, [x]);
    const tanhNodes = g.nodes.slice(before).filter((n) => n.opType === 'Tanh');
    expect(frozen.requiresGrad).toBe(false);
    expect(tanhNodes).toHaveLength(0);
  });

  it('fails loudly, naming the op, when a value on the gradient path meets an op without a rule', async () => {
    const { Graph } = await import('../../main/graph/builder.js');
    const g = new Graph('t', 'float64');
    const x = g.input('x', 'float64', [3], { requiresGrad: true });
    expect(() => g.emitRaw('Erf', [x], {}, [3], 'float64')).toThrow(/Erf has no gradient rule/);
  });
});

describe('ops without a gradient (indexing, attributes)', () => {
  /** Runs one graph output built from a constant [2, 3, 4] tensor x (values 0..23 shuffled by a fixed permutation). */
  async function run(f: (x: Tensor, g: Graph) => Tensor): Promise<{ data: number[]; dims: readonly number[] }> {
    const { Graph } = await import('../../main/graph/builder.js');
    const { createSession } = await import('../../main/runtime/session.js');
    const g = new Graph('t', 'float64');
    g.output(f(g.constant(X, 'float64', [2, 3, 4]), g), 'y');
    const session = await createSession(g.encode(), { threads: 1 });
    const y = (await session.run({})).y;
    await session.release();
    return { data: Array.from(y.data as ArrayLike<number | bigint>, Number), dims: y.dims };
  }
  // x[i][j][k] = X[12 i + 4 j + k]
  const X = Array.from({ length: 24 }, (_, i) => (i * 7) % 24);
  const x = (i: number, j: number, k: number) => X[12 * i + 4 * j + k];

  it('at picks one position along an axis, counting from the end when negative', async () => {
    const last = await run((t) => op.at(t, 1, -1)); // [2, 4]
    expect(last.dims).toEqual([2, 4]);
    expect(last.data).toEqual([0, 1].flatMap((i) => [0, 1, 2, 3].map((k) => x(i, 2, k))));
  });

  it('take gathers along any axis, the axis replaced by the ids’ dims (int32 ids, as the model feeds)', async () => {
    const out = await run((t, g) => op.take(t, g.constant([3, 0, 3], 'int32', [3]), 2)); // [2, 3, 3]
    expect(out.dims).toEqual([2, 3, 3]);
    expect(out.data).toEqual([0, 1].flatMap((i) => [0, 1, 2].flatMap((j) => [3, 0, 3].map((k) => x(i, j, k)))));
  });

  it('argmax gives the first largest position as int64, the axis dropped', async () => {
    const out = await run((t) => op.argmax(t, -1)); // [2, 3]
    const expected = [0, 1].flatMap((i) =>
      [0, 1, 2].map((j) => {
        const row = [0, 1, 2, 3].map((k) => x(i, j, k));
        return row.indexOf(Math.max(...row));
      }),
    );
    expect(out.dims).toEqual([2, 3]);
    expect(out.data).toEqual(expected);
    const tie = await run((_, g) => op.argmax(g.constant([1, 3, 3, 0], 'float64', [1, 4]), 1));
    expect(tie.data).toEqual([1]);
  });

  it('attrs turns plain values into ONNX attributes and refuses a fraction', () => {
    expect(op.attrs({ axis: -1, perm: [1, 0], reduction: 'add' })).toEqual({
      axis: { kind: 'int', value: -1 },
      perm: { kind: 'ints', value: [1, 0] },
      reduction: { kind: 'string', value: 'add' },
    });
    expect(() => op.attrs({ axis: 0.5 })).toThrow(/axis takes a whole number/);
  });

  it('take refuses a value on the gradient path, as every op without a rule does', async () => {
    const { Graph } = await import('../../main/graph/builder.js');
    const g = new Graph('t', 'float64');
    const v = g.input('v', 'float64', [3, 2], { requiresGrad: true });
    expect(() => op.take(v, g.constant([0], 'int32', [1]), 1)).toThrow(/Gather has no gradient rule/);
  });
});
