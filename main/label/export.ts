/**
 * Export of a finished labelling job with a person's corrections. Every row keeps the model's prediction and its
 * numbers under their own names (predicted_label, confidence, runner_up, margin, p_<label>, …) and adds the final
 * `label` (the person's where they gave one, else the model's) and `label_source` (person, model, or empty for a
 * skipped row), so no row contradicts itself. The rows come from the library, which keeps every value the job
 * wrote, so an export is right even when the job's output file was since replaced or changed. Any output format
 * can be exported to any other; the file is written beside the target under a temporary name and renamed over it
 * only when complete, so a failed export leaves nothing half.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { readRecords } from '../data/read.js';
import type { ReadOptions } from '../data/types.js';
import { SproutError } from '../errors.js';
import { realTarget } from '../output-path.js';
import type { LibraryDb } from '../library/db.js';
import { addedColumnNames, claimColumns, type AddedColumns } from './columns.js';
import { outputFormatOf, rowEncoder, type AddedValue, type OutputFormat } from './encode.js';
import { outputColumns, sheetOf } from './job.js';
import { getJob, jobRows, markOutputReplaced, type LabelJob } from './jobs.js';
import { AppendFile } from './output-file.js';
import { claimOutput, outputNote, outputState } from './ownership.js';
import { appendedPath, convertPart, isPartFormat } from './part-output.js';
import { checkSheetFits } from './workbook-output.js';
import type { LabelJobSpec, OutputColumn } from './types.js';

export interface ExportOptions {
  file: string;
  /** Default: from the file's extension, else CSV. */
  format?: OutputFormat;
  overwrite?: boolean;
  /** Consent to write over the output of this labelling job (which then no longer owns it). */
  replaceJob?: string;
}

export interface ExportResult {
  file: string;
  format: OutputFormat;
  rows: number;
  /** Rows whose label a person gave (confirming the model's or not). */
  reviewed: number;
  /** Rows whose label a person changed. */
  corrected: number;
}

/** The two columns an export adds after the job's own: the final label and who gave it. */
export interface FinalColumns {
  label: string;
  source: string;
}

/** Names of the final label columns for this job's output (suffixed where the input or the job uses the name). */
export function finalColumns(spec: LabelJobSpec): FinalColumns {
  const [label, source] = claimColumns([...spec.inputColumns, ...addedColumnNames(spec.columns)], ['label', 'label_source']);
  return { label, source };
}

/** How to read a job's own output back: as its encoder wrote it (a CSV is always RFC 4180-quoted). */
export function outputReadOptions(spec: LabelJobSpec): ReadOptions {
  if (spec.format === 'csv') return { format: 'csv', header: true, quoting: 'rfc4180', separator: spec.csvSeparator ?? 'comma' };
  if (spec.format === 'tsv') return { format: 'tsv', header: true, quoting: spec.tsvQuoting };
  if (spec.format === 'xlsx') return { format: 'xlsx', header: true, sheet: sheetOf(spec) };
  return { format: spec.format };
}

