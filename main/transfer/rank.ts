/**
 * SPoT transfer-source ranking: score every library prompt trained on the target's base model against the
 * target's task embedding, and the three ways SPoT uses the ranking (single best, best of top-k by trial,
 * top-k weighted average).
 */
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { SproutError } from '../errors.js';
import { writeTransaction, type LibraryDb } from '../library/db.js';
import { fromBlob } from '../library/embedding.js';
import { insertPrompt, NOT_A_PROBE, requirePrompt, type ModelRef } from '../library/prompts.js';
import {
  DEFAULT_SIMILARITY_METRIC,
  meanSimilarities,
  SIMILARITY_METRICS,
  similarities,
  type PromptMatrix,
  type SimilarityMetric,
  type TaskEmbedding,
} from './similarity.js';

/** The base model that ranked prompts must share: matched by library model id, else by folder. */
export interface BaseModel {
  id: string | null;
  path: string | null;
  dModel: number;
}

export interface RankOptions {
  metric?: SimilarityMetric;
  /** Prompts trained on these datasets are the target itself, not transfer sources. */
  excludeDatasetIds?: number[];
  excludePromptIds?: number[];
}

export interface RankedSource {
  id: number;
  name: string;
  /**
   * Every metric's value, the mean over the target's task embeddings; a shift metric is null when the source's (or a
   * target's) starting point is unknown.
   */
  similarity: Record<SimilarityMetric, number | null>;
  /** Every metric's value against each of the target's task embeddings, in their order. */
  byTarget: Record<SimilarityMetric, number | null>[];
  /** The chosen metric's value: the ranking key (null ranks last). */
  score: number | null;
  /** What was compared: the prompt's stored task embedding (SPoT), or its final values when it has none (e.g. PEFT imports). */
  basis: 'task-embedding' | 'prompt';
  taskId: number | null;
  parentId: number | null;
  /** The source's stored metrics record (main/train/run-result.ts): how it did on its own task. */
  metrics: Record<string, unknown>;
}

/**
 * Whether a prompt was trained on `base`: the same registered model, or the same folder on disk (its real path,
 * so a prompt the CLI trained on a symlinked or differently spelt path of the model the app registered matches).
 */
export function sameBaseModel(ref: ModelRef, dModel: number, base: BaseModel): boolean {
  if (dModel !== base.dModel) return false;
  if (base.id !== null && ref.id !== null && ref.id === base.id) return true;
  return base.path !== null && ref.path !== null && realFolder(ref.path) === realFolder(base.path);
}

