/**
 * An Excel workbook (.xlsx, Office Open XML, ECMA-376): which sheet to read, its shared strings, and its rows as the
 * cells' text. A cell reads as Excel's "Save As CSV" writes it where the value alone decides: text as typed, numbers
 * in their shortest form, booleans as TRUE/FALSE, errors as #N/A etc. A number whose format shows a date or a time
 * reads as ISO 8601 text (xlsx-dates.ts); other formats (percentages, currencies, decimals) are not applied.
 */
import { posix } from 'node:path';
import { SproutError } from '../errors.js';
import { StringTable } from './string-table.js';
import { dateKind, dateText, type DateKind } from './xlsx-dates.js';
import { readZipDirectory, zipEntryChunks, zipEntryDamage, type ZipEntry, type ZipFailure } from '../checkpoint/zip.js';
import { XmlScanner, type XmlHandler } from './xml-scanner.js';
import { unescapeXString } from './xlsx-xstring.js';

export interface Workbook {
  file: string;
  entries: Map<string, ZipEntry>;
  /** The sheet read: the one asked for, else (until the reader picks another) the first visible worksheet. */
  sheet: Sheet;
  /** The visible worksheets, in workbook order. */
  visible: Sheet[];
  strings: StringTable;
  /** By cell style index (a cell's `s`): whether its number format shows a date, a time or both. */
  dateStyles: (DateKind | undefined)[];
  /** Whether serials count from 1904 (old Mac workbooks) rather than 1900. */
  date1904: boolean;
}

export interface Sheet {
  name: string;
  /** Its part in the archive. */
  part: string;
}

/** One row of a sheet: its row number and its cells' text by 0-based column (absent: an empty cell). */
export interface SheetRow {
  line: number;
  cells: string[];
}

/** Excel's limits: a sheet's rows and columns (A to XFD). */
const MAX_ROWS = 1_048_576;
const MAX_COLUMNS = 16_384;

/** The longest run of text or markup held between chunks (a cell holds at most 32,767 characters). */
const MAX_PENDING_CHARS = 4 * 2 ** 20;

/** The code of a ZIP archive that is not a workbook at all, which the caller refuses as the archive it is. */
export const NOT_A_WORKBOOK = 'data-not-a-workbook';

const RESAVE = 'Open it in Excel (or LibreOffice) and save it again as .xlsx, or as CSV UTF-8.';

/** A damaged workbook, given what is wrong with it ("its sheet … ends in the middle of an XML tag"). */
export function badWorkbook(file: string) {
  return (why: string) => new SproutError('data-bad-xlsx', `This is not a readable Excel workbook: ${why}.`, { file, hint: RESAVE });
}

/** A damaged workbook, given what is wrong with its archive (a sentence from the zip reader). */
function zipFailure(file: string): ZipFailure {
  return (message) => new SproutError('data-bad-xlsx', `This is not a readable Excel workbook. ${message}`, { file, hint: RESAVE });
}

/**
 * Opens a workbook: its parts, the sheet to read (`sheet` by name, hidden or not, else the first visible one) and the
 * shared strings (read whole: cells refer to them by index).
 */
export async function openWorkbook(file: string, sheet?: string): Promise<Workbook> {
  const bad = badWorkbook(file);
  const entries = readZipDirectory(file, zipFailure(file));
  const book = officeDocument(await relationships(file, entries, ''));
  if (!book || !entries.has(book)) throw new SproutError(NOT_A_WORKBOOK, 'This ZIP archive holds no workbook.', { file });
  if (book.endsWith('.bin')) {
    throw new SproutError('data-not-a-table', 'This file is an Excel binary workbook (.xlsb), which Sprout does not read.', {
      file,
      hint: 'Open it in Excel and save it as an Excel Workbook (.xlsx) or as CSV UTF-8 (File > Save As), and import that file.',
    });
  }
  const links = await relationships(file, entries, book);
  const { sheets, date1904 } = await worksheets(file, entries, book, links);
  const visible = sheets.filter((s) => s.visible);
  // Excel keeps sheet names unique regardless of case, so a name in another case still means one sheet.
  const chosen = sheet === undefined ? visible[0] : sheets.find((s) => s.name.toLowerCase() === sheet.toLowerCase());
  if (!chosen && sheet !== undefined) throw noSuchSheet(file, sheet, visible);
  if (!chosen) throw bad('it has no visible worksheet');
  const sharedStrings = links.find((l) => l.type.endsWith('/sharedStrings'))?.target;
  const strings =
    sharedStrings && entries.has(sharedStrings) ? await readSharedStrings(file, entries.get(sharedStrings)!) : new StringTable();
  const styles = links.find((l) => l.type.endsWith('/styles'))?.target;
  const dateStyles = styles && entries.has(styles) ? await readDateStyles(file, entries.get(styles)!) : [];
  const bare = ({ name, part }: Sheet): Sheet => ({ name, part });
  return { file, entries, sheet: bare(chosen), visible: visible.map(bare), strings, dateStyles, date1904 };
}

