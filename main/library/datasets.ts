import { SPLITS, type Split } from '../choices.js';
import { parseTemplate, renderTemplate } from '../data/template.js';
import type { LibraryDb } from './db.js';

export { SPLITS, type Split } from '../choices.js';

export interface SourceFile {
  name: string;
  size: number;
  sha256: string;
}

/** A dataset as stored: where it came from, how it was read and mapped, and the import report. */
export interface DatasetRecord {
  id: number;
  name: string;
  source: SourceFile;
  validation: SourceFile | null;
  format: string;
  /** How the file was read (header, quoting, encoding, split fraction and seed, …). */
  options: Record<string, unknown>;
  /** All source columns and which were mapped to text and label. */
  columnMapping: { columns: string[]; textColumns: string[]; labelColumn: string | null };
  labelColumn: string | null;
  textColumns: string[];
  template: string;
  /** Sorted distinct labels; null for unlabelled or free-text datasets. */
  labelSet: string[] | null;
  report: Record<string, unknown>;
  created: string;
}

export type NewDataset = Omit<DatasetRecord, 'id' | 'created' | 'labelSet' | 'report'>;

/** One stored example. `fields` maps each text column to its value exactly as in the file; `text` applies the template. */
export interface DatasetRow {
  split: Split;
  /** 0-based index of the record in its source file. */
  index: number;
  line: number;
  fields: Record<string, string>;
  text: string;
  label: string | null;
}

interface DatasetSqlRow {
  id: number;
  name: string;
  source_name: string;
  source_size: number;
  source_sha256: string;
  validation_name: string | null;
  validation_size: number | null;
  validation_sha256: string | null;
  format: string;
  options: string;
  column_mapping: string;
  label_column: string | null;
  text_columns: string;
  template: string;
  label_set: string | null;
  report: string;
  created: string;
}

function fromRow(r: DatasetSqlRow): DatasetRecord {
  return {
    id: r.id,
    name: r.name,
    source: { name: r.source_name, size: r.source_size, sha256: r.source_sha256 },
    validation: r.validation_name === null ? null : { name: r.validation_name, size: r.validation_size!, sha256: r.validation_sha256! },
    format: r.format,
    options: JSON.parse(r.options) as Record<string, unknown>,
    columnMapping: JSON.parse(r.column_mapping) as DatasetRecord['columnMapping'],
    labelColumn: r.label_column,
    textColumns: JSON.parse(r.text_columns) as string[],
    template: r.template,
    labelSet: r.label_set === null ? null : (JSON.parse(r.label_set) as string[]),
    report: JSON.parse(r.report) as Record<string, unknown>,
    created: r.created,
  };
}

/** Adds a dataset (report still empty) and returns its id. Call inside the import's transaction. */
export function insertDataset(db: LibraryDb, d: NewDataset): number {
  const info = db
    .prepare(
      `INSERT INTO datasets (name, source_name, source_size, source_sha256, validation_name, validation_size, validation_sha256, format, options,
         column_mapping, label_column, text_columns, template, label_set, report, created)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, '{}', ?)`,
    )
    .run(
      d.name,
      d.source.name,
      d.source.size,
      d.source.sha256,
      d.validation?.name ?? null,
      d.validation?.size ?? null,
      d.validation?.sha256 ?? null,
      d.format,
      JSON.stringify(d.options),
      JSON.stringify(d.columnMapping),
      d.labelColumn,
      JSON.stringify(d.textColumns),
      d.template,
      new Date().toISOString(),
    );
  return Number(info.lastInsertRowid);
}

/** Fills in what is only known once every row is in: sources' sha256, label set and report. */
export function finishDataset(
  db: LibraryDb,
  id: number,
  values: { source: SourceFile; validation: SourceFile | null; labelSet: string[] | null; report: Record<string, unknown> },
): void {
  db.prepare(
    `UPDATE datasets SET source_sha256 = ?, validation_name = ?, validation_size = ?, validation_sha256 = ?, label_set = ?, report = ? WHERE id = ?`,
  ).run(
    values.source.sha256,
    values.validation?.name ?? null,
    values.validation?.size ?? null,
    values.validation?.sha256 ?? null,
    values.labelSet === null ? null : JSON.stringify(values.labelSet),
    JSON.stringify(values.report),
    id,
  );
}

/**
 * A prepared insert for rows of one dataset; returns each row's rowid (used to move rows to validation afterwards).
 * `texts` is the JSON array of the text columns' values, in the dataset's textColumns order.
 */
export function rowInserter(
  db: LibraryDb,
  datasetId: number,
): (split: Split, index: number, line: number, texts: string, label: string | null) => number {
  const statement = db.prepare('INSERT INTO dataset_rows (dataset_id, split, row_index, line, texts, label) VALUES (?, ?, ?, ?, ?, ?)');
  return (split, index, line, texts, label) => Number(statement.run(datasetId, split, index, line, texts, label).lastInsertRowid);
}

export function moveRowsToSplit(db: LibraryDb, rowids: number[], split: Split): void {
  const statement = db.prepare('UPDATE dataset_rows SET split = ? WHERE rowid = ?');
  // In rowid order the updates walk the table's pages once instead of jumping between them.
  for (const rowid of Float64Array.from(rowids).sort()) statement.run(split, rowid);
}

/** Rows per split and label: [{split, label, count}]. */
export function labelCountsBySplit(db: LibraryDb, datasetId: number): { split: Split; label: string | null; count: number }[] {
  return db
    .prepare('SELECT split, label, COUNT(*) AS count FROM dataset_rows WHERE dataset_id = ? GROUP BY split, label ORDER BY split, label')
    .all(datasetId) as {
    split: Split;
    label: string | null;
    count: number;
  }[];
}

