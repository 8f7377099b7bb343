/**
 * Records of an Excel workbook's sheet, read as a CSV saved from it would be: row 1 names the columns (or not, as
 * detected or chosen), every row has the header's width, and rows with nothing in them are skipped.
 */
import { SproutError } from '../errors.js';
import { clipped } from '../wording.js';
import { detectHeader, HEADER_SAMPLE_ROWS, type HeaderChoice } from './detect-header.js';
import { headerNames } from './dsv-reader.js';
import type { ReadProgress, SourceInfo, SourceRecord } from './types.js';
import { columnName, sheetRows, type SheetRow, type Workbook } from './xlsx-workbook.js';

/**
 * The sheet read when none is named: the first visible one with two rows or more (a header and an example, or two
 * examples), since a workbook often opens on a cover or notes sheet; the first when none has. `skipped`: the sheets
 * passed over; `sample`: the chosen sheet's first rows (sampleSheet), read once for the choice and the detections.
 */
export async function defaultSheet(book: Workbook): Promise<{ book: Workbook; skipped: string[]; sample: SheetRow[] }> {
  const skipped: string[] = [];
  let first: SheetRow[] | undefined;
  for (const sheet of book.visible) {
    const candidate = { ...book, sheet };
    const sample = await sampleSheet(candidate);
    first ??= sample;
    if (sample.length >= 2) return { book: candidate, skipped, sample };
    skipped.push(sheet.name);
  }
  // book.sheet is the first visible one, sampled first above.
  return { book, skipped: [], sample: first ?? [] };
}

/** Says which sheet is read, and why that one when it was not named. */
export function describeSheet(book: Workbook, info: SourceInfo, named: boolean, skipped: readonly string[]): void {
  info.sheet = book.sheet.name;
  info.sheets = book.visible.map((s) => s.name);
  if (named || info.sheets.length < 2) return;
  const all = info.sheets.map((n) => JSON.stringify(n)).join(', ');
  info.sheetReason =
    skipped.length === 0
      ? `the first of its ${info.sheets.length} sheets (${all})`
      : `the first of its ${info.sheets.length} sheets (${all}) with two rows or more`;
}

/** The first rows that hold a value, enough to detect the header and the width from. */
export async function sampleSheet(book: Workbook): Promise<SheetRow[]> {
  const sample: SheetRow[] = [];
  for await (const row of sheetRows(book)) {
    if (row.cells.length === 0) continue;
    sample.push(row);
    if (sample.length > HEADER_SAMPLE_ROWS) break;
  }
  return sample;
}

/** Whether row 1 names the columns, judged on the sample as for a CSV. */
export function detectSheetHeader(sample: readonly SheetRow[]): HeaderChoice {
  const width = Math.max(0, ...sample.map((r) => r.cells.length));
  return detectHeader(sample.map((r) => dense(r.cells, width)));
}

/** Columns read: as many as the header names, or without one as many as the widest sampled row fills. */
export function sheetWidth(sample: readonly SheetRow[], header: boolean): number {
  if (header) return sample[0]?.cells.length ?? 0;
  return Math.max(0, ...sample.map((r) => r.cells.length));
}

export interface SheetReading {
  header: boolean;
  width: number;
  onProgress?: (progress: ReadProgress) => void;
  /** Sees the count of empty rows skipped so far. */
  onBlank: (rows: number) => void;
}

/** The sheet's records; `info.columns` is set before the first one comes out. */
export async function* readSheet(book: Workbook, info: SourceInfo, reading: SheetReading): AsyncGenerator<SourceRecord> {
  const { header, width } = reading;
  const entry = book.entries.get(book.sheet.part)!;
  let compressed = 0;
  const progress = (bytes: number) => {
    compressed += bytes;
    reading.onProgress?.({
      bytesRead: Math.round((info.totalBytes * compressed) / Math.max(1, entry.compressedSize)),
      totalBytes: info.totalBytes,
    });
  };
  let columns: string[] | undefined;
  let headerLine = 0;
  let previous = 0;
  let blank = 0;
  for await (const row of sheetRows(book, progress)) {
    // A row left out of the sheet's XML is as empty as one written without cells.
    blank += Math.max(0, row.line - previous - 1) + (row.cells.length === 0 ? 1 : 0);
    previous = row.line;
    reading.onBlank(blank);
    if (row.cells.length === 0) continue;
    if (!columns) {
      headerLine = row.line;
      columns = header
        ? headerNames({ line: row.line, fields: dense(row.cells, width) }, book.file)
        : Array.from({ length: width }, (_, i) => String(i));
      info.columns = columns;
      if (header) continue;
    }
    if (row.cells.length > width) throw outside(book, row, width, header ? headerLine : undefined);
    const fields: Record<string, string> = Object.create(null);
    for (let i = 0; i < width; i++) fields[columns[i]] = row.cells[i] ?? '';
    yield { line: row.line, fields };
  }
}

/** A row's cells with the empty ones filled in, `width` of them. */
function dense(cells: readonly string[], width: number): string[] {
  return Array.from({ length: width }, (_, i) => cells[i] ?? '');
}

/** A value right of the columns read: an error rather than a value silently dropped. */
function outside(book: Workbook, row: SheetRow, width: number, headerLine: number | undefined): SproutError {
  const column = row.cells.length - 1;
  const value = row.cells[column];
  const shown = clipped(value, 41);
  const last = columnName(width - 1);
  const where =
    headerLine === undefined ? `the first rows fill columns A–${last}` : `the header in row ${headerLine} names columns A–${last}`;
  return new SproutError(
    'data-ragged-row',
    `Cell ${columnName(column)}${row.line} of sheet "${book.sheet.name}" holds ${JSON.stringify(shown)}, but ${where}.`,
    {
      file: book.file,
      line: row.line,
      hint:
        headerLine === undefined
          ? 'Clear the cell, or move it into the columns used, and save the workbook.'
          : `Name its column in row ${headerLine}, or clear the cell, and save the workbook.`,
    },
  );
}
