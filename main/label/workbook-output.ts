/**
 * Excel workbook (.xlsx) output. Like Parquet, a workbook cannot be appended to row by row (its sheet is a member of
 * a zip archive whose directory comes last), so a labelling job streams its rows into a JSON Lines part file and
 * converts it once the last row is in (part-output.ts). The workbook is the smallest Excel opens without repair: one
 * sheet of inline strings and numbers, its header row frozen, no styles.
 */
import { ZipWriter } from '../checkpoint/zip-writer.js';
import { columnName } from '../data/xlsx-workbook.js';
import { escapeXString } from '../data/xlsx-xstring.js';
import { SproutError } from '../errors.js';
import { count } from '../wording.js';
import type { OutputColumn } from './types.js';

/** What one sheet holds (ECMA-376 and Excel's specifications and limits). */
export const SHEET_LIMITS = { rows: 1_048_576, columns: 16_384, cellChars: 32_767 };

/** SpreadsheetML's namespaces (ECMA-376 Part 1): a sheet's and a workbook's elements, and relationship types. */
export const SPREADSHEET_NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
export const RELATIONSHIPS_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PACKAGE_RELATIONSHIPS = 'http://schemas.openxmlformats.org/package/2006/relationships';
const XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

/** Refuses a labelled copy of `rows` rows (and a header) and `columns` columns that a sheet cannot hold, naming `file`. */
export function checkSheetFits(rows: number, columns: number, file: string): void {
  if (rows + 1 <= SHEET_LIMITS.rows && columns <= SHEET_LIMITS.columns) return;
  const what = rows + 1 > SHEET_LIMITS.rows ? `${count(rows + 1)} rows with its header` : `${count(columns)} columns`;
  throw new SproutError(
    'label-output-too-large',
    `The labelled copy would have ${what}, more than a workbook's sheet holds (${count(SHEET_LIMITS.rows)} rows, ${count(SHEET_LIMITS.columns)} columns).`,
    { file, hint: 'Write CSV instead (--format csv).', uiHint: 'Choose CSV as the output format.' },
  );
}

/** Writes `rows` as the one sheet `sheet` of a workbook at `output`. */
export async function writeWorkbook(
  rows: AsyncIterable<Record<string, unknown>>,
  output: string,
  columns: readonly OutputColumn[],
  sheet: string,
): Promise<void> {
  const zip = new ZipWriter(
    output,
    () =>
      new SproutError('label-output-too-large', 'The workbook would be larger than 4 GiB, more than a workbook can hold.', {
        hint: 'Write CSV instead (--format csv).',
        uiHint: 'Choose CSV as the output format.',
      }),
  );
  try {
    await zip.add('[Content_Types].xml', [contentTypes()]);
    await zip.add('_rels/.rels', [relationship('officeDocument', 'xl/workbook.xml')]);
    await zip.add('xl/workbook.xml', [
      `${XML}<workbook xmlns="${SPREADSHEET_NS}" xmlns:r="${RELATIONSHIPS_NS}">` +
        `<sheets><sheet name="${xmlText(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>`,
    ]);
    await zip.add('xl/_rels/workbook.xml.rels', [relationship('worksheet', 'worksheets/sheet1.xml')]);
    await zip.add('xl/worksheets/sheet1.xml', sheetXml(rows, columns));
    zip.close();
  } catch (error) {
    zip.abandon();
    throw error;
  }
}

/** A part's one relationship, `rId1`, of `type` to `target`. */
function relationship(type: string, target: string): string {
  return `${XML}<Relationships xmlns="${PACKAGE_RELATIONSHIPS}"><Relationship Id="rId1" Type="${RELATIONSHIPS_NS}/${type}" Target="${target}"/></Relationships>`;
}

function contentTypes(): string {
  const override = (part: string, type: string) =>
    `<Override PartName="${part}" ContentType="application/vnd.openxmlformats-${type}+xml"/>`;
  return (
    `${XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
    `<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
    `<Default Extension="xml" ContentType="application/xml"/>` +
    override('/xl/workbook.xml', 'officedocument.spreadsheetml.sheet.main') +
    override('/xl/worksheets/sheet1.xml', 'officedocument.spreadsheetml.worksheet') +
    '</Types>'
  );
}

/** The sheet's XML in pieces of about 64 KB: the header row, then the rows in order. */
async function* sheetXml(rows: AsyncIterable<Record<string, unknown>>, columns: readonly OutputColumn[]): AsyncGenerator<string> {
  const refs = columns.map((_, i) => columnName(i));
  const frozenHeader = '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>';
  yield `${XML}<worksheet xmlns="${SPREADSHEET_NS}"><sheetViews><sheetView workbookViewId="0">${frozenHeader}</sheetView></sheetViews><sheetData>`;
  // Column names are text, though a headerless file's are "0", "1", …
  let piece = rowXml(
    1,
    refs,
    columns.map((c) => c.name),
    false,
  );
  let row = 1;
  for await (const record of rows) {
    piece += rowXml(
      ++row,
      refs,
      columns.map((c) => record[c.name]),
      true,
    );
    if (piece.length > 1 << 16) {
      yield piece;
      piece = '';
    }
  }
  yield `${piece}</sheetData></worksheet>`;
}

/**
 * One `<row>`. Where `typed`, a number (a probability, a confidence) is a number cell, and so is text that is a plain
 * decimal reading back the same ("1", "0.5", not "007" or "1e5"), so that Excel sorts and sums label columns such as
 * SST-2's 0/1 without flagging numbers stored as text; TRUE and FALSE are boolean cells, as they were in a workbook
 * read; anything else is an inline string; empty values are left out.
 */
function rowXml(r: number, refs: readonly string[], values: readonly unknown[], typed: boolean): string {
  let xml = `<row r="${r}">`;
  values.forEach((v, i) => {
    if (v === null || v === undefined || v === '') return;
    const ref = `${refs[i]}${r}`;
    const n = !typed ? NaN : typeof v === 'number' ? v : PLAIN_DECIMAL.test(String(v)) && String(Number(v)) === v ? Number(v) : NaN;
    const truth = typed ? truthOf(v) : undefined;
    if (Number.isFinite(n)) xml += `<c r="${ref}"><v>${n}</v></c>`;
    else if (truth !== undefined) xml += `<c r="${ref}" t="b"><v>${truth}</v></c>`;
    else xml += `<c r="${ref}" t="inlineStr"><is><t xml:space="preserve">${xmlText(escapeXString(String(v)))}</t></is></c>`;
  });
  return `${xml}</row>`;
}

/**
 * 1 or 0 for TRUE or FALSE in any case (Excel reads a CSV's "true" as TRUE; the workbook reader gives a boolean cell
 * as TRUE or FALSE), so that a boolean stays a boolean cell; undefined for anything else.
 */
function truthOf(v: unknown): 0 | 1 | undefined {
  if (typeof v === 'boolean') return v ? 1 : 0;
  const s = String(v).toLowerCase();
  return s === 'true' ? 1 : s === 'false' ? 0 : undefined;
}

const PLAIN_DECIMAL = /^-?(?:0|[1-9]\d{0,14})(?:\.\d{1,15})?$/;

/** Text as XML holds it in an element or an attribute; a carriage return as a reference, which XML keeps as one. */
export function xmlText(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll('\r', '&#13;');
}
