/**
 * How prompts are compared for transfer, each prompt being [length × d] float32 row-major; sums run in float64 and
 * a zero vector has cosine 0 with everything.
 *
 * SPoT (Vu et al. 2021, §3) compares task embeddings as they are, by two cosines: of the mean-pooled tokens
 * (avg-token) and the mean over all token pairs (per-token). Early in training a task embedding is still mostly
 * its initialisation, and prompts initialised alike share most of it: every class-label init of the same seed
 * fills the rows beyond its classes with the same vocabulary rows, every `vocab` init of a seed is the same
 * matrix. Raw cosine then ranks first the source that moved least from that shared start, whatever it learned
 * (measured on mini-t5-instruct, README "Transfer, measured"). The shift metrics compare what each prompt learned
 * instead: its task embedding minus the prompt its own training started from.
 */
export const SIMILARITY_METRICS = {
  'shift-avg-token': {
    of: 'shift',
    pooling: 'avg-token',
    label: 'What each learned, mean token',
    column: 'Learned · mean',
    explains: "cosine of the mean token of each prompt's change from its starting point",
  },
  'shift-per-token': {
    of: 'shift',
    pooling: 'per-token',
    label: 'What each learned, per token',
    column: 'Learned · per token',
    explains: "mean cosine over the token pairs of each prompt's change from its starting point",
  },
  'avg-token': {
    of: 'embedding',
    pooling: 'avg-token',
    label: 'Task embedding, mean token (SPoT)',
    column: 'SPoT · mean',
    explains: 'cosine of the mean tokens of the task embeddings',
  },
  'per-token': {
    of: 'embedding',
    pooling: 'per-token',
    label: 'Task embedding, per token (SPoT)',
    column: 'SPoT · per token',
    explains: 'mean cosine over the token pairs of the task embeddings',
  },
} as const satisfies Record<
  string,
  { of: 'shift' | 'embedding'; pooling: 'avg-token' | 'per-token'; label: string; column: string; explains: string }
>;

export type SimilarityMetric = keyof typeof SIMILARITY_METRICS;
export const SIMILARITY_METRIC_NAMES = Object.keys(SIMILARITY_METRICS) as [SimilarityMetric, ...SimilarityMetric[]];
/** What Sprout ranks by unless told otherwise. */
export const DEFAULT_SIMILARITY_METRIC: SimilarityMetric = 'shift-avg-token';

export interface PromptMatrix {
  length: number;
  data: Float32Array; // [length * d]
}

/** A task embedding and the prompt its training started from (null when that is not known). */
export interface TaskEmbedding {
  matrix: PromptMatrix;
  init: PromptMatrix | null;
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

/** What training changed: the task embedding minus the initial prompt, row by row ([length × d]). */
export function shift(e: TaskEmbedding): PromptMatrix | null {
  if (e.init === null) return null;
  const data = new Float32Array(e.matrix.data.length);
  for (let i = 0; i < data.length; i++) data[i] = e.matrix.data[i] - e.init.data[i];
  return { length: e.matrix.length, data };
}

/** Every metric's value for a pair; a shift metric is null where either side's starting point is unknown. */
export function similarities(a: TaskEmbedding, b: TaskEmbedding, d: number): Record<SimilarityMetric, number | null> {
  const shifts = [shift(a), shift(b)];
  const pooled = { 'avg-token': avgTokenSimilarity, 'per-token': perTokenSimilarity };
  const out = {} as Record<SimilarityMetric, number | null>;
  for (const name of SIMILARITY_METRIC_NAMES) {
    const { of, pooling } = SIMILARITY_METRICS[name];
    const [x, y] = of === 'shift' ? shifts : [a.matrix, b.matrix];
    out[name] = x && y ? pooled[pooling](x, y, d) : null;
  }
  return out;
}

/**
 * How many task embeddings of the target a ranking averages over unless told otherwise (probing for those not
 * stored). On mini-t5-instruct's news targets, eight 100-step probes (seeds 0-7) put the related source first one at
 * a time in 5 of 8 by the default metric; the mean of every 6 consecutive seeds put it first under every metric on
 * both targets, of 4 in 6-8 of 8 (README, "Transfer, measured").
 */
export const DEFAULT_PROBES = 6;
/** More than this costs more probe runs than it settles. */
export const MAX_PROBES = 32;

/**
 * A task compared through several task embeddings of it (probes of other seeds): each metric's mean over them, null
 * where any is null. One 100-step probe moves with its seed as much as with its task (README, "Transfer, measured").
 */
export function meanSimilarities(each: Record<SimilarityMetric, number | null>[]): Record<SimilarityMetric, number | null> {
  const out = {} as Record<SimilarityMetric, number | null>;
  for (const name of SIMILARITY_METRIC_NAMES) {
    const values = each.map((s) => s[name]);
    out[name] = values.some((v) => v === null) ? null : (values as number[]).reduce((a, b) => a + b, 0) / values.length;
  }
  return out;
}
