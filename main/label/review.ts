/**
 * Review of a labelling job for the app: its labelled rows lowest confidence first, corrections by a person, and the
 * corrected rows saved back as a new dataset for the next round of training.
 */
import { addCount } from '../data/values.js';
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { parseTemplate, renderTemplate } from '../data/template.js';
import { DEFAULT_HELD_OUT, splitByUniqueText } from '../data/split.js';
import { SproutError } from '../errors.js';
import { alternatives } from '../wording.js';
import { writeTransaction, type LibraryDb } from '../library/db.js';
import {
  duplicateTextGroups,
  finishDataset,
  insertDataset,
  labelCountsBySplit,
  moveRowsToSplit,
  rowInserter,
  splitCounts,
} from '../library/datasets.js';
import { addedColumnNames } from './columns.js';
import type { AddedValue } from './encode.js';
import { REVIEW_PAGE, type ReviewState } from '../choices.js';
import { fromStoredRow, getJob, type LabelJob, type StoredRow } from './jobs.js';

export interface ReviewRow {
  /** 0-based record index in the input, and the line it starts on. */
  row: number;
  line: number;
  /** The text the model read. */
  text: string;
  /** Every input column of the row, as the file gave it. */
  fields: Record<string, string | null>;
  predicted: string;
  confidence: number;
  margin: number | null;
  /** The model's probability of each of the page's labels, in their order; null where the job's columns do not map onto them. */
  probs: number[] | null;
  /** The person's label, when they gave one (equal to `predicted` when they confirmed it). */
  corrected: string | null;
  /** The input's gold label, when the job was given a gold column. */
  gold: string | null;
}

/** How far review has got: labelled rows, those a person labelled, and those whose label they changed. */
export interface ReviewCounts {
  labelled: number;
  reviewed: number;
  corrected: number;
}

export interface ReviewPage {
  /** Labelled rows matching the filter (skipped rows are not reviewed). */
  total: number;
  rows: ReviewRow[];
  counts: ReviewCounts;
}

function requireJob(db: LibraryDb, jobId: string): LabelJob {
  const job = getJob(db, jobId);
  if (!job) throw new SproutError('label-unknown-job', `There is no labelling job "${jobId}".`);
  return job;
}

/** Which labelled rows a review page shows. */
export interface ReviewFilter {
  state?: ReviewState;
  /** Only rows predicted as this label. */
  predicted?: string;
  /** Confidence range, inclusive. */
  minConfidence?: number;
  maxConfidence?: number;
  /** Only rows with a column value that contains this, ignoring case. */
  search?: string;
}

const STATE_CONDITIONS: Record<ReviewState, string> = {
  unreviewed: 'corrected IS NULL',
  reviewed: 'corrected IS NOT NULL',
  corrected: 'corrected IS NOT NULL AND corrected IS NOT predicted',
};

export function reviewCounts(db: LibraryDb, jobId: string): ReviewCounts {
  const c = db
    .prepare(
      `SELECT COUNT(*) AS labelled, COUNT(corrected) AS reviewed, COUNT(CASE WHEN ${STATE_CONDITIONS.corrected} THEN 1 END) AS corrected` +
        ` FROM label_rows WHERE job_id = ? AND predicted IS NOT NULL`,
    )
    .get(jobId) as ReviewCounts;
  return { labelled: c.labelled, reviewed: c.reviewed, corrected: c.corrected };
}

/** The SQL condition, and its parameters, that picks the job's labelled rows matching the filter. */
function reviewWhere(jobId: string, filter: ReviewFilter, needle: string | undefined): { where: string; params: unknown[] } {
  const conditions = ['job_id = ?', 'predicted IS NOT NULL'];
  const params: unknown[] = [jobId];
  if (filter.state) conditions.push(STATE_CONDITIONS[filter.state]);
  const narrow = (condition: string, param: unknown) => {
    conditions.push(condition);
    params.push(param);
  };
  if (filter.predicted !== undefined) narrow('predicted = ?', filter.predicted);
  if (filter.minConfidence !== undefined) narrow('confidence >= ?', filter.minConfidence);
  if (filter.maxConfidence !== undefined) narrow('confidence <= ?', filter.maxConfidence);
  // SQLite folds ASCII case only; an ASCII needle, escaped as JSON escapes it, narrows the rows before the exact check.
  if (needle && /^[\x20-\x7e]*$/.test(needle)) narrow('instr(lower(fields), ?) > 0', JSON.stringify(needle).slice(1, -1));
  return { where: conditions.join(' AND '), params };
}

