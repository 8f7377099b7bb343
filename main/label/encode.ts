import { extname } from 'node:path';
import { SproutError } from '../errors.js';
import { count } from '../wording.js';
import {
  DATA_FORMAT_LABELS,
  formatFromName,
  formatIn,
  labelledFormat,
  OUTPUT_FORMATS,
  outputFormatFromName,
  type CsvSeparator,
  type OutputFormat,
  type Quoting,
} from '../choices.js';
import { SEPARATOR_CHARS } from '../data/types.js';
import { stringifyJsonExact } from '../data/json-number.js';
import { isPartFormat } from './part-output.js';
import { SHEET_LIMITS } from './workbook-output.js';

export type { OutputFormat } from '../choices.js';

/**
 * The format of a labelled copy at `file`: the one asked for, else the one its name says, else `fallback`. A name
 * that says another format than the one asked is refused: `out.csv` holding a workbook opens as garbage in the
 * program its name picks.
 */
export function outputFormatOf(file: string, asked: OutputFormat | undefined, fallback: OutputFormat): OutputFormat {
  refuseUnwrittenFormat(file);
  const named = outputFormatFromName(file);
  if (asked !== undefined && named !== undefined && named !== asked) {
    throw new SproutError(
      'label-format-mismatch',
      `The output's name says ${DATA_FORMAT_LABELS[named]} (${extname(file)}), but it was asked for as ${DATA_FORMAT_LABELS[asked]}.`,
      {
        file,
        hint: `Name it with .${asked} or ask for --format ${named}.`,
        uiHint: `Name it with .${asked}, or choose ${DATA_FORMAT_LABELS[named]} as the output format.`,
      },
    );
  }
  return asked ?? named ?? fallback;
}

/**
 * A name whose extension says a format labelled copies are not written in (`.json`, `.txt`) would hold another one
 * under it: whatever opens it by its name could not read it.
 */
function refuseUnwrittenFormat(file: string): void {
  const says = formatFromName(file);
  if (says === undefined || formatIn(OUTPUT_FORMATS, says)) return;
  const instead = labelledFormat(says);
  throw new SproutError(
    'label-format-unwritten',
    `The output's name says ${DATA_FORMAT_LABELS[says]} (${extname(file)}), which a labelled copy is not written as.`,
    {
      file,
      hint: `Name it with .${instead} (${DATA_FORMAT_LABELS[instead]}) or another of ${OUTPUT_FORMATS.map((f) => `.${f}`).join(', ')}.`,
    },
  );
}

/** A value the labeller adds: text, a probability, or null (empty in CSV/TSV) for a skipped row. */
export type AddedValue = string | number | null;

/** Probabilities are written with 6 decimals: enough to sort by, and the same text in every format. */
export function roundProbability(x: number): number {
  return Number(x.toFixed(6));
}

/**
 * Turns rows into the text of a CSV, TSV or JSON Lines file, or of the JSON Lines part file Parquet and workbooks are
 * converted from (part-output.ts). Every row ends with "\n", so a file cut after any row is a valid file of the rows
 * before it.
 */
export interface RowEncoder {
  /** The header line ("" for JSON Lines). */
  header(): string;
  /** `values`, when the input was JSON, are the original typed values; JSON Lines output writes those back. */
  row(fields: Readonly<Record<string, string | null>>, added: readonly AddedValue[], values?: Readonly<Record<string, unknown>>): string;
}

/**
 * `byteOrderMark`: a CSV/TSV starts with U+FEFF, which Excel needs to open a UTF-8 file as UTF-8 (without it, it reads
 * the bytes in the system's code page and "café" comes out "cafÃ©").
 */
export function rowEncoder(
  format: OutputFormat,
  inputColumns: readonly string[],
  addedNames: readonly string[],
  {
    tsvQuoting = 'rfc4180',
    byteOrderMark = false,
    csvSeparator = 'comma',
  }: { tsvQuoting?: Quoting; byteOrderMark?: boolean; csvSeparator?: CsvSeparator } = {},
): RowEncoder {
  if (format === 'jsonl' || isPartFormat(format)) {
    // JSON Lines keeps each record's own keys; a part file keeps the fixed column set of the file it becomes.
    const fixed = format !== 'jsonl';
    return {
      header: () => '',
      row(fields, added, values) {
        const out: Record<string, unknown> = {};
        if (fixed) for (const c of inputColumns) out[c] = fields[c] ?? null;
        else Object.assign(out, values ?? fields);
        addedNames.forEach((name, i) => (out[name] = added[i]));
        if (format === 'xlsx') checkCellLengths(out);
        return `${stringifyJsonExact(out)}\n`;
      },
    };
  }
  const delimiter = format === 'csv' ? SEPARATOR_CHARS[csvSeparator] : '\t';
  const quote = format === 'tsv' && tsvQuoting === 'none' ? unquotedField : (v: string) => quotedField(v, delimiter);
  const cell = (v: AddedValue | undefined): string => (v === null || v === undefined ? '' : quote(String(v)));
  return {
    header: () => `${byteOrderMark ? '\uFEFF' : ''}${[...inputColumns, ...addedNames].map(quote).join(delimiter)}\n`,
    row: (fields, added) => `${[...inputColumns.map((c) => cell(fields[c])), ...added.map(cell)].join(delimiter)}\n`,
  };
}

/**
 * A workbook's cell holds at most SHEET_LIMITS.cellChars characters; Excel would cut a longer text, or call the file
 * damaged. Refused as the row is labelled, not when the workbook is written at the end.
 */
function checkCellLengths(row: Record<string, unknown>): void {
  for (const [column, v] of Object.entries(row)) {
    if (typeof v === 'string' && v.length > SHEET_LIMITS.cellChars) {
      throw new SproutError(
        'label-unwritable-value',
        `A value of column "${column}" has ${count(v.length)} characters; a workbook cell holds at most ${count(SHEET_LIMITS.cellChars)}.`,
        {
          hint: 'Write CSV or JSON Lines instead: name the output .csv or .jsonl.',
          uiHint: 'Choose CSV or JSON Lines as the output format.',
        },
      );
    }
  }
}

/** RFC 4180: a field with the delimiter, a quote or a line break is quoted, quotes doubled. */
function quotedField(v: string, delimiter: string): string {
  return v.includes(delimiter) || v.includes('"') || v.includes('\n') || v.includes('\r') ? `"${v.replaceAll('"', '""')}"` : v;
}

/** GLUE-style TSV with quoting off: a field is written as it is, so it must not hold a tab or a line break. */
function unquotedField(v: string): string {
  if (/[\t\n\r]/.test(v)) {
    throw new SproutError(
      'label-unwritable-value',
      `A value holds a tab or line break, which a TSV without quoting cannot hold: ${JSON.stringify(v.slice(0, 60))}.`,
      {
        hint: 'Write CSV or JSON Lines instead: name the output .csv or .jsonl.',
      },
    );
  }
  return v;
}
