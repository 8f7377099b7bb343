/**
 * Two principal components of a few hundred vectors, for the library's similarity map. Works on the n × n Gram
 * matrix of the centred rows (n prompts ≪ d_model is the usual case), with power iteration and deflation.
 */

export interface Projection {
  /** [n][2] coordinates, scaled so that the largest absolute coordinate is 1. */
  points: [number, number][];
  /** Each component's share of the total variance. */
  explained: [number, number];
}

function powerIteration(g: Float64Array, n: number, seed: number): { value: number; vector: Float64Array } {
  let v = Float64Array.from({ length: n }, (_, i) => 1 + ((i * 7919 + seed * 104729) % 97) / 97);
  let value = 0;
  for (let iter = 0; iter < 500; iter++) {
    const next = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += g[i * n + j] * v[j];
      next[i] = s;
    }
    const norm = Math.hypot(...next);
    if (norm === 0) return { value: 0, vector: new Float64Array(n) };
    for (let i = 0; i < n; i++) next[i] /= norm;
    const delta = Math.abs(norm - value);
    v = next;
    value = norm;
    if (delta <= 1e-12 * Math.max(1, value)) break;
  }
  return { value, vector: v };
}

/** rows: n vectors of length d. */
export function project2d(rows: Float64Array[]): Projection {
  const n = rows.length;
  if (n === 0) return { points: [], explained: [0, 0] };
  const d = rows[0].length;
  const mean = new Float64Array(d);
  for (const r of rows) for (let k = 0; k < d; k++) mean[k] += r[k] / n;
  const centred = rows.map((r) => r.map((x, k) => x - mean[k]));
  const g = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += centred[i][k] * centred[j][k];
      g[i * n + j] = g[j * n + i] = s;
    }
  }
  let trace = 0;
  for (let i = 0; i < n; i++) trace += g[i * n + i];
  const first = powerIteration(g, n, 1);
  // Deflate: G − λ v vᵀ leaves the second component on top.
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) g[i * n + j] -= first.value * first.vector[i] * first.vector[j];
  const second = powerIteration(g, n, 2);
  // The principal coordinates of row i are √λ · v_i for each component.
  const coords: [number, number][] = Array.from({ length: n }, (_, i) => [
    Math.sqrt(first.value) * first.vector[i],
    Math.sqrt(Math.max(0, second.value)) * second.vector[i],
  ]);
  const scale = Math.max(...coords.flat().map(Math.abs));
  return {
    points: scale > 0 ? coords.map(([x, y]) => [x / scale, y / scale]) : coords,
    explained: trace > 0 ? [first.value / trace, Math.max(0, second.value) / trace] : [0, 0],
  };
}
