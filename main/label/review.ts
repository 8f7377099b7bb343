/**
 * Review of a labelling job for the app: its labelled rows lowest confidence first, corrections by a person, and the
 * corrected rows saved back as a new dataset for the next round of training.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { parseTemplate, renderTemplate } from '../data/template.js';
import { splitByUniqueText } from '../data/split.js';
import { SproutError } from '../errors.js';
import type { LibraryDb } from '../library/db.js';
import { duplicateTextGroups, finishDataset, insertDataset, labelCountsBySplit, moveRowsToSplit, rowInserter, splitCounts } from '../library/datasets.js';
import { fromStoredRow, getJob, type LabelJob, type StoredRow } from './jobs.js';

export interface ReviewRow {
  /** 0-based record index in the input, and the line it starts on. */
  row: number;
  line: number;
  /** The text the model read. */
  text: string;
  predicted: string;
  confidence: number;
  margin: number | null;
  /** The person's label, when they gave one (equal to `predicted` when they confirmed it). */
  corrected: string | null;
  /** The input's gold label, when the job was given a gold column. */
  gold: string | null;
}

export interface ReviewPage {
  /** Labelled rows in the job (skipped rows are not reviewed), or uncorrected ones with `uncorrectedOnly`. */
  total: number;
  rows: ReviewRow[];
}

function requireJob(db: LibraryDb, jobId: string): LabelJob {
  const job = getJob(db, jobId);
  if (!job) throw new SproutError('label-unknown-job', `There is no labelling job "${jobId}".`);
  return job;
}

/** Which labelled rows a review page shows. */
export interface ReviewFilter {
  /** Only rows no one has corrected yet. */
  uncorrectedOnly?: boolean;
  /** Only rows predicted as this label. */
  predicted?: string;
  /** Confidence range, inclusive. */
  minConfidence?: number;
  maxConfidence?: number;
  /** Only rows whose text (as the model read it) contains this, ignoring case. */
  search?: string;
}

/** One page of labelled rows, lowest confidence first (ties in input order). */
export function listReviewRows(db: LibraryDb, jobId: string, page: ReviewFilter & { offset?: number; limit?: number } = {}): ReviewPage {
  const job = requireJob(db, jobId);
  const offset = page.offset ?? 0;
  const limit = page.limit ?? 50;
  if (!(Number.isInteger(offset) && offset >= 0 && Number.isInteger(limit) && limit >= 1 && limit <= 10_000)) {
    throw new RangeError(`a review page needs offset ≥ 0 and 1 ≤ limit ≤ 10000, got ${offset}, ${limit}`);
  }
  const conditions = ['job_id = ?', 'predicted IS NOT NULL'];
  const params: unknown[] = [jobId];
  if (page.uncorrectedOnly) conditions.push('corrected IS NULL');
  if (page.predicted !== undefined) conditions.push('predicted = ?'), params.push(page.predicted);
  if (page.minConfidence !== undefined) conditions.push('confidence >= ?'), params.push(page.minConfidence);
  if (page.maxConfidence !== undefined) conditions.push('confidence <= ?'), params.push(page.maxConfidence);
  const where = conditions.join(' AND ');
  const template = parseTemplate(job.spec.template);
  const toReview = (stored: StoredRow) => reviewRowOf(job, stored, template);
  const select = `SELECT * FROM label_rows WHERE ${where} ORDER BY confidence, row`;
  const needle = page.search?.trim().toLowerCase();
  if (!needle) {
    const total = (db.prepare(`SELECT COUNT(*) AS n FROM label_rows WHERE ${where}`).get(...params) as { n: number }).n;
    const stored = db.prepare(`${select} LIMIT ? OFFSET ?`).all(...params, limit, offset) as StoredRow[];
    return { total, rows: stored.map(toReview) };
  }
  // The text is the template applied to the row, which SQL cannot see: match while walking the rows in order.
  let total = 0;
  const rows: ReviewRow[] = [];
  for (const stored of db.prepare(select).iterate(...params) as Iterable<StoredRow>) {
    const row = toReview(stored);
    if (!row.text.toLowerCase().includes(needle)) continue;
    if (total >= offset && rows.length < limit) rows.push(row);
    total++;
  }
  return { total, rows };
}

/** A stored row as the review shows it: the text the model read, the prediction, the person's label, the gold label. */
export function reviewRowOf(job: LabelJob, stored: StoredRow, template = parseTemplate(job.spec.template)): ReviewRow {
  const r = fromStoredRow(stored);
  const gold = job.spec.goldColumn;
  return {
    row: r.row,
    line: r.line,
    text: renderTemplate(template, r.fields as Record<string, string>),
    predicted: r.predicted!,
    confidence: r.confidence!,
    margin: r.margin,
    corrected: r.corrected,
    gold: gold === null ? null : (r.fields[gold] ?? null),
  };
}