export async function exportCorrected(db: LibraryDb, jobId: string, options: ExportOptions): Promise<ExportResult> {
  const job = getJob(db, jobId);
  if (!job) throw new SproutError('label-unknown-job', `There is no labelling job "${jobId}".`);
  if (job.status !== 'done') {
    throw new SproutError('label-not-done', `Labelling job ${jobId} is ${job.status}; export it once it is done.`, {
      hint: `Resume it first: sprout label --resume ${jobId}.`,
      uiHint: 'Resume it to finish the file.',
    });
  }
  const file = resolve(options.file);
  const spec = job.spec;
  if (!describesColumns(spec.columns)) {
    // The record comes from the library file: an older or damaged one may not say which columns the job wrote.
    throw new SproutError(
      'label-job-damaged',
      `Labelling job ${jobId}'s record in the library does not say which columns it wrote, so it cannot be exported.`,
      {
        hint: 'Label the file again as a new job and export that one.',
      },
    );
  }
  // Its output, while it still holds the job's labels (once another job replaced it, that job owns the file).
  const real = realTarget(file);
  if (real === realTarget(spec.input) || (real === realTarget(spec.output) && !job.outputReplaced)) {
    throw new SproutError('label-export-overwrites', "The export would overwrite the job's input or output file.", {
      file,
      hint: 'Choose a new file name.',
    });
  }
  const replaced = claimOutput(db, file, options.replaceJob, 'export');
  // Checked before writing, and again before the rename: the file may have appeared while the rows were written.
  const refuseExisting = () => {
    if (replaced.length || options.overwrite || !existsSync(file)) return;
    throw new SproutError('file-exists', `${file} already exists.`, {
      file,
      hint: 'Choose another name, or pass --overwrite.',
      uiHint: 'Choose another name.',
    });
  };
  refuseExisting();
  const format = outputFormatOf(file, options.format, 'csv');
  const final = finalColumns(spec);
  const columns: OutputColumn[] = [...outputColumns(spec), { name: final.label, type: 'STRING' }, { name: final.source, type: 'STRING' }];
  if (format === 'xlsx') checkSheetFits(job.rowsDone, columns.length, file);
  const rows = rowSource(db, job);
  const temporary = `${file}.sprout-partial`;
  const part = appendedPath(temporary, format);
  const out = AppendFile.create(part, true);
  try {
    const counts = await writeRows(spec, rows, format, out);
    out.close();
    if (isPartFormat(format)) await convertPart(format, part, temporary, columns, sheetOf(spec));
    refuseExisting();
    renameSync(temporary, file);
    markOutputReplaced(
      db,
      replaced.map((j) => j.id),
      { jobId, how: 'exported' },
    );
    return { file, format, ...counts };
  } catch (error) {
    out.close();
    rmSync(part, { force: true });
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** A row to export: the input's values, the values the job wrote after them, and the person's label. */
interface ExportRow {
  fields: Readonly<Record<string, string | null>>;
  values?: Readonly<Record<string, unknown>>;
  added: readonly AddedValue[];
  corrected: string | null;
}

/**
 * The job's rows from the library; a job from before the library kept each row's values is read from its output
 * file instead, which must then still be the job's own.
 */
function rowSource(db: LibraryDb, job: LabelJob): AsyncIterable<ExportRow> | Iterable<ExportRow> {
  const kept = db.prepare('SELECT COUNT(*) AS n FROM label_rows WHERE job_id = ? AND added IS NOT NULL').get(job.id) as { n: number };
  if (kept.n === job.rowsDone) {
    return (function* () {
      for (const r of jobRows(db, job.id))
        yield { fields: r.fields, values: r.values ?? undefined, added: r.added!, corrected: r.corrected };
    })();
  }
  const state = outputState(db, job);
  const trusted = state === 'intact' || (state === 'unsealed' && !isPartFormat(job.spec.format));
  if (!trusted) {
    throw new SproutError(
      'label-output-changed',
      `Labelling job ${job.id} was made by an earlier Sprout, which kept its numbers only in the output file` +
        `, and ${outputNote(job, state) ?? 'that file cannot be checked.'}`,
      {
        file: job.spec.output,
        hint: 'Label the file again as a new job and export that one.',
      },
    );
  }
  return outputFileRows(db, job);
}

async function* outputFileRows(db: LibraryDb, job: LabelJob): AsyncGenerator<ExportRow> {
  const spec = job.spec;
  const corrections = new Map(
    (
      db.prepare('SELECT row, corrected FROM label_rows WHERE job_id = ? AND corrected IS NOT NULL').all(job.id) as {
        row: number;
        corrected: string;
      }[]
    ).map((c) => [c.row, c.corrected]),
  );
  const numeric = new Set(
    outputColumns(spec)
      .filter((c) => c.type === 'DOUBLE')
      .map((c) => c.name),
  );
  const added = addedColumnNames(spec.columns);
  const typed = (name: string, v: string | null | undefined): AddedValue =>
    v === null || v === undefined || v === '' ? null : numeric.has(name) ? Number(v) : v;
  let row = 0;
  for await (const record of readRecords(spec.output, outputReadOptions(spec))) {
    const values = record.values && Object.fromEntries(Object.entries(record.values).filter(([k]) => !added.includes(k)));
    yield { fields: record.fields, values, added: added.map((n) => typed(n, record.fields[n])), corrected: corrections.get(row++) ?? null };
  }
}

/** Streams the rows into `out` with the final label columns; returns the counts of the person's labels. */
async function writeRows(
  spec: LabelJobSpec,
  rows: AsyncIterable<ExportRow> | Iterable<ExportRow>,
  format: OutputFormat,
  out: AppendFile,
): Promise<Omit<ExportResult, 'file' | 'format'>> {
  const added = addedColumnNames(spec.columns);
  const final = finalColumns(spec);
  const predicted = added.indexOf(spec.columns.predicted);
  const tsvQuoting = spec.format === 'tsv' ? spec.tsvQuoting : 'rfc4180';
  const encoder = rowEncoder(format, spec.inputColumns, [...added, final.label, final.source], {
    tsvQuoting,
    byteOrderMark: spec.byteOrderMark,
    csvSeparator: spec.csvSeparator,
  });
  out.append(encoder.header());
  let n = 0;
  let reviewed = 0;
  let corrected = 0;
  for await (const r of rows) {
    const model = r.added[predicted] ?? null;
    const label = r.corrected ?? model;
    const source = r.corrected !== null ? 'person' : model !== null ? 'model' : null;
    if (r.corrected !== null) {
      reviewed++;
      if (r.corrected !== model) corrected++;
    }
    // JSON Lines keeps the typed values of a JSON input (numbers stay numbers).
    out.append(encoder.row(r.fields, [...r.added, label, source], format === 'jsonl' ? r.values : undefined));
    if ((++n & 0xfff) === 0) out.sync();
  }
  out.sync();
  return { rows: n, reviewed, corrected };
}

function describesColumns(c: AddedColumns | undefined): boolean {
  const names = (g: { predicted?: unknown; confidence?: unknown; probs?: unknown } | undefined) =>
    typeof g?.predicted === 'string' &&
    typeof g.confidence === 'string' &&
    Array.isArray(g.probs) &&
    g.probs.every((p) => typeof p === 'string');
  return c !== undefined && typeof c.skipped === 'string' && (c.groups ? Array.isArray(c.groups) && c.groups.every(names) : names(c));
}
