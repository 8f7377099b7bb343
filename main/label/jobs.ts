/**
 * The label_jobs and label_rows tables. A job's progress moves only through `commitChunk`, one transaction that
 * records the rows handled, the output file's durable length and the running totals together with the rows
 * themselves, so the database never claims output the file does not hold.
 */
import { randomUUID } from 'node:crypto';
import type { SourceRecord } from '../data/types.js';
import { dataDirOf, writeTransaction, type LibraryDb } from '../library/db.js';
import type { WriterTarget } from '../writer-lock.js';
import type { AddedValue } from './encode.js';
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
  /** The finished output as the job left it; null until the job is done (and for jobs from before seals). */
  outputSeal: OutputSeal | null;
  /** Who replaced the output file with the person's consent; null while the job still owns it. */
  outputReplaced: OutputReplaced | null;
  created: string;
  updated: string;
}

/** Length, mtime and sha256 of a finished output file: what the job wrote there. */
export interface OutputSeal {
  bytes: number;
  mtimeMs: number;
  sha256: string;
}

export interface OutputReplaced {
  /** The labelling job whose output (`labelled`) or export (`exported`) now fills the file. */
  jobId: string;
  how: 'labelled' | 'exported';
  at: string;
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
  /** Every value the job wrote after the input's columns, in output order; null for rows of jobs from before it was kept. */
  added: AddedValue[] | null;
  /** JSON inputs: the input's values as the file typed them (written back to JSON Lines). */
  values: Record<string, unknown> | null;
}

/** A row as the labeller produces it, before its written values are attached for the library. */
export type ScoredRow = Omit<LabelRow, 'added' | 'values'>;

/** A source row before the model has said anything about it (or skipped with `skippedReason`). */
export function unscoredRow(row: number, record: SourceRecord, skippedReason: string | null = null): ScoredRow {
  return {
    row,
    line: record.line,
    fields: { ...record.fields },
    predicted: null,
    confidence: null,
    margin: null,
    skippedReason,
    corrected: null,
  };
}

interface JobRow {
  id: string;
  status: LabelJobStatus;
  spec: string;
  rows_done: number;
  output_bytes: number;
  stats: string;
  error: string | null;
  output_seal: string | null;
  output_replaced: string | null;
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
  outputSeal: r.output_seal === null ? null : (JSON.parse(r.output_seal) as OutputSeal),
  outputReplaced: r.output_replaced === null ? null : (JSON.parse(r.output_replaced) as OutputReplaced),
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
  db.prepare(
    `INSERT INTO label_jobs (id, status, spec, rows_done, output_bytes, stats, created, updated) VALUES (?, 'running', ?, 0, ?, ?, ?, ?)`,
  ).run(id, JSON.stringify(spec), outputBytes, JSON.stringify(stats), now, now);
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

/** Marks the job done with the seal of its finished output. */
export function finishJob(db: LibraryDb, id: string, seal: OutputSeal): void {
  db.prepare("UPDATE label_jobs SET status = 'done', error = NULL, output_seal = ?, updated = ? WHERE id = ?").run(
    JSON.stringify(seal),
    new Date().toISOString(),
    id,
  );
}

/** A seal found intact again after the file's mtime moved (opened and saved unchanged): remember the new mtime. */
export function resealOutput(db: LibraryDb, id: string, seal: OutputSeal): void {
  db.prepare('UPDATE label_jobs SET output_seal = ? WHERE id = ?').run(JSON.stringify(seal), id);
}

/** Records that the jobs' output was replaced by another job's labels or export, with the person's consent. */
export function markOutputReplaced(db: LibraryDb, jobIds: readonly string[], by: Omit<OutputReplaced, 'at'>): void {
  const replaced = JSON.stringify({ ...by, at: new Date().toISOString() });
  const update = db.prepare('UPDATE label_jobs SET output_replaced = ? WHERE id = ?');
  writeTransaction(db, () => jobIds.forEach((id) => update.run(replaced, id)));
}

/** Forgets a job and its rows (the output file is not touched); returns whether it existed. */
export function deleteJob(db: LibraryDb, id: string): boolean {
  return db.prepare('DELETE FROM label_jobs WHERE id = ?').run(id).changes > 0;
}

/** The commit point of the protocol: call only after the output up to `outputBytes` is fsynced. */
export function commitChunk(
  db: LibraryDb,
  id: string,
  rowsDone: number,
  outputBytes: number,
  stats: LabelStats,
  rows: readonly LabelRow[],
): void {
  const insert = db.prepare(
    `INSERT INTO label_rows (job_id, row, line, fields, predicted, confidence, margin, skipped_reason, added, input_values)` +
      ` VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const json = (v: unknown) => (v === null ? null : JSON.stringify(v));
  writeTransaction(db, () => {
    for (const r of rows)
      insert.run(
        id,
        r.row,
        r.line,
        JSON.stringify(r.fields),
        r.predicted,
        r.confidence,
        r.margin,
        r.skippedReason,
        json(r.added),
        json(r.values),
      );
    db.prepare('UPDATE label_jobs SET rows_done = ?, output_bytes = ?, stats = ?, updated = ? WHERE id = ?').run(
      rowsDone,
      outputBytes,
      JSON.stringify(stats),
      new Date().toISOString(),
      id,
    );
  });
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
  added: string | null;
  input_values: string | null;
}

/** A job's rows in input order, read from the library as they are needed. */
export function* jobRows(db: LibraryDb, id: string): Generator<LabelRow> {
  for (const r of db.prepare('SELECT * FROM label_rows WHERE job_id = ? ORDER BY row').iterate(id) as Iterable<StoredRow>)
    yield fromStoredRow(r);
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
  added: r.added === null ? null : (JSON.parse(r.added) as AddedValue[]),
  values: r.input_values === null ? null : (JSON.parse(r.input_values) as Record<string, unknown>),
});
