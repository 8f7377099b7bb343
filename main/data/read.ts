import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { SproutError } from '../errors.js';
import { alternatives, clipped, firstOf } from '../wording.js';
import { detectHeader, HEADER_SAMPLE_ROWS } from './detect-header.js';
import { detectSeparator, tabTableReason } from './detect-separator.js';
import { detectTsvQuoting } from './detect-quoting.js';
import { isZipArchive, refuseContainer } from './containers.js';
import { DsvParser, type DsvRow } from './dsv.js';
import { readDsv } from './dsv-reader.js';
import { advise, NO_HEADER } from './read-advice.js';
import { readJsonArray } from './json-reader.js';
import { readJsonl } from './jsonl-reader.js';
import { readParquet } from './parquet-reader.js';
import { TextStream, type TextStreamOptions } from './text-stream.js';
import { readTextLines } from './text-reader.js';
import {
  BINARY_FORMATS,
  DATA_FORMATS,
  FORMAT_EXTENSIONS,
  formatFromName,
  formatIn,
  HEADER_FORMATS,
  type CsvSeparator,
} from '../choices.js';
import { defaultSheet, describeSheet, detectSheetHeader, readSheet, sampleSheet, sheetWidth } from './xlsx-reader.js';
import { badWorkbook, NOT_A_WORKBOOK, openWorkbook, type Workbook } from './xlsx-workbook.js';
import { kindOf } from '../file-kind.js';
import {
  DEFAULT_MAX_RECORD_CHARS,
  SEPARATOR_CHARS,
  type DataFormat,
  type Delimiter,
  type Quoting,
  type ReadOptions,
  type SourceInfo,
  type SourceRecord,
} from './types.js';

/** An opened file: its header information and its records (the first one already read and checked). */
export interface Source {
  info: SourceInfo;
  records: AsyncIterable<SourceRecord>;
  /** Blank lines skipped so far (CSV/TSV). */
  blankLines(): number;
}

export interface OpenOptions extends ReadOptions {
  /** Sees the raw bytes of the (last) pass over the file, e.g. to hash it. */
  onBytes?: (chunk: Uint8Array) => void;
}

/**
 * Opens a data file of any supported format and reads its first record, so that empty files, header-only files and
 * unreadable starts fail here, before anything is stored.
 */
export async function openSource(file: string, options: OpenOptions = {}): Promise<Source> {
  const size = await fileSize(file);
  const head = await firstBytes(file, 4096);
  const named = options.format ?? formatFromName(file);
  const book = await workbookIn(file, head, named, options);
  if (!book) refuseContainer(file, head, named);
  const found = book ? 'xlsx' : (named ?? sniffFormat(file, head));
  const reason = await formatReason(file, size, found, named, options);
  const format = reason && found === 'text' ? 'tsv' : found;
  const maxRecordChars = options.maxRecordChars ?? DEFAULT_MAX_RECORD_CHARS;
  const info = describeSource(file, format, size, options);
  info.formatReason = reason;
  if (size === 0) throw emptyFile(file);
  if (isDsv(format)) await chooseDsvReading(info, size, options, maxRecordChars);
  const text = textStream(file, size, options, { onProgress: options.onProgress, onBytes: options.onBytes });
  const reader = await startReader(text, info, options, maxRecordChars, book);
  const first = await reader.records.next();
  if (!formatIn(BINARY_FORMATS, info.format)) {
    info.encoding = text.encoding;
    info.byteOrderMark = text.byteOrderMark;
  }
  if (first.done) throw noRecords(info);
  return { info, records: recordsFrom(first.value, reader.records), blankLines: reader.blankLines };
}

/**
 * The workbook a file holds when it is read as one: a file named .xlsx (or read with --format xlsx), or, unless
 * another format was chosen, a ZIP archive that holds a workbook whatever its name says (a renamed download).
 */