function noSuchSheet(file: string, name: string, visible: { name: string }[]): SproutError {
  const names = visible.map((s) => JSON.stringify(s.name)).join(', ');
  return new SproutError('data-no-such-sheet', `The workbook has no sheet named ${JSON.stringify(name)}; its sheets are ${names}.`, {
    file,
    hint: sheetHint('sheet'),
    uiHint: 'Choose one of its sheets.',
  });
}

const sheetHint = (flag: string) => `Give --${flag} one of those names, as the sheet's tab shows it.`;

/**
 * A missing sheet of a validation or test file, said with the flag that names that file's sheet: `--sheet` names the
 * training file's, and theirs unless `--validation-sheet` or `--test-sheet` is given. Other errors pass unchanged.
 */
export function asHeldOutSheetError(error: unknown, split: 'validation' | 'test'): unknown {
  if (!(error instanceof SproutError) || error.code !== 'data-no-such-sheet') return error;
  return new SproutError(error.code, error.summary, {
    ...error.details,
    hint: `${sheetHint(`${split}-sheet`)} (--sheet names the training file's sheet, and this file's unless --${split}-sheet is given.)`,
    uiHint: split === 'validation' ? 'Choose one of its sheets under "Validation sheet".' : 'Choose one of its sheets.',
  });
}

interface Relationship {
  id: string;
  type: string;
  /** The part it points to, as a path inside the archive. */
  target: string;
}

/** The relationships of a part ('' for the package itself), targets resolved against the part's folder. */
async function relationships(file: string, entries: Map<string, ZipEntry>, part: string): Promise<Relationship[]> {
  const folder = posix.dirname(part);
  const name = posix.join(folder, '_rels', `${posix.basename(part)}.rels`);
  const entry = entries.get(name);
  if (!entry) return [];
  const found: Relationship[] = [];
  await scanPart(file, entry, {
    open: (element, a) => {
      if (element !== 'Relationship' || !a.Target || a.TargetMode === 'External') return;
      const target = a.Target.startsWith('/') ? a.Target.slice(1) : posix.normalize(posix.join(folder, a.Target));
      found.push({ id: a.Id ?? '', type: a.Type ?? '', target });
    },
    close: () => undefined,
    text: () => undefined,
  });
  return found;
}

function officeDocument(links: Relationship[]): string | undefined {
  return links.find((l) => l.type.endsWith('/officeDocument'))?.target;
}

/** The worksheets, in the workbook's order (chart sheets left out), whether each is visible, and the date system. */
async function worksheets(file: string, entries: Map<string, ZipEntry>, book: string, links: Relationship[]) {
  const byId = new Map(links.filter((l) => l.type.endsWith('/worksheet')).map((l) => [l.id, l.target]));
  const sheets: { name: string; part: string; visible: boolean }[] = [];
  let date1904 = false;
  await scanPart(file, entries.get(book)!, {
    open: (element, a) => {
      const part = byId.get(a.id ?? '');
      if (element === 'sheet' && part && entries.has(part)) {
        sheets.push({ name: a.name ?? '', part, visible: a.state !== 'hidden' && a.state !== 'veryHidden' });
      } else if (element === 'workbookPr') date1904 = a.date1904 === '1' || a.date1904 === 'true';
    },
    close: () => undefined,
    text: () => undefined,
  });
  return { sheets, date1904 };
}