function realFolder(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

interface CandidateRow {
  id: number;
  name: string;
  model_id: string | null;
  model_path: string | null;
  length: number;
  d_model: number;
  task_id: number | null;
  parent_id: number | null;
  embedding: Buffer;
  task_embedding: Buffer | null;
  init_embedding: Buffer | null;
  metrics: string;
}

/** What sameBaseModel reads of a prompt; a count needs no more (a ranking reads the prompts' embeddings besides). */
type BaseColumns = Pick<CandidateRow, 'id' | 'model_id' | 'model_path' | 'd_model'>;
const BASE_COLUMNS = 'p.id, p.model_id, p.model_path, p.d_model';
const RANK_COLUMNS = `${BASE_COLUMNS}, p.name, p.length, p.task_id, p.parent_id, p.embedding, p.task_embedding, p.init_embedding, p.metrics`;

/** Library prompts on `base` that are transfer sources for a target (not probes, not of its datasets, not excluded). */
function candidates<Row extends BaseColumns>(db: LibraryDb, base: BaseModel, options: RankOptions, columns: string): Row[] {
  const excluded = new Set(options.excludePromptIds ?? []);
  const datasets = options.excludeDatasetIds ?? [];
  const rows = db
    .prepare(
      `SELECT ${columns}
       FROM prompts p LEFT JOIN tasks t ON t.id = p.task_id
       WHERE p.d_model = ? AND ${NOT_A_PROBE} AND (t.dataset_id IS NULL OR t.dataset_id NOT IN (${datasets.map(() => '?').join(', ')})) ORDER BY p.id`,
    )
    .all(base.dModel, ...datasets) as Row[];
  return rows.filter((r) => !excluded.has(r.id) && sameBaseModel({ id: r.model_id, path: r.model_path, summary: null }, r.d_model, base));
}

/** How many library prompts a ranking with these options would score: none means there is nothing to probe for. */
export function countSources(db: LibraryDb, base: BaseModel, options: RankOptions = {}): number {
  return candidates(db, base, options, BASE_COLUMNS).length;
}

/**
 * Ranks library prompts on `base` by their mean similarity to the target's task embeddings (best first, prompts
 * without a score last; ties by id).
 */
export function rankSources(db: LibraryDb, targets: TaskEmbedding[], base: BaseModel, options: RankOptions = {}): RankedSource[] {
  const metric = options.metric ?? DEFAULT_SIMILARITY_METRIC;
  const d = base.dModel;
  if (targets.length === 0) throw new SproutError('bad-task-embedding', 'The target task has no task embedding to compare.');
  for (const m of targets.flatMap((t) => [t.matrix, t.init])) {
    if (m && (m.length < 1 || m.data.length !== m.length * d)) {
      throw new SproutError('bad-task-embedding', `The target task embedding has ${m.data.length} values, not ${m.length} × ${d}.`);
    }
  }
  if (SIMILARITY_METRICS[metric].of === 'shift' && targets.some((t) => t.init === null)) {
    throw new SproutError(
      'no-initial-prompt',
      `The target's starting point is not stored, so what it learned cannot be compared by ${metric}.`,
      {
        hint: "Rank by avg-token or per-token (SPoT's cosines of the task embeddings as they are).",
      },
    );
  }
  const ranked: RankedSource[] = [];
  for (const r of candidates<CandidateRow>(db, base, options, RANK_COLUMNS)) {
    const source: TaskEmbedding = {
      matrix: { length: r.length, data: fromBlob(r.task_embedding ?? r.embedding) },
      init: r.init_embedding ? { length: r.length, data: fromBlob(r.init_embedding) } : null,
    };
    const byTarget = targets.map((t) => similarities(t, source, d));
    const similarity = meanSimilarities(byTarget);
    ranked.push({
      id: r.id,
      name: r.name,
      similarity,
      byTarget,
      score: similarity[metric],
      basis: r.task_embedding ? 'task-embedding' : 'prompt',
      taskId: r.task_id,
      parentId: r.parent_id,
      metrics: JSON.parse(r.metrics) as Record<string, unknown>,
    });
  }
  return ranked.sort((a, b) => (b.score ?? -Infinity) - (a.score ?? -Infinity) || a.id - b.id);
}

/** How many of the best-ranked sources trial runs and the weighted mix use unless told (SPoT's k). */
export const DEFAULT_TOP_K = 3;

/** SPoT's top-k weights α_r = sim_r / Σ sim over the k best; sources with a similarity ≤ 0 are left out. */
export function mixWeights(ranked: RankedSource[], k: number): { id: number; weight: number }[] {
  const top = ranked.slice(0, k).filter((r): r is RankedSource & { score: number } => r.score !== null && r.score > 0);
  if (top.length === 0) {
    throw new SproutError('no-transfer-source', 'No library prompt on this base model has a positive similarity to the target task.', {
      hint: 'Train from a fresh initialisation (--init vocab) instead.',
    });
  }
  const total = top.reduce((s, r) => s + r.score, 0);
  return top.map((r) => ({ id: r.id, weight: r.score / total }));
}

/**
 * Σ α_r · prompt_r over the sources' final prompts, [length × d]. Row i averages the sources that have a row i,
 * with their weights renormalised over those sources, so that sources of different lengths can be mixed.
 */
export function mixPrompts(sources: { weight: number; length: number; data: Float32Array }[], d: number): PromptMatrix {
  const length = Math.max(...sources.map((s) => s.length));
  const data = new Float32Array(length * d);
  const row = new Float64Array(d);
  for (let i = 0; i < length; i++) {
    row.fill(0);
    let total = 0;
    for (const s of sources) {
      if (i >= s.length) continue;
      total += s.weight;
      for (let k = 0; k < d; k++) row[k] += s.weight * s.data[i * d + k];
    }
    for (let k = 0; k < d; k++) data[i * d + k] = row[k] / total;
  }
  return { length, data };
}

/** Stores the top-k weighted average as a new library prompt (init `mix:<id>=<weight>,…`, parent the best source). */
export function insertMixedPrompt(
  db: LibraryDb,
  ranked: RankedSource[],
  k: number,
  name?: string,
): { id: number; weights: { id: number; weight: number }[] } {
  const weights = mixWeights(ranked, k);
  return writeTransaction(db, () => {
    const sources = weights.map((w) => ({ ...w, prompt: requirePrompt(db, w.id) }));
    const best = sources[0].prompt;
    const mixed = mixPrompts(
      sources.map((s) => ({ weight: s.weight, length: s.prompt.length, data: s.prompt.embedding })),
      best.dModel,
    );
    const id = insertPrompt(db, {
      name: name ?? `mix of ${weights.map((w) => w.id).join(', ')}`,
      model: best.model,
      length: mixed.length,
      dModel: best.dModel,
      embedding: mixed.data,
      init: `mix:${weights.map((w) => `${w.id}=${w.weight.toPrecision(6)}`).join(',')}`,
      parentId: best.id,
      notes: `Top-${k} weighted average (SPoT) of prompts ${weights.map((w) => `${w.id} (α ${w.weight.toFixed(3)})`).join(', ')}.`,
    });
    return { id, weights };
  });
}