/** Records a person's label for a row (null withdraws it). Classification labels must be in the task's label set. */
export function recordCorrection(db: LibraryDb, jobId: string, row: number, label: string | null): void {
  const job = requireJob(db, jobId);
  const task = job.spec.task;
  if (label !== null && task.kind === 'classification' && !task.labels.includes(label)) {
    throw new SproutError('label-unknown-label', `"${label}" is not one of this task's labels (${task.labels.join(', ')}).`);
  }
  const changed = db
    .prepare('UPDATE label_rows SET corrected = ?, corrected_at = ? WHERE job_id = ? AND row = ? AND predicted IS NOT NULL')
    .run(label, label === null ? null : new Date().toISOString(), jobId, row).changes;
  if (!changed) throw new SproutError('label-unknown-row', `Job ${jobId} has no labelled row ${row}.`);
}

export interface SaveCorrectionsOptions {
  name: string;
  /** `corrected`: only rows a person labelled (default); `all`: every labelled row, the person's label where given. */
  include?: 'corrected' | 'all';
  /** Share of rows held out for validation, stratified by label (default 0.1, seed 0 — as the importer splits). */
  split?: number;
  seed?: number;
}

const PAGE = 10_000;

/** Saves the job's rows as a new dataset in one transaction and returns its id. */
export function saveCorrectionsAsDataset(db: LibraryDb, jobId: string, options: SaveCorrectionsOptions): number {
  const job = requireJob(db, jobId);
  const include = options.include ?? 'corrected';
  const fraction = options.split ?? 0.1;
  const seed = options.seed ?? 0;
  const spec = job.spec;
  const labelColumn = 'label';
  return db.transaction(() => {
    const datasetId = insertDataset(db, {
      name: options.name,
      source: { name: basename(spec.input), size: spec.inputBytes, sha256: '' },
      validation: null,
      format: 'label-job',
      options: { labelJob: jobId, include, split: fraction, seed },
      columnMapping: { columns: spec.inputColumns, textColumns: spec.textColumns, labelColumn },
      labelColumn,
      textColumns: spec.textColumns,
      template: spec.template,
    });
    const insert = rowInserter(db, datasetId);
    // The rows' content stands in for the source file's sha256: the dataset is what the review made of it.
    const hash = createHash('sha256');
    const groups = new Map<string, number[]>();
    let rows = 0;
    let corrected = 0;
    const condition = include === 'corrected' ? 'corrected IS NOT NULL' : 'predicted IS NOT NULL';
    const select = db.prepare(`SELECT * FROM label_rows WHERE job_id = ? AND ${condition} AND row >= ? ORDER BY row LIMIT ${PAGE}`);
    for (let from = 0; ; ) {
      const page = (select.all(jobId, from) as StoredRow[]).map(fromStoredRow);
      if (!page.length) break;
      for (const r of page) {
        const label = r.corrected ?? r.predicted!;
        const texts = JSON.stringify(spec.textColumns.map((c) => r.fields[c]));
        hash.update(`${texts}\t${label}\n`);
        const rowid = insert('train', r.row, r.line, texts, label);
        const group = groups.get(label) ?? [];
        group.push(rowid);
        groups.set(label, group);
        rows++;
        if (r.corrected !== null) corrected++;
      }
      from = page[page.length - 1].row + 1;
    }
    if (rows === 0) {
      throw new SproutError('label-nothing-to-save', include === 'corrected' ? `Job ${jobId} has no corrected rows yet.` : `Job ${jobId} has no labelled rows.`, {
        hint: include === 'corrected' ? 'Correct (or confirm) some rows first, or save all labelled rows.' : undefined,
      });
    }
    // Split by unique text, as the importer does: no text on both sides.
    if (fraction > 0) moveRowsToSplit(db, splitByUniqueText(groups, duplicateTextGroups(db, datasetId), fraction, seed).rows, 'validation');
    const labels: Record<string, number> = {};
    for (const { label, count } of labelCountsBySplit(db, datasetId)) if (label !== null) labels[label] = (labels[label] ?? 0) + count;
    finishDataset(db, datasetId, {
      source: { name: basename(spec.input), size: spec.inputBytes, sha256: hash.digest('hex') },
      validation: null,
      labelSet: spec.task.kind === 'classification' ? Object.keys(labels).sort() : null,
      report: { labelJob: jobId, rows, corrected, splits: splitCounts(db, datasetId), labels },
    });
    return datasetId;
  })();
}