/** One page of labelled rows, lowest confidence first (ties in input order). */
/** A filter no row can pass (a label the job does not have, a confidence range upside down) is a mistake, not an empty page. */
function refuseEmptyFilter(job: LabelJob, page: ReviewFilter): void {
  const tasks = [job.spec.task, ...(job.spec.routing?.routes.map((r) => r.task) ?? [])];
  const labels = [...new Set(tasks.flatMap((t) => t.labels))];
  if (page.predicted !== undefined && labels.length > 0 && !labels.includes(page.predicted))
    throw new SproutError('bad-review-filter', `The job's labels are ${alternatives(labels)}; "${page.predicted}" is none of them.`);
  const { minConfidence: min, maxConfidence: max } = page;
  if (min !== undefined && max !== undefined && min > max)
    throw new SproutError('bad-review-filter', `The lowest confidence (${min}) is above the highest (${max}): no row can be in between.`);
}

export function listReviewRows(db: LibraryDb, jobId: string, page: ReviewFilter & { offset?: number; limit?: number } = {}): ReviewPage {
  const job = requireJob(db, jobId);
  const offset = page.offset ?? 0;
  const limit = page.limit ?? REVIEW_PAGE.rows;
  if (!(Number.isInteger(offset) && offset >= 0 && Number.isInteger(limit) && limit >= 1 && limit <= REVIEW_PAGE.most)) {
    throw new RangeError(`a review page needs offset ≥ 0 and 1 ≤ limit ≤ ${REVIEW_PAGE.most}, got ${offset}, ${limit}`);
  }
  refuseEmptyFilter(job, page);
  const needle = page.search?.trim().toLowerCase();
  const { where, params } = reviewWhere(jobId, page, needle);
  const template = parseTemplate(job.spec.template);
  const toReview = (stored: StoredRow) => reviewRowOf(job, stored, template);
  const select = `SELECT * FROM label_rows WHERE ${where} ORDER BY confidence, row`;
  const counts = reviewCounts(db, jobId);
  if (!needle) {
    const total = (db.prepare(`SELECT COUNT(*) AS n FROM label_rows WHERE ${where}`).get(...params) as { n: number }).n;
    const stored = db.prepare(`${select} LIMIT ? OFFSET ?`).all(...params, limit, offset) as StoredRow[];
    return { total, rows: stored.map(toReview), counts };
  }
  // A column value must contain the needle, which SQL cannot check exactly: match while walking the rows in order.
  let total = 0;
  const rows: ReviewRow[] = [];
  for (const stored of db.prepare(select).iterate(...params) as Iterable<StoredRow>) {
    const fields = JSON.parse(stored.fields) as Record<string, string | null>;
    if (!Object.values(fields).some((v) => v !== null && v.toLowerCase().includes(needle))) continue;
    if (total >= offset && rows.length < limit) rows.push(toReview(stored));
    total++;
  }
  return { total, rows, counts };
}

/** A stored row as the review shows it: the text the model read, every column, the prediction, the person's label, the gold label. */
export function reviewRowOf(job: LabelJob, stored: StoredRow, template = parseTemplate(job.spec.template)): ReviewRow {
  const r = fromStoredRow(stored);
  const gold = job.spec.goldColumn;
  return {
    row: r.row,
    line: r.line,
    text: renderTemplate(template, r.fields as Record<string, string>),
    fields: r.fields,
    predicted: r.predicted!,
    confidence: r.confidence!,
    margin: r.margin,
    probs: probsOf(job, r.added),
    corrected: r.corrected,
    gold: gold === null ? null : (r.fields[gold] ?? null),
  };
}

