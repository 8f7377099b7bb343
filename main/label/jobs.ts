/**
 * The label_jobs and label_rows tables. A job's progress moves only through `commitChunk`, one transaction that
 * records the rows handled, the output file's durable length and the running totals together with the rows
 * themselves, so the database never claims output the file does not hold.
 */
import { randomUUID } from 'node:crypto';
import { dataDirOf, type LibraryDb } from '../library/db.js';
import type { WriterTarget } from '../writer-lock.js';
import type { LabelJobSpec, LabelStats } from './types.js';

export type LabelJobStatus = 'running' | 'cancelled' | 'failed' | 'done';

export interface LabelJob {
  id: string;
  status: LabelJobStatus;
  spec: LabelJobSpec;
  rowsDone: number;
  outputBytes: number;
  stats: LabelStats;
  error: string | null;
  created: string;
  updated: string;
}

/** One labelled (or skipped) input record as kept for review. */
export interface LabelRow {
  row: number;
  line: number;
  fields: Record<string, string | null>;
  predicted: string | null;
  confidence: number | null;
  margin: number | null;
  skippedReason: string | null;
  corrected: string | null;
}

interface JobRow {
  id: string;
  status: LabelJobStatus;
  spec: string;
  rows_done: number;
  output_bytes: number;
  stats: string;
  error: string | null;
  created: string;
  updated: string;
}

const fromJobRow = (r: JobRow): LabelJob => ({
  id: r.id,
  status: r.status,
  spec: JSON.parse(r.spec) as LabelJobSpec,
  rowsDone: r.rows_done,
  outputBytes: r.output_bytes,
  stats: JSON.parse(r.stats) as LabelStats,
  error: r.error,
  created: r.created,
  updated: r.updated,
});

/** The job's writer lock (one process labels a job at a time). */
export function jobWriter(db: LibraryDb, id: string): WriterTarget {
  return { dataDir: dataDirOf(db), kind: 'label-job', id };
}

export function newJobId(): string {
  return `label-${randomUUID().slice(0, 8)}`;
}

export function createJob(db: LibraryDb, id: string, spec: LabelJobSpec, stats: LabelStats, outputBytes: number): LabelJob {
  const now = new Date().toISOString();
  db.prepare(`INSERT INTO label_jobs (id, status, spec, rows_done, output_bytes, stats, created, updated) VALUES (?, 'running', ?, 0, ?, ?, ?, ?)`).run(
    id,
    JSON.stringify(spec),
    outputBytes,
    JSON.stringify(stats),
    now,
    now,
  );
  return getJob(db, id)!;
}

export function getJob(db: LibraryDb, id: string): LabelJob | undefined {
  const row = db.prepare('SELECT * FROM label_jobs WHERE id = ?').get(id) as JobRow | undefined;
  return row && fromJobRow(row);
}

export function listJobs(db: LibraryDb): LabelJob[] {
  return (db.prepare('SELECT * FROM label_jobs ORDER BY created DESC, id').all() as JobRow[]).map(fromJobRow);
}

export function setJobStatus(db: LibraryDb, id: string, status: LabelJobStatus, error: string | null = null): void {
  db.prepare('UPDATE label_jobs SET status = ?, error = ?, updated = ? WHERE id = ?').run(status, error, new Date().toISOString(), id);
}

/** Forgets a job and its rows (the output file is not touched); returns whether it existed. */
export function deleteJob(db: LibraryDb, id: string): boolean {
  return db.prepare('DELETE FROM label_jobs WHERE id = ?').run(id).changes > 0;
}

/** The commit point of the protocol: call only after the output up to `outputBytes` is fsynced. */
export function commitChunk(db: LibraryDb, id: string, rowsDone: number, outputBytes: number, stats: LabelStats, rows: readonly LabelRow[]): void {
  const insert = db.prepare(
    `INSERT INTO label_rows (job_id, row, line, fields, predicted, confidence, margin, skipped_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  db.transaction(() => {
    for (const r of rows) insert.run(id, r.row, r.line, JSON.stringify(r.fields), r.predicted, r.confidence, r.margin, r.skippedReason);
    db.prepare('UPDATE label_jobs SET rows_done = ?, output_bytes = ?, stats = ?, updated = ? WHERE id = ?').run(
      rowsDone,
      outputBytes,
      JSON.stringify(stats),
      new Date().toISOString(),
      id,
    );
  })();
}

/** Rows a resumed job is about to redo; a committed job has none, this only guards against a foreign writer. */
export function dropRowsFrom(db: LibraryDb, id: string, row: number): void {
  db.prepare('DELETE FROM label_rows WHERE job_id = ? AND row >= ?').run(id, row);
}

export interface StoredRow {
  row: number;
  line: number;
  fields: string;
  predicted: string | null;
  confidence: number | null;
  margin: number | null;
  skipped_reason: string | null;
  corrected: string | null;
}

export const fromStoredRow = (r: StoredRow): LabelRow => ({
  row: r.row,
  line: r.line,
  fields: JSON.parse(r.fields) as Record<string, string | null>,
  predicted: r.predicted,
  confidence: r.confidence,
  margin: r.margin,
  skippedReason: r.skipped_reason,
  corrected: r.corrected,
});