async function workbookIn(file: string, head: Buffer, named: DataFormat | undefined, options: OpenOptions): Promise<Workbook | undefined> {
  if (!isZipArchive(head)) {
    // An empty file is refused below as empty, whatever its name.
    if (named !== 'xlsx' || head.length === 0) return undefined;
    refuseContainer(file, head, named);
    throw badWorkbook(file)('it is not a ZIP archive, as every .xlsx file is; if it is a text file such as a CSV, give it that extension');
  }
  if (options.format && named !== 'xlsx') return undefined;
  try {
    return await openWorkbook(file, options.sheet);
  } catch (error) {
    // Not a workbook at all, or a damaged one under another name: refused below as the ZIP archive it is.
    if (error instanceof SproutError && (error.code === NOT_A_WORKBOOK || (error.code === 'data-bad-xlsx' && named !== 'xlsx')))
      return undefined;
    throw error;
  }
}

/** Why a file is read in another format than its name says: a .txt that is a table, a workbook under another name. */
async function formatReason(
  file: string,
  size: number,
  found: DataFormat,
  named: DataFormat | undefined,
  options: OpenOptions,
): Promise<string | undefined> {
  if (found === 'xlsx' && named !== 'xlsx') return 'its content is a ZIP archive holding a workbook, whatever its name says';
  if (found !== 'text' || options.format) return undefined;
  return tabTableReason(await firstLines(textStream(file, size, options)));
}

/** A format's reader, started on a file. */
interface Reader {
  records: AsyncGenerator<SourceRecord>;
  blankLines(): number;
}

function isDsv(format: DataFormat): format is 'csv' | 'tsv' {
  return format === 'csv' || format === 'tsv';
}

/** The reader of a workbook's sheet, its header and width taken from its first rows unless chosen. */
async function startSheetReader(opened: Workbook, info: SourceInfo, options: OpenOptions): Promise<Reader> {
  const { book, skipped, sample } =
    options.sheet === undefined ? await defaultSheet(opened) : { book: opened, skipped: [], sample: await sampleSheet(opened) };
  describeSheet(book, info, options.sheet !== undefined, skipped);
  if (options.header === undefined) {
    const choice = detectSheetHeader(sample);
    info.header = choice.header;
    info.headerReason = choice.reason;
  }
  await showBytes(info.file, options.onBytes);
  let blank = 0;
  const records = readSheet(book, info, {
    header: info.header,
    width: sheetWidth(sample, info.header),
    onProgress: options.onProgress,
    onBlank: (rows) => {
      blank = rows;
    },
  });
  return { records, blankLines: () => blank };
}

/** What is known of a file before its content is read; CSV/TSV quoting and header may still be detected. */
function describeSource(file: string, format: DataFormat, size: number, options: OpenOptions): SourceInfo {
  return {
    file,
    format,
    encoding: formatIn(BINARY_FORMATS, format) ? 'binary' : 'utf-8',
    byteOrderMark: false,
    header: formatIn(HEADER_FORMATS, format) ? (options.header ?? true) : format !== 'text',
    columns: [],
    totalBytes: size,
  };
}

/**
 * Sets the quoting, the separator and the header of a CSV/TSV file, detecting from its content what the options leave
 * open.
 */
async function chooseDsvReading(info: SourceInfo, size: number, options: OpenOptions, maxRecordChars: number): Promise<void> {
  const { file, format } = info;
  info.quoting = options.quoting ?? 'rfc4180';
  // Rows the separator detection read, kept: the header detection reads the same first rows with the one chosen.
  const sampled = new Map<CsvSeparator, string[][] | undefined>();
  if (format === 'csv') {
    const sample = async (separator: CsvSeparator) => {
      const rows = await sampleRows(textStream(file, size, options), SEPARATOR_CHARS[separator], info.quoting!, maxRecordChars);
      sampled.set(separator, rows);
      return rows;
    };
    const choice = options.separator ? { separator: options.separator } : await detectSeparator(sample);
    info.separator = choice.separator;
    info.separatorReason = choice.reason;
  }
  if (format === 'tsv' && !options.quoting) {
    const scan = textStream(file, size, options, { onProgress: options.onProgress });
    const choice = await detectTsvQuoting(scan.chunks(), file, maxRecordChars);
    info.quoting = choice.quoting;
    info.quotingReason = choice.reason;
  }
  if (options.header === undefined) {
    const rows =
      (info.separator && sampled.get(info.separator)) ??
      (await sampleRows(textStream(file, size, options), delimiterOf(info), info.quoting, maxRecordChars, true));
    const choice = detectHeader(rows ?? []);
    info.header = choice.header;
    info.headerReason = choice.reason;
  }
}

