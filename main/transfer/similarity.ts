/**
 * The two prompt similarities SPoT (Vu et al. 2021, §3) reports between task embeddings, each prompt being
 * [length × d] float32 row-major. Sums run in float64. A zero vector has cosine 0 with everything.
 */
export type SimilarityMetric = 'avg-token' | 'per-token';
export const SIMILARITY_METRICS: readonly SimilarityMetric[] = ['avg-token', 'per-token'];

export interface PromptMatrix {
  length: number;
  data: Float32Array; // [length * d]
}

function cosine(a: Float64Array | Float32Array, aOffset: number, b: Float64Array | Float32Array, bOffset: number, d: number): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let k = 0; k < d; k++) {
    const x = a[aOffset + k];
    const y = b[bOffset + k];
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

function meanRow(p: PromptMatrix, d: number): Float64Array {
  const mean = new Float64Array(d); // [d]
  for (let i = 0; i < p.length; i++) for (let k = 0; k < d; k++) mean[k] += p.data[i * d + k];
  for (let k = 0; k < d; k++) mean[k] /= p.length;
  return mean;
}

/** Cosine similarity of the two prompts' mean-pooled tokens. */
export function avgTokenSimilarity(a: PromptMatrix, b: PromptMatrix, d: number): number {
  return cosine(meanRow(a, d), 0, meanRow(b, d), 0, d);
}

/** Mean over all token pairs (i of a, j of b) of their cosine similarity. */
export function perTokenSimilarity(a: PromptMatrix, b: PromptMatrix, d: number): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) sum += cosine(a.data, i * d, b.data, j * d, d);
  return sum / (a.length * b.length);
}
