import { randomUUID } from 'node:crypto';
import { SproutError } from '../errors.js';
import type { WeightWidth } from '../weights/width.js';
import { writeTransaction, type LibraryDb } from './db.js';

export type RunStatus = 'queued' | 'running' | 'paused' | 'cancelled' | 'failed' | 'done';

/** One training run: its configuration, where it stands, its last checkpoint and how long things took. */
export interface RunRecord {
  id: number;
  uid: string;
  taskId: number | null;
  modelId: string | null;
  modelPath: string | null;
  config: Record<string, unknown>;
  status: RunStatus;
  step: number;
  plannedSteps: number | null;
  checkpointPath: string | null;
  /** Execution provider in use (cpu, cuda, …). */
  provider: string | null;
  /** Width of the frozen weights the run trains with (resolved, never auto); null until it starts. */
  weights: WeightWidth | null;
  /** Named durations in seconds (e.g. total, eval, tokenize). */
  timings: Record<string, number>;
  error: string | null;
  created: string;
  updated: string;
}

export interface NewRun {
  taskId?: number | null;
  modelId?: string | null;
  modelPath?: string | null;
  config: Record<string, unknown>;
  status?: RunStatus;
  plannedSteps?: number | null;
  provider?: string | null;
}

export type RunUpdate = Partial<
  Pick<RunRecord, 'status' | 'step' | 'plannedSteps' | 'checkpointPath' | 'provider' | 'weights' | 'timings' | 'error'>
>;

export interface RunMetric {
  step: number;
  loss: number | null;
  /** Validation metrics at this step (exact match, accuracy, F1, …); null for a training-loss-only point. */
  eval: Record<string, unknown> | null;
}

interface Row {
  id: number;
  uid: string;
  task_id: number | null;
  model_id: string | null;
  model_path: string | null;
  config: string;
  status: RunStatus;
  step: number;
  planned_steps: number | null;
  checkpoint_path: string | null;
  provider: string | null;
  weights: WeightWidth | null;
  timings: string;
  error: string | null;
  created: string;
  updated: string;
}

function fromRow(r: Row): RunRecord {
  return {
    id: r.id,
    uid: r.uid,
    taskId: r.task_id,
    modelId: r.model_id,
    modelPath: r.model_path,
    config: JSON.parse(r.config) as Record<string, unknown>,
    status: r.status,
    step: r.step,
    plannedSteps: r.planned_steps,
    checkpointPath: r.checkpoint_path,
    provider: r.provider,
    weights: r.weights,
    timings: JSON.parse(r.timings) as Record<string, number>,
    error: r.error,
    created: r.created,
    updated: r.updated,
  };
}

export function createRun(db: LibraryDb, run: NewRun): RunRecord {
  const now = new Date().toISOString();
  const id = writeTransaction(db, () =>
    Number(
      db
        .prepare(
          `INSERT INTO runs (uid, task_id, model_id, model_path, config, status, step, planned_steps, provider, timings, created, updated)
           VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, '{}', ?, ?)`,
        )
        .run(
          randomUUID(),
          run.taskId ?? null,
          run.modelId ?? null,
          run.modelPath ?? null,
          JSON.stringify(run.config),
          run.status ?? 'queued',
          run.plannedSteps ?? null,
          run.provider ?? null,
          now,
          now,
        ).lastInsertRowid,
    ),
  );
  return requireRun(db, id);
}

const COLUMNS: Record<keyof RunUpdate, string> = {
  status: 'status',
  step: 'step',
  plannedSteps: 'planned_steps',
  checkpointPath: 'checkpoint_path',
  provider: 'provider',
  weights: 'weights',
  timings: 'timings',
  error: 'error',
};

/** Changes the given fields of a run (and its `updated` time) in one transaction. */
export function updateRun(db: LibraryDb, id: number, update: RunUpdate): RunRecord {
  const sets: string[] = ['updated = @updated'];
  const values: Record<string, unknown> = { id, updated: new Date().toISOString() };
  for (const [key, column] of Object.entries(COLUMNS) as [keyof RunUpdate, string][]) {
    if (update[key] === undefined) continue;
    sets.push(`${column} = @${key}`);
    values[key] = key === 'timings' ? JSON.stringify(update[key]) : update[key];
  }
  writeTransaction(db, () => {
    if (db.prepare(`UPDATE runs SET ${sets.join(', ')} WHERE id = @id`).run(values).changes === 0) throw notFound(id);
  });
  return requireRun(db, id);
}

/** Records the loss and/or evaluation at a step; a second record for the same step replaces the first. */
export function recordRunMetric(db: LibraryDb, runId: number, metric: RunMetric): void {
  writeTransaction(db, () => {
    db.prepare('INSERT OR REPLACE INTO run_metrics (run_id, step, loss, eval, recorded) VALUES (?, ?, ?, ?, ?)').run(
      runId,
      metric.step,
      metric.loss,
      metric.eval && JSON.stringify(metric.eval),
      new Date().toISOString(),
    );
  });
}

export function runMetrics(db: LibraryDb, runId: number): RunMetric[] {
  const rows = db.prepare('SELECT step, loss, eval FROM run_metrics WHERE run_id = ? ORDER BY step').all(runId) as {
    step: number;
    loss: number | null;
    eval: string | null;
  }[];
  return rows.map((r) => ({ step: r.step, loss: r.loss, eval: r.eval === null ? null : (JSON.parse(r.eval) as Record<string, unknown>) }));
}

export function getRun(db: LibraryDb, id: number): RunRecord | undefined {
  const row = db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as Row | undefined;
  return row && fromRow(row);
}

function notFound(id: number): SproutError {
  return new SproutError('run-not-found', `There is no run ${id} in the library.`);
}

export function requireRun(db: LibraryDb, id: number): RunRecord {
  const run = getRun(db, id);
  if (!run) throw notFound(id);
  return run;
}

export function listRuns(db: LibraryDb, filter: { status?: RunStatus; taskId?: number } = {}): RunRecord[] {
  const rows = db
    .prepare('SELECT * FROM runs WHERE (@status IS NULL OR status = @status) AND (@taskId IS NULL OR task_id = @taskId) ORDER BY id')
    .all({ status: filter.status ?? null, taskId: filter.taskId ?? null }) as Row[];
  return rows.map(fromRow);
}
