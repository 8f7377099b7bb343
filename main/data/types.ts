import type { CsvSeparator, DataFormat, EncodingChoice, InvalidUtf8, Quoting } from '../choices.js';

export type { CsvSeparator, DataFormat, Quoting } from '../choices.js';

/** The character between fields: a CSV's separator, or a TSV's tab. */
export type Delimiter = ',' | ';' | '\t';
export const SEPARATOR_CHARS: Record<CsvSeparator, Delimiter> = { comma: ',', semicolon: ';' };

/** A Windows code page or other legacy encoding, as chosen: a file never says it is in one. */
export type LegacyEncoding = Exclude<EncodingChoice, 'auto'>;

/** How a text file was decoded: UTF-8 and UTF-16 as its byte order mark says, a legacy one as chosen. */
export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | LegacyEncoding;

export interface ReadProgress {
  bytesRead: number;
  totalBytes: number;
}

export interface ReadOptions {
  /** Taken from the file extension when omitted. */
  format?: DataFormat;
  /**
   * CSV/TSV: whether the first record names the columns; detected from the first rows when omitted (see
   * detect-header.ts). Without one, columns are "0", "1", … (0-based indexes).
   */
  header?: boolean;
  /** CSV/TSV: CSV defaults to rfc4180; TSV is detected from the whole file when omitted. */
  quoting?: Quoting;
  /** CSV: the field separator; detected from the first rows when omitted (see detect-separator.ts). */
  separator?: CsvSeparator;
  /** Excel workbooks: the sheet to read, by name; default the first visible one. */
  sheet?: string;
  /** The file's encoding when it has no byte order mark; default UTF-8. */
  encoding?: EncodingChoice;
  /** What to do with bytes the encoding does not allow: stop with an error naming the line, or use U+FFFD. */
  invalidUtf8?: InvalidUtf8;
  /** The longest record (or line) accepted, in characters; longer ones are an error rather than unbounded memory. */
  maxRecordChars?: number;
  onProgress?: (progress: ReadProgress) => void;
}

/**
 * One example as read from a file. `line` is the 1-based physical line where the record starts (the row number for
 * Parquet). `fields` maps column names to values exactly as in the file; null is an explicit JSON/Parquet null, and a
 * key that is absent is a field the record lacks (a JSON Lines object without it).
 */
export interface SourceRecord {
  line: number;
  fields: Readonly<Record<string, string | null>>;
  /** JSON and JSON Lines only: the values as the file typed them (numbers stay numbers), for writing them back. */
  values?: Readonly<Record<string, unknown>>;
}

/** What is known about a file once its first record has been read. */
export interface SourceInfo {
  file: string;
  format: DataFormat;
  /** Why a file named as text is read as a table (TSV), when it is. */
  formatReason?: string;
  encoding: TextEncoding | 'binary';
  /** Whether the file starts with a byte order mark (as Excel's "CSV UTF-8" does). */
  byteOrderMark: boolean;
  /** CSV/TSV only. */
  quoting?: Quoting;
  /** Why this quoting was chosen when it was detected rather than given. */
  quotingReason?: string;
  /** CSV only. */
  separator?: CsvSeparator;
  /** Why the separator was taken, when it was detected as a semicolon. */
  separatorReason?: string;
  /** Excel workbooks only: the sheet read, and the names of the visible ones, in order. */
  sheet?: string;
  sheets?: string[];
  /** Why that sheet, when the workbook has others. */
  sheetReason?: string;
  header: boolean;
  /** Why the header was guessed so, when it was detected rather than given (CSV/TSV). */
  headerReason?: string;
  /** Column names: the header, "0".."n-1" for headerless files, keys of the first object for JSON. */
  columns: string[];
  totalBytes: number;
}

export const DEFAULT_MAX_RECORD_CHARS = 4 * 2 ** 20;
