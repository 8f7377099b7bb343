/**
 * Export of a finished labelling job with a person's corrections: the job's output as written, the person's label
 * in the predicted-label column where they gave one, and a `label_source` column (person or model; empty for a
 * skipped row). Any output format Sprout writes can be exported to any other; the file is written beside the
 * target under a temporary name and renamed over it only when complete, so a failed export leaves nothing half.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { readRecords } from '../data/read.js';
import type { ReadOptions } from '../data/types.js';
import { SproutError } from '../errors.js';
import type { LibraryDb } from '../library/db.js';
import { addedColumnNames, type AddedColumns } from './columns.js';
import { outputFormatFromName, rowEncoder, type OutputFormat } from './encode.js';
import { parquetColumns } from './job.js';
import { getJob, type LabelJob } from './jobs.js';
import { AppendFile } from './output-file.js';
import { convertPartToParquet } from './parquet.js';
import type { LabelJobSpec } from './types.js';

export interface ExportOptions {
  file: string;
  /** Default: from the file's extension, else CSV. */
  format?: OutputFormat;
  overwrite?: boolean;
}

export interface ExportResult {
  file: string;
  format: OutputFormat;
  rows: number;
  corrected: number;
}

/** How to read a job's own output back: as its encoder wrote it (a CSV is always RFC 4180-quoted). */
export function outputReadOptions(spec: LabelJobSpec): ReadOptions {
  if (spec.format === 'csv') return { format: 'csv', header: true, quoting: 'rfc4180' };
  if (spec.format === 'tsv') return { format: 'tsv', header: true, quoting: spec.tsvQuoting };
  return { format: spec.format };
}

export async function exportCorrected(db: LibraryDb, jobId: string, options: ExportOptions): Promise<ExportResult> {
  const job = getJob(db, jobId);
  if (!job) throw new SproutError('label-unknown-job', `There is no labelling job "${jobId}".`);
  if (job.status !== 'done') {
    throw new SproutError('label-not-done', `Labelling job ${jobId} is ${job.status}; export it once it is done.`, { hint: `Resume it first: sprout label --resume ${jobId}.`, uiHint: 'Resume it to finish the file.' });
  }
  const file = resolve(options.file);
  const spec = job.spec;
  if (!describesColumns(spec.columns)) {
    // The record comes from the library file: an older or damaged one may not say which columns the job wrote.
    throw new SproutError('label-job-damaged', `Labelling job ${jobId}'s record in the library does not say which columns it wrote, so it cannot be exported.`, {
      hint: 'Label the file again as a new job and export that one.',
    });
  }
  if (file === spec.output || file === spec.input) {
    throw new SproutError('label-export-overwrites', "The export would overwrite the job's input or output file.", { file, hint: 'Choose a new file name.' });
  }
  if (!options.overwrite && existsSync(file)) throw new SproutError('file-exists', `${file} already exists.`, { file, hint: 'Choose another name, or pass --overwrite.', uiHint: 'Choose another name.' });
  const format = options.format ?? outputFormatFromName(file) ?? 'csv';
  const corrections = correctionsOf(db, jobId);
  const temporary = `${file}.sprout-partial`;
  const part = format === 'parquet' ? `${temporary}.jsonl` : temporary;
  const out = AppendFile.create(part, true);
  let rows = 0;
  try {
    rows = await writeRows(job, corrections, format, out);
    out.close();
    if (format === 'parquet') await convertPartToParquet(part, temporary, [...parquetColumns(spec), { name: sourceColumnOf(spec), type: 'STRING' }]);
    if (!options.overwrite && existsSync(file)) throw new SproutError('file-exists', `${file} already exists.`, { file, hint: 'Choose another name, or pass --overwrite.', uiHint: 'Choose another name.' });
    renameSync(temporary, file);
  } catch (error) {
    out.close();
    rmSync(part, { force: true });
    rmSync(temporary, { force: true });
    throw error;
  }
  return { file, format, rows, corrected: corrections.size };
}

function correctionsOf(db: LibraryDb, jobId: string): Map<number, string> {
  const rows = db.prepare('SELECT row, corrected FROM label_rows WHERE job_id = ? AND corrected IS NOT NULL').all(jobId) as { row: number; corrected: string }[];
  return new Map(rows.map((c) => [c.row, c.corrected]));
}

function sourceColumnOf(spec: LabelJobSpec): string {
  const columns = [...spec.inputColumns, ...addedColumnNames(spec.columns)];
  let name = 'label_source';
  for (let n = 1; columns.includes(name); n++) name = `label_source_${n}`;
  return name;
}

function describesColumns(c: AddedColumns | undefined): boolean {
  const names = (g: { predicted?: unknown; confidence?: unknown; probs?: unknown } | undefined) =>
    typeof g?.predicted === 'string' && typeof g.confidence === 'string' && Array.isArray(g.probs) && g.probs.every((p) => typeof p === 'string');
  return c !== undefined && typeof c.skipped === 'string' && (c.groups ? Array.isArray(c.groups) && c.groups.every(names) : names(c));
}

/** Streams the job's output into `out` with corrections applied; returns the rows written. */
async function writeRows(job: LabelJob, corrections: Map<number, string>, format: OutputFormat, out: AppendFile): Promise<number> {
  const spec = job.spec;
  const added = addedColumnNames(spec.columns);
  const columns = [...spec.inputColumns, ...added];
  const predicted = spec.columns.predicted;
  const numeric = new Set(parquetColumns(spec).filter((c) => c.type === 'DOUBLE').map((c) => c.name));
  const tsvQuoting = spec.format === 'tsv' ? spec.tsvQuoting : 'rfc4180';
  const encoder = format === 'parquet' ? undefined : rowEncoder(format, columns, [sourceColumnOf(spec)], tsvQuoting);
  if (encoder) out.append(encoder.header());
  let rows = 0;
  for await (const record of readRecords(spec.output, outputReadOptions(spec))) {
    const corrected = corrections.get(rows);
    const source = corrected !== undefined ? 'person' : record.fields[predicted] ? 'model' : null;
    const fields = corrected === undefined ? record.fields : { ...record.fields, [predicted]: corrected };
    if (encoder) {
      // JSON Lines keeps the typed values of a JSON Lines output (numbers stay numbers).
      const values = record.values && (corrected === undefined ? record.values : { ...record.values, [predicted]: corrected });
      out.append(encoder.row(fields, [source], format === 'jsonl' ? (values ?? typed(fields, numeric)) : undefined));
    } else {
      out.append(`${JSON.stringify({ ...typed(fields, numeric), [sourceColumnOf(spec)]: source })}\n`);
    }
    if ((++rows & 0xfff) === 0) out.sync();
  }
  out.sync();
  return rows;
}

/** A row read from CSV/TSV/Parquet with the labeller's numeric columns as numbers again (empty: null). */
function typed(fields: Readonly<Record<string, string | null>>, numeric: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = numeric.has(k) ? (v === null || v === '' ? null : Number(v)) : v;
  return out;
}
