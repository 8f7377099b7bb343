/**
 * What a ranking compares against: the base model (registered or a folder) and the target task's embedding,
 * found among stored prompts when the target task has been trained before.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { readT5Config } from '../checkpoint/checkpoint.js';
import { SproutError } from '../errors.js';
import type { LibraryDb } from '../library/db.js';
import { fromBlob } from '../library/embedding.js';
import { resolveModel } from '../library/models.js';
import { requirePrompt } from '../library/prompts.js';
import type { BaseModel } from './rank.js';
import { sameBaseModel } from './rank.js';
import { recipeOf, sameRecipe, type EmbeddingRecipe } from './recipe.js';
import type { TaskEmbedding } from './similarity.js';

/** A registered model id, or a model folder (registered or not). */
export function resolveBaseModel(db: LibraryDb, model: string): BaseModel {
  const { path, record } = resolveModel(db, model);
  if (record) return { id: record.id, path: record.path, dModel: record.summary.dModel };
  return { id: null, path: resolve(path), dModel: readT5Config(path).dModel };
}

export interface StoredTarget extends TaskEmbedding {
  promptId: number;
  /** Training step the task embedding was taken at; null when the prompt's final values stand in for it. */
  step: number | null;
}

/** A stored target embedding and the seed its run trained with (null when its run's record has none). */
export interface SeededTarget extends StoredTarget {
  seed: number | null;
}

/**
 * The newest `limit` task embeddings of prompts on `base` trained on one of `datasetIds` (probe runs' among them);
 * with `withInit`, only those whose starting point is stored (what the shift metrics need); with `recipe`, only
 * those whose run trained with it and took the embedding at its step.
 */
export function storedTargetEmbeddings(
  db: LibraryDb,
  base: BaseModel,
  datasetIds: number[],
  { withInit = false, limit = 1, recipe }: { withInit?: boolean; limit?: number; recipe?: EmbeddingRecipe } = {},
): SeededTarget[] {
  if (datasetIds.length === 0) return [];
  const rows = db
    .prepare(
      `SELECT p.id, p.model_id, p.model_path, p.length, p.d_model, p.task_embedding, p.task_embedding_step, p.init_embedding,
         r.config
       FROM prompts p JOIN tasks t ON t.id = p.task_id LEFT JOIN runs r ON r.id = p.run_id
       WHERE p.task_embedding IS NOT NULL AND (? = 0 OR p.init_embedding IS NOT NULL) AND p.d_model = ?
         AND t.dataset_id IN (${datasetIds.map(() => '?').join(', ')})
       ORDER BY p.id DESC`,
    )
    .iterate(withInit ? 1 : 0, base.dModel, ...datasetIds) as IterableIterator<{
    id: number;
    model_id: string | null;
    model_path: string | null;
    length: number;
    d_model: number;
    task_embedding: Buffer;
    task_embedding_step: number | null;
    init_embedding: Buffer | null;
    config: string | null;
  }>;
  // Newest first, read only as far as the `limit`th match.
  const found: SeededTarget[] = [];
  for (const row of rows) {
    if (found.length === limit) break;
    if (!sameBaseModel({ id: row.model_id, path: row.model_path, summary: null }, row.d_model, base)) continue;
    const config = row.config === null ? null : (JSON.parse(row.config) as Record<string, unknown>);
    if (recipe) {
      const trained = row.task_embedding_step === null ? null : recipeOf(config, row.task_embedding_step);
      if (trained === null || !sameRecipe(trained, recipe)) continue;
    }
    const seed = config?.seed;
    found.push({
      matrix: { length: row.length, data: fromBlob(row.task_embedding) },
      init: row.init_embedding ? { length: row.length, data: fromBlob(row.init_embedding) } : null,
      promptId: row.id,
      step: row.task_embedding_step,
      seed: Number.isInteger(seed) ? (seed as number) : null,
    });
  }
  return found;
}

/** A prompt's task embedding (or its final values when it has none) as the target. */
export function promptTarget(db: LibraryDb, id: number, base: BaseModel): StoredTarget {
  const p = requirePrompt(db, id);
  if (!sameBaseModel(p.model, p.dModel, base)) {
    throw new SproutError(
      'transfer-model-mismatch',
      `Prompt ${id} was trained on ${p.model.id ?? p.model.path}, not on ${base.id ?? base.path}.`,
      {
        hint: 'Rank against prompts of the same base model.',
      },
    );
  }
  return {
    matrix: { length: p.length, data: p.taskEmbedding ?? p.embedding },
    init: p.initEmbedding && { length: p.length, data: p.initEmbedding },
    promptId: id,
    step: p.taskEmbedding ? p.taskEmbeddingStep : null,
  };
}

/** Imported datasets whose training file has the same content as `file`. */
export async function datasetsWithSource(db: LibraryDb, file: string): Promise<number[]> {
  if (!existsSync(file)) throw new SproutError('file-not-found', 'The data file does not exist.', { file: resolve(file) });
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  const sha = hash.digest('hex');
  return (db.prepare('SELECT id FROM datasets WHERE source_sha256 = ? ORDER BY id').all(sha) as { id: number }[]).map((r) => r.id);
}