export function splitCounts(db: LibraryDb, datasetId: number): Record<Split, number> {
  const counts: Record<Split, number> = { train: 0, validation: 0, test: 0 };
  for (const r of db.prepare('SELECT split, COUNT(*) AS count FROM dataset_rows WHERE dataset_id = ? GROUP BY split').all(datasetId) as {
    split: Split;
    count: number;
  }[]) {
    counts[r.split] = r.count;
  }
  return counts;
}

export function distinctLabelCount(db: LibraryDb, datasetId: number): number {
  return (db.prepare('SELECT COUNT(DISTINCT label) AS n FROM dataset_rows WHERE dataset_id = ?').get(datasetId) as { n: number }).n;
}

/**
 * Validation rows whose text is also a training row's (compared as duplicateTextGroups compares). Only a validation
 * file can put them there: drawn splits keep every copy of a text on one side. SQLite runs the inner query once,
 * into a temporary index.
 */
export function validationRepeatingTraining(db: LibraryDb, datasetId: number): number {
  const query = `SELECT COUNT(*) AS n FROM dataset_rows WHERE dataset_id = ? AND split = 'validation'
    AND texts IN (SELECT texts FROM dataset_rows WHERE dataset_id = ? AND split = 'train')`;
  return (db.prepare(query).get(datasetId, datasetId) as { n: number }).n;
}

/**
 * The rows whose text (the stored JSON of its text values, compared exactly) occurs more than once, one group per
 * text, rows in rowid order: what a split must keep on one side, and what the duplicate counts count. SQLite finds
 * them in one grouping (sorting on disk when needed), so memory stays bounded by the duplicated rows.
 */
export function duplicateTextGroups(db: LibraryDb, datasetId: number): { rowid: number; label: string | null }[][] {
  const rows = db
    .prepare(
      `SELECT json_group_array(json_array(rowid, label)) AS copies FROM dataset_rows WHERE dataset_id = ?
       GROUP BY texts HAVING COUNT(*) > 1`,
    )
    .iterate(datasetId) as Iterable<{ copies: string }>;
  const groups: { rowid: number; label: string | null }[][] = [];
  for (const r of rows) {
    const copies = (JSON.parse(r.copies) as [number, string | null][]).map(([rowid, label]) => ({ rowid, label }));
    groups.push(copies.sort((a, b) => a.rowid - b.rowid));
  }
  return groups;
}

/** Extra copies of texts already present, and texts that occur with more than one label. */
export function duplicateCounts(groups: readonly (readonly { label: string | null }[])[]): { duplicates: number; conflicting: number } {
  let duplicates = 0;
  let conflicting = 0;
  for (const g of groups) {
    duplicates += g.length - 1;
    if (new Set(g.map((r) => r.label).filter((l) => l !== null)).size > 1) conflicting++;
  }
  return { duplicates, conflicting };
}

export function listDatasets(db: LibraryDb): DatasetRecord[] {
  return (db.prepare('SELECT * FROM datasets ORDER BY id').all() as DatasetSqlRow[]).map(fromRow);
}

export function getDataset(db: LibraryDb, id: number): DatasetRecord | undefined {
  const row = db.prepare('SELECT * FROM datasets WHERE id = ?').get(id) as DatasetSqlRow | undefined;
  return row && fromRow(row);
}

/** Removes a dataset and its rows; false when there was none with this id. */
export function deleteDataset(db: LibraryDb, id: number): boolean {
  return db.prepare('DELETE FROM datasets WHERE id = ?').run(id).changes > 0;
}

/** The rows of one split in source order, one at a time (for splits too large to hold). */
export function* iterateDatasetRows(db: LibraryDb, id: number, split: Split): Generator<DatasetRow> {
  const dataset = getDataset(db, id);
  if (!dataset) return;
  const template = parseTemplate(dataset.template);
  const statement = db.prepare(
    'SELECT row_index, line, texts, label FROM dataset_rows WHERE dataset_id = ? AND split = ? ORDER BY row_index',
  );
  for (const r of statement.iterate(id, split) as Iterable<{ row_index: number; line: number; texts: string; label: string | null }>) {
    const values = JSON.parse(r.texts) as string[];
    const fields: Record<string, string> = {};
    dataset.textColumns.forEach((c, i) => (fields[c] = values[i]));
    yield { split, index: r.row_index, line: r.line, fields, text: renderTemplate(template, fields), label: r.label };
  }
}

/** The rows of one split in source order (what the trainer and evaluator read). */
export function loadDatasetRows(db: LibraryDb, id: number, split: Split): DatasetRow[] {
  return [...iterateDatasetRows(db, id, split)];
}

/**
 * The split an evaluation scores unless told: the labelled test split (held out at import, it chose nothing, so its
 * score is the one to report), else validation, else train (a dataset imported without a split has only that).
 */
export function evalSplit(db: LibraryDb, datasetId: number): Split | undefined {
  const labelled = db
    .prepare('SELECT split, COUNT(*) AS n FROM dataset_rows WHERE dataset_id = ? AND label IS NOT NULL GROUP BY split')
    .all(datasetId) as { split: Split; n: number }[];
  // SPLITS runs train, validation, test: the most held-out split first.
  return [...SPLITS].reverse().find((s) => labelled.some((r) => r.split === s && r.n > 0));
}
