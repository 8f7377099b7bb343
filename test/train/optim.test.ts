import { describe, expect, it } from 'vitest';
import { Adafactor, Adam, createOptimizer } from '../../main/train/optim/index.js';

/** Deterministic pseudo-random values in [-scale, scale). */
function values(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 2 * scale;
  });
}

/** Parameters are float32 near 1, so one float32 rounding of a value ≤ 1 (6e-8) sets the absolute floor. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel = 2e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(2e-7 + rel * Math.abs(expected[i]));
  }
}

/**
 * Adafactor from Shazeer & Stern 2018, Algorithm 4 (factored, no momentum) with the paper's row and column *sums*
 * and V̂ = R·C / (1ᵀR), plus update clipping (Algorithm 4 line 9: U / max(1, RMS(U)/d)) and decoupled weight
 * decay applied before the update as in Hugging Face's code. Plain arrays of numbers, matrices as number[][].
 */
function referenceAdafactor(p0: number[][], grads: number[][][], lr: number, wd: number): number[][] {
  const n = p0.length;
  const m = p0[0].length;
  let p = p0.map((r) => [...r]);
  let R = new Array(n).fill(0);
  let C = new Array(m).fill(0);
  grads.forEach((G, k) => {
    const t = k + 1;
    const beta = 1 - t ** -0.8;
    const sq = G.map((r) => r.map((g) => g * g + 1e-30));
    R = R.map((v, i) => beta * v + (1 - beta) * sq[i].reduce((a, b) => a + b, 0));
    C = C.map((v, j) => beta * v + (1 - beta) * sq.reduce((a, r) => a + r[j], 0));
    const sumR = R.reduce((a, b) => a + b, 0);
    const U = G.map((r, i) => r.map((g, j) => g / Math.sqrt((R[i] * C[j]) / sumR)));
    const rmsU = Math.sqrt(U.flat().reduce((a, u) => a + u * u, 0) / (n * m));
    const clip = Math.max(1, rmsU / 1.0);
    p = p.map((r, i) => r.map((x, j) => x - wd * lr * x - (lr * U[i][j]) / clip));
  });
  return p;
}

/** Adam / AdamW from Kingma & Ba 2015 Algorithm 1 and Loshchilov & Hutter 2019 Algorithm 2, on number[]. */
function referenceAdam(p0: number[], grads: number[][], lr: number, wd: number, decoupled: boolean): number[] {
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  let p = [...p0];
  let m = p.map(() => 0);
  let v = p.map(() => 0);
  grads.forEach((g0, k) => {
    const t = k + 1;
    const g = g0.map((g, i) => (decoupled ? g : g + wd * p[i]));
    m = m.map((x, i) => b1 * x + (1 - b1) * g[i]);
    v = v.map((x, i) => b2 * x + (1 - b2) * g[i] * g[i]);
    p = p.map((x, i) => (decoupled ? x * (1 - lr * wd) : x) - (lr * (m[i] / (1 - b1 ** t))) / (Math.sqrt(v[i] / (1 - b2 ** t)) + eps));
  });
  return p;
}

const rowsOf = (a: Float32Array, n: number, m: number) => Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * m, (i + 1) * m)));

describe('Adafactor', () => {
  it.each([
    { name: 'gradients of scale 1e-3', scale: 1e-3 },
    { name: 'gradients of scale 10', scale: 10 },
  ])('4 steps on a 5×7 matrix match the published rule: $name', ({ scale }) => {
    const [n, m] = [5, 7];
    const p = values(n * m, 1, 0.5);
    const grads = [2, 3, 4, 5].map((s) => values(n * m, s, scale));
    const expected = referenceAdafactor(
      rowsOf(p, n, m),
      grads.map((g) => rowsOf(g, n, m)),
      0.3,
      1e-5,
    );
    const opt = new Adafactor(n, m);
    for (const g of grads) opt.step(p, g);
    expectClose(p, expected.flat());
    expect(opt.state().step).toBe(4);
  });

  it('moves every entry by exactly lr·sign(g) on the first step of a rank-one |g|: beta2_1 = 0 and RMS(update) = 1', () => {
    // |g| = u·vᵀ makes v̂ = g² exactly, so g/√v̂ = sign(g): RMS 1, no clipping, step lr.
    const u = [1, 2, 0.5];
    const v = [3, 1, 2, 0.25];
    const g = Float32Array.from(u.flatMap((a, i) => v.map((b, j) => ((i + j) % 2 ? -1 : 1) * a * b)));
    const p = new Float32Array(12);
    new Adafactor(3, 4, { weightDecay: 0 }).step(p, g);
    expectClose(
      p,
      Array.from(g, (x) => -0.3 * Math.sign(x)),
      1e-6,
    );
  });

  it('applies weight decay 1e-5·lr to the parameter even when the gradient is zero', () => {
    const p = Float32Array.from([1, -2, 3, 4]);
    new Adafactor(2, 2).step(p, new Float32Array(4));
    expectClose(
      p,
      [1, -2, 3, 4].map((x) => x * (1 - 0.3 * 1e-5)),
      1e-7,
    );
  });

  it('continues bitwise identically after its state is saved and loaded into a fresh optimiser', () => {
    const p1 = values(20, 3);
    const a = new Adafactor(4, 5);
    a.step(p1, values(20, 4));
    const p2 = p1.slice();
    const b = new Adafactor(4, 5);
    b.load(a.state());
    a.step(p1, values(20, 5));
    b.step(p2, values(20, 5));
    expect(Buffer.from(p2.buffer).equals(Buffer.from(p1.buffer))).toBe(true);
  });

  it('refuses a state of the wrong shape or kind', () => {
    const s = new Adafactor(4, 5).state();
    expect(() => new Adafactor(5, 5).load(s)).toThrow(/exp_avg_sq_row/);
    expect(() => new Adam('adam', 20).load(s)).toThrow(/adafactor/);
  });
});

describe('Adam and AdamW', () => {
  it.each([
    { kind: 'adam' as const, wd: 0.1 },
    { kind: 'adamw' as const, wd: 0.1 },
    { kind: 'adam' as const, wd: 0 },
  ])('5 steps of $kind (weight decay $wd) match the published rule', ({ kind, wd }) => {
    const p = values(30, 11);
    const grads = [1, 2, 3, 4, 5].map((s) => values(30, 20 + s, 0.5));
    const expected = referenceAdam(
      Array.from(p),
      grads.map((g) => Array.from(g)),
      0.05,
      wd,
      kind === 'adamw',
    );
    const opt = createOptimizer({ kind, lr: 0.05, weightDecay: wd }, 5, 6);
    for (const g of grads) opt.step(p, g);
    expectClose(p, expected, 1e-5);
    expect(opt.learningRate()).toBe(0.05);
  });

  it('continues bitwise identically after save and load', () => {
    const p1 = values(8, 1);
    const a = new Adam('adamw', 8);
    a.step(p1, values(8, 2));
    const p2 = p1.slice();
    const b = new Adam('adamw', 8);
    b.load(a.state());
    a.step(p1, values(8, 3));
    b.step(p2, values(8, 3));
    expect(Array.from(p2)).toEqual(Array.from(p1));
  });
});