/** What each cell style's number format shows (styles.xml: the custom formats, then `<cellXfs>`, one `<xf>` a style). */
async function readDateStyles(file: string, entry: ZipEntry): Promise<(DateKind | undefined)[]> {
  const custom = new Map<number, string>();
  const styles: (DateKind | undefined)[] = [];
  let inCellXfs = false;
  await scanPart(file, entry, {
    open: (element, a) => {
      if (element === 'numFmt') custom.set(Number(a.numFmtId), a.formatCode ?? '');
      else if (element === 'cellXfs') inCellXfs = true;
      else if (element === 'xf' && inCellXfs) styles.push(dateKind(Number(a.numFmtId ?? 0), custom.get(Number(a.numFmtId ?? 0))));
    },
    close: (element) => {
      if (element === 'cellXfs') inCellXfs = false;
    },
    text: () => undefined,
  });
  return styles;
}

/** Each `<si>`'s text: its `<t>`, or its rich-text runs' `<t>`s joined, phonetic guides (`<rPh>`) left out. */
async function readSharedStrings(file: string, entry: ZipEntry): Promise<StringTable> {
  const strings = new StringTable();
  const text = new InlineText();
  await scanPart(file, entry, {
    open: (element) => text.open(element),
    close: (element) => {
      if (element === 'si') strings.add(text.take());
      else text.close(element);
    },
    text: (t) => text.text(t),
  });
  return strings;
}

/** Collects the `<t>` text of a string item (`<si>` or a cell's `<is>`), skipping phonetic guides. */
class InlineText {
  private buffer = '';
  private inT = false;
  private phonetic = 0;

  open(element: string): void {
    if (element === 't') this.inT = true;
    else if (element === 'rPh') this.phonetic++;
  }
  close(element: string): void {
    if (element === 't') this.inT = false;
    else if (element === 'rPh') this.phonetic--;
  }
  text(t: string): void {
    if (this.inT && this.phonetic === 0) this.buffer += t;
  }
  take(): string {
    const value = unescapeXString(this.buffer);
    this.buffer = '';
    return value;
  }
}

/**
 * Runs a part's XML through `handler`, pausing after each chunk so that a caller can take what the handler gathered;
 * `what` names the part in errors ("its part xl/styles.xml", "its sheet "Data""), `onCompressed` as in zipEntryChunks.
 */
async function* scanEntry(
  file: string,
  entry: ZipEntry,
  handler: XmlHandler,
  what: string,
  onCompressed?: (bytes: number) => void,
): AsyncGenerator<void> {
  const bad = badWorkbook(file);
  const scanner = new XmlScanner(handler, MAX_PENDING_CHARS, () => bad(`${what} holds a run of text too long to read`));
  const decoder = new TextDecoder('utf-8');
  // Deflate decodes most damaged bytes into other bytes: XML that makes no sense is first checked against the
  // member's CRC-32, so that damage is called damage rather than a strange cell.
  let scanning = false;
  try {
    for await (const chunk of zipEntryChunks(file, entry, zipFailure(file), onCompressed)) {
      scanning = true;
      scanner.push(decoder.decode(chunk, { stream: true }));
      scanning = false;
      yield;
    }
    scanning = true;
    scanner.push(decoder.decode());
    if (!scanner.end()) throw bad(`${what} ends in the middle of an XML tag`);
  } catch (error) {
    throw (scanning && (await zipEntryDamage(file, entry, zipFailure(file)))) || error;
  }
  yield;
}

/** Runs a whole part through the scanner (the small parts: relationships, the workbook, styles, shared strings). */
async function scanPart(file: string, entry: ZipEntry, handler: XmlHandler): Promise<void> {
  for await (const _ of scanEntry(file, entry, handler, `its part ${entry.name}`));
}

/** The rows of the workbook's sheet, in order, each once its `</row>` is read; `onCompressed` as in zipEntryChunks. */
export async function* sheetRows(book: Workbook, onCompressed?: (bytes: number) => void): AsyncGenerator<SheetRow> {
  const entry = book.entries.get(book.sheet.part)!;
  const rows: SheetRow[] = [];
  const cells = new SheetCells(book, rows, badWorkbook(book.file));
  for await (const _ of scanEntry(book.file, entry, cells, `its sheet "${book.sheet.name}"`, onCompressed)) {
    yield* rows;
    rows.length = 0;
  }
}