/** A pass over the file's text, decoded as the options say; `watch`: who sees this pass's progress or bytes. */
function textStream(file: string, size: number, options: ReadOptions, watch: Pick<TextStreamOptions, 'onProgress' | 'onBytes'> = {}) {
  return new TextStream(file, size, { encoding: options.encoding, invalidUtf8: options.invalidUtf8, ...watch });
}

/**
 * Starts the reader of the file's format; only Parquet and workbooks read anything here (their bytes for `onBytes`, a
 * sheet's first rows). `book`: the workbook already opened, when the file is one.
 */
async function startReader(
  text: TextStream,
  info: SourceInfo,
  options: OpenOptions,
  maxRecordChars: number,
  book?: Workbook,
): Promise<Reader> {
  const { file, format } = info;
  const noBlankLines = (): number => 0;
  switch (format) {
    case 'csv':
    case 'tsv':
      return startDsvReader(text, info, maxRecordChars);
    case 'jsonl':
      return { records: readJsonl(text.chunks(), file, maxRecordChars, info), blankLines: noBlankLines };
    case 'json':
      return { records: readJsonArray(text.chunks(), file, maxRecordChars, info), blankLines: noBlankLines };
    case 'text':
      return { records: readTextLines(text.chunks(), file, maxRecordChars, info), blankLines: noBlankLines };
    case 'xlsx':
      return startSheetReader(book ?? (await openWorkbook(file, options.sheet)), info, options);
    case 'parquet': {
      const records = readParquet(file, info, options.onProgress);
      await showBytes(file, options.onBytes);
      return { records, blankLines: noBlankLines };
    }
  }
}

/** Shows a binary file's bytes to `onBytes` (to hash them), in one pass of their own: its reader does not stream them. */
async function showBytes(file: string, onBytes: OpenOptions['onBytes']): Promise<void> {
  if (onBytes) for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) onBytes(chunk as Buffer);
}

/** The CSV/TSV reader; its count of blank lines grows as it reads, so it is read through a function. */
function startDsvReader(text: TextStream, info: SourceInfo, maxRecordChars: number): Reader {
  let blank = 0;
  const records = readDsv(
    text.chunks(),
    { file: info.file, delimiter: delimiterOf(info), quoting: info.quoting!, header: info.header, maxRecordChars },
    info,
    (s) => {
      blank = s.blankLines;
    },
  );
  return { records, blankLines: () => blank };
}

/** Why a file without a first record cannot be opened. */
function noRecords(info: SourceInfo): SproutError {
  if (info.columns.length > 0 && info.header && formatIn(HEADER_FORMATS, info.format)) {
    return new SproutError('data-no-rows', `The file has a header (${headerShown(info.columns)}) but no data rows.`, {
      file: info.file,
      ...advise((how) => `Add examples below the header, or if the first line is an example, ${how}.`, NO_HEADER),
    });
  }
  return emptyFile(info.file);
}

/** A header as a message shows it: a file of one long line (its line breaks not read as such) is one long header. */
function headerShown(columns: readonly string[]): string {
  return firstOf(columns.map((c) => clipped(c, 41)));
}