/** The row's probabilities in the task's label order, read from the values it was written with. */
function probsOf(job: LabelJob, added: readonly AddedValue[] | null): number[] | null {
  const c = job.spec.columns;
  if (!added || c.groups || c.probs.length !== job.spec.task.labels.length) return null;
  const names = addedColumnNames(c);
  const probs = c.probs.map((p) => added[names.indexOf(p)]);
  return probs.every((p) => typeof p === 'number') ? (probs as number[]) : null;
}

/** Records a person's label for a row (null withdraws it). Classification labels must be in the task's label set. */
export function recordCorrection(db: LibraryDb, jobId: string, row: number, label: string | null): void {
  recordCorrections(db, jobId, [{ row, label }]);
}

/**
 * Records several labels in one transaction: all of them or, when one row or label is wrong, none. `where` names
 * each correction in an error (a line of a corrections file).
 */
export function recordCorrections(
  db: LibraryDb,
  jobId: string,
  corrections: readonly { row: number; label: string | null; where?: string }[],
): void {
  const job = requireJob(db, jobId);
  const task = job.spec.task;
  const update = db.prepare('UPDATE label_rows SET corrected = ?, corrected_at = ? WHERE job_id = ? AND row = ? AND predicted IS NOT NULL');
  writeTransaction(db, () => {
    for (const { row, label, where } of corrections) {
      const at = where ? `${where}: ` : '';
      if (label !== null && task.kind === 'classification' && !task.labels.includes(label)) {
        throw new SproutError('label-unknown-label', `${at}"${label}" is not one of this task's labels (${task.labels.join(', ')}).`, {
          hint: sameButCase(label, task.labels),
        });
      }
      if (!update.run(label, label === null ? null : new Date().toISOString(), jobId, row).changes) {
        throw new SproutError('label-unknown-row', `${where ? `${where}: job` : 'Job'} ${jobId} has no labelled row ${row}.`, {
          hint: '`sprout label review JOB` lists the rows by their number (`row`).',
        });
      }
    }
  });
}

/**
 * "Did you mean "neutral"?" for "Neutral": labels are classes as written (an import keeps "Positive" and "positive"
 * apart), so a label in another case is refused, but the one it most likely meant is named.
 */
function sameButCase(label: string, labels: readonly string[]): string | undefined {
  const same = labels.filter((l) => l.toLowerCase() === label.toLowerCase());
  return same.length === 1 ? `Did you mean "${same[0]}"? Labels are matched as written, case included.` : undefined;
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
  const fraction = options.split ?? DEFAULT_HELD_OUT.validation;
  const seed = options.seed ?? 0;
  const spec = job.spec;
  const labelColumn = 'label';
  return writeTransaction(db, () => {
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
    for (let from = 0; ;) {
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
      throw new SproutError(
        'label-nothing-to-save',
        include === 'corrected' ? `Job ${jobId} has no corrected rows yet.` : `Job ${jobId} has no labelled rows.`,
        {
          hint: include === 'corrected' ? 'Correct (or confirm) some rows first, or save all labelled rows.' : undefined,
        },
      );
    }
    // Split by unique text, as the importer does: no text on both sides.
    if (fraction > 0) moveRowsToSplit(db, splitByUniqueText(groups, duplicateTextGroups(db, datasetId), fraction, seed).rows, 'validation');
    const labels: Record<string, number> = {};
    for (const { label, count } of labelCountsBySplit(db, datasetId)) if (label !== null) addCount(labels, label, count);
    finishDataset(db, datasetId, {
      source: { name: basename(spec.input), size: spec.inputBytes, sha256: hash.digest('hex') },
      validation: null,
      labelSet: spec.task.kind === 'classification' ? Object.keys(labels).sort() : null,
      report: { labelJob: jobId, rows, corrected, splits: splitCounts(db, datasetId), labels },
    });
    return datasetId;
  });
}