/** Turns a sheet's `<row>`/`<c>` elements into rows. */
class SheetCells implements XmlHandler {
  private line = 0;
  private cells: string[] = [];
  private column = -1;
  private ref = '';
  private type = 'n';
  private value = '';
  private style = 0;
  private inValue = false;
  /** The cell's formula, while it is read and after; undefined for a cell without one. */
  private formula: string | undefined;
  private inFormula = false;
  private inline: InlineText | undefined;

  constructor(
    private readonly book: Workbook,
    private readonly rows: SheetRow[],
    private readonly bad: (why: string) => SproutError,
  ) {}

  open(element: string, a: Readonly<Record<string, string>>): void {
    if (element === 'row') {
      this.line = a.r ? Number(a.r) : this.line + 1;
      if (!Number.isInteger(this.line) || this.line < 1 || this.line > MAX_ROWS)
        throw this.bad(`a row of sheet "${this.book.sheet.name}" is numbered ${JSON.stringify(a.r)}`);
      this.cells = [];
      this.column = -1;
    } else if (element === 'c') {
      this.column = a.r ? columnIndex(a.r) : this.column + 1;
      this.ref = a.r ?? `${columnName(this.column)}${this.line}`;
      if (this.column < 0 || this.column >= MAX_COLUMNS)
        throw this.bad(`sheet "${this.book.sheet.name}" has a cell at ${JSON.stringify(this.ref)}, outside Excel's columns A to XFD`);
      this.type = a.t ?? 'n';
      this.style = Number(a.s ?? 0);
      this.value = '';
      this.formula = undefined;
    } else if (element === 'v') this.inValue = true;
    else if (element === 'f') {
      this.inFormula = true;
      this.formula = '';
    } else if (element === 'is') this.inline = new InlineText();
    else this.inline?.open(element);
  }

  close(element: string): void {
    if (element === 'row') this.rows.push({ line: this.line, cells: this.cells });
    else if (element === 'c') {
      const value = this.cellText();
      if (value !== '') this.cells[this.column] = value;
    } else if (element === 'v') this.inValue = false;
    else if (element === 'f') this.inFormula = false;
    else if (element === 'is') {
      this.value = this.inline?.take() ?? this.value;
      this.inline = undefined;
    } else this.inline?.close(element);
  }

  text(t: string): void {
    if (this.inValue) this.value += t;
    else if (this.inFormula) this.formula += t;
    else this.inline?.text(t);
  }

  /**
   * The cell's value as text, by its type (ECMA-376 ST_CellType). A formula without a stored result (openpyxl and
   * pandas write a text that starts with "=" so, with an empty `<v>`) reads as its formula, as openpyxl reads it; an
   * empty text result is `t="str"`.
   */
  private cellText(): string {
    if (this.formula && this.value === '' && this.type !== 'str') return `=${this.formula}`;
    const v = this.value;
    switch (this.type) {
      case 's': {
        const text = this.book.strings.get(Number(v));
        if (v === '' || text === undefined)
          throw this.bad(`cell ${this.ref} of sheet "${this.book.sheet.name}" refers to shared string ${v}, which it lacks`);
        return text;
      }
      case 'inlineStr':
        return v;
      case 'str':
        return unescapeXString(v);
      case 'b':
        return v === '' ? '' : v === '1' || v === 'true' ? 'TRUE' : 'FALSE';
      case 'n': {
        const n = Number(v);
        if (v.trim() === '' || !Number.isFinite(n)) return v;
        const kind = this.book.dateStyles[this.style];
        return (kind && dateText(n, kind, this.book.date1904)) ?? String(n);
      }
      default:
        return v;
    }
  }
}

/** The 0-based column of a cell reference: A1 → 0, AB12 → 27. */
function columnIndex(ref: string): number {
  let column = 0;
  for (const c of ref.toUpperCase()) {
    const code = c.charCodeAt(0);
    if (code < 65 || code > 90) break;
    column = column * 26 + (code - 64);
  }
  return column - 1;
}

/** The letters of a 0-based column: 0 → A, 27 → AB. */
export function columnName(column: number): string {
  let name = '';
  for (let n = column + 1; n > 0; n = Math.floor((n - 1) / 26)) name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
  return name;
}