/** The records of a started reader, its first one already read; the reader is closed when the caller stops early. */
async function* recordsFrom(first: SourceRecord, rest: AsyncGenerator<SourceRecord>): AsyncGenerator<SourceRecord> {
  try {
    yield first;
    for (;;) {
      const next = await rest.next();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await rest.return(undefined);
  }
}

/** Every record of a data file, in file order (the labeller reads its inputs this way). */
export async function* readRecords(file: string, options: ReadOptions = {}): AsyncGenerator<SourceRecord> {
  const source = await openSource(file, options);
  yield* source.records;
}

/** The complete lines of the file's first chunk, at most as many as the detections sample; none when unreadable. */
async function firstLines(text: TextStream): Promise<string[]> {
  try {
    for await (const chunk of text.chunks()) {
      const lines = chunk.split(/\r?\n/);
      if (text.bytesRead < text.totalBytes) lines.pop();
      return lines.slice(0, HEADER_SAMPLE_ROWS + 1);
    }
  } catch (error) {
    if (!(error instanceof SproutError)) throw error;
  }
  return [];
}

/** A CSV's chosen separator, or a TSV's tab. */
function delimiterOf(info: SourceInfo): Delimiter {
  return info.format === 'tsv' ? '\t' : SEPARATOR_CHARS[info.separator ?? 'comma'];
}

/**
 * The first rows (one more than the header detection compares), for detection. A file that breaks among them gives
 * undefined, or with `partial` the rows before the break: the real reading reports the break.
 */
async function sampleRows(
  text: TextStream,
  delimiter: Delimiter,
  quoting: Quoting,
  maxRecordChars: number,
  partial = false,
): Promise<string[][] | undefined> {
  const parser = new DsvParser(delimiter, quoting, text.file, maxRecordChars);
  const rows: DsvRow[] = [];
  try {
    for await (const chunk of text.chunks()) {
      parser.push(chunk, rows);
      if (rows.length > HEADER_SAMPLE_ROWS) break;
    }
    if (rows.length <= HEADER_SAMPLE_ROWS) parser.end(rows);
  } catch (error) {
    if (!(error instanceof SproutError)) throw error;
    return partial ? rows.slice(0, HEADER_SAMPLE_ROWS + 1).map((r) => r.fields) : undefined;
  }
  return rows.slice(0, HEADER_SAMPLE_ROWS + 1).map((r) => r.fields);
}

async function fileSize(file: string): Promise<number> {
  try {
    const s = await stat(file);
    if (!s.isFile())
      throw new SproutError('data-not-a-file', `This is ${kindOf(s)}, not a file.`, { file, hint: 'Give the path of a data file.' });
    return s.size;
  } catch (error) {
    if (error instanceof SproutError) throw error;
    throw new SproutError(
      'data-file-not-found',
      `The file cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`,
      {
        file,
        hint: 'Check the path and that you may read the file.',
      },
    );
  }
}

function emptyFile(file: string): SproutError {
  return new SproutError('data-empty-file', 'The file holds no records.', { file, hint: 'Choose a file with at least one example.' });
}

async function firstBytes(file: string, n: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(n);
    const { bytesRead } = await handle.read(head, 0, n, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Guesses the format of a file whose extension says nothing, from its first bytes. */
function sniffFormat(file: string, bytes: Buffer): DataFormat {
  if (bytes.subarray(0, 4).toString('latin1') === 'PAR1') return 'parquet';
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  const firstLine = text.split('\n', 1)[0];
  const start = text.trimStart()[0];
  if (start === '[') return 'json';
  if (start === '{') return 'jsonl';
  if (firstLine.includes('\t')) return 'tsv';
  if (firstLine.includes(',') || firstLine.includes(';')) return 'csv';
  throw new SproutError('data-unknown-format', `Cannot tell the format of "${basename(file)}" from its name or content.`, {
    file,
    hint: `Say it with --format (${DATA_FORMATS.join(', ')}).`,
    uiHint: `Give the file the extension of its format (${alternatives(Object.keys(FORMAT_EXTENSIONS).map((e) => `.${e}`))}).`,
  });
}

/** How a file was read, as reports and previews state it: absent reasons and quoting as null. */
export function howRead(info: SourceInfo) {
  return {
    format: info.format,
    formatReason: info.formatReason ?? null,
    encoding: info.encoding,
    quoting: info.quoting ?? null,
    quotingReason: info.quotingReason ?? null,
    separator: info.separator ?? null,
    separatorReason: info.separatorReason ?? null,
    sheet: info.sheet ?? null,
    sheets: info.sheets ?? null,
    sheetReason: info.sheetReason ?? null,
    header: info.header,
    headerReason: info.headerReason ?? null,
  };
}
