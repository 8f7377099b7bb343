import type { ImportReport } from '../data/import.js';
import { DATA_FORMATS } from '../data/read.js';
import type { DataFormat, Quoting, ReadOptions } from '../data/types.js';
import { libraryPath, openLibrary, type LibraryDb } from '../library/db.js';
import type { DatasetRecord } from '../library/datasets.js';
import { dataDir } from '../paths.js';
import { UsageError, type Command, type ParsedArgs } from './command.js';

/** How to read a data file: what readOptions() reads, for every command that takes one. */
export const fileReadFlags: Command['options'] = {
  format: { type: 'string' },
  header: { type: 'string' },
  'no-header': { type: 'boolean', default: false },
  quoting: { type: 'string' },
  'invalid-utf8': { type: 'string' },
};

/** Options shared by `sprout data preview` and `sprout data import`. */
export const readFlags: Command['options'] = { ...fileReadFlags, json: { type: 'boolean', default: false } };

export function readOptions(values: ParsedArgs['values']): ReadOptions {
  const format = values.format as string | undefined;
  if (format !== undefined && !DATA_FORMATS.includes(format as DataFormat)) throw new UsageError(`--format must be one of ${DATA_FORMATS.join(', ')}, not "${format}".`);
  const quoting = values.quoting as string | undefined;
  if (quoting !== undefined && quoting !== 'rfc4180' && quoting !== 'none') throw new UsageError(`--quoting must be rfc4180 or none, not "${quoting}".`);
  const invalid = values['invalid-utf8'] as string | undefined;
  if (invalid !== undefined && invalid !== 'error' && invalid !== 'replace') throw new UsageError(`--invalid-utf8 must be error or replace, not "${invalid}".`);
  return {
    format: format as DataFormat | undefined,
    header: headerOption(values),
    quoting: quoting as Quoting | undefined,
    invalidUtf8: invalid as 'error' | 'replace' | undefined,
  };
}

/** --header yes|no|auto (auto: detected from the first rows); --no-header is short for --header no. */
export function headerOption(values: ParsedArgs['values']): boolean | undefined {
  const given = values.header as string | undefined;
  if (given !== undefined && !['yes', 'no', 'auto'].includes(given)) throw new UsageError(`--header must be yes, no or auto, not "${given}".`);
  if (values['no-header']) {
    if (given !== undefined && given !== 'no') throw new UsageError('Give either --header or --no-header, not both.');
    return false;
  }
  return given === 'yes' ? true : given === 'no' ? false : undefined;
}

export function onePositional(positionals: string[], what: string, command: string): string {
  if (positionals.length !== 1) throw new UsageError(`Give exactly one ${what}. Run \`sprout ${command} --help\` for usage.`);
  return positionals[0];
}

/** Runs `fn` with the library database of the data directory (SPROUT_HOME), closing it afterwards. */
export async function withLibrary<T>(fn: (db: LibraryDb) => T | Promise<T>): Promise<T> {
  const db = openLibrary(libraryPath(dataDir()));
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}

/** A progress line on stderr when it is a terminal; scripts read only the JSON on stdout. */
export function progressLine(label: string): { update(done: number, total: number): void; end(): void } {
  const tty = process.stderr.isTTY;
  let last = -1;
  return {
    update(done, total) {
      if (!tty || total <= 0) return;
      const pct = Math.floor((100 * done) / total);
      if (pct === last) return;
      last = pct;
      process.stderr.write(`\r${label} ${pct}% (${(done / 2 ** 20).toFixed(1)} of ${(total / 2 ** 20).toFixed(1)} MiB)`);
    },
    end() {
      if (tty && last >= 0) process.stderr.write('\n');
    },
  };
}

/** The JSON shape of a stored dataset that `sprout data list/show` print. */
export function datasetJson(d: DatasetRecord): Record<string, unknown> {
  const report = d.report as unknown as ImportReport;
  return {
    id: d.id,
    name: d.name,
    source: d.source,
    validation: d.validation,
    format: d.format,
    options: d.options,
    columns: d.columnMapping.columns,
    text_columns: d.textColumns,
    label_column: d.labelColumn,
    template: d.template,
    label_set: d.labelSet,
    rows: report.rows,
    splits: report.splits,
    labels: report.labels,
    created: d.created,
    report: importJson(report),
  };
}

/** The import report in the snake_case JSON that `sprout` commands print. */
export function importJson(r: ImportReport): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    file: r.file,
    format: r.format,
    encoding: r.encoding,
    quoting: r.quoting,
    quoting_reason: r.quotingReason,
    header: r.header,
    header_reason: r.headerReason,
    columns: r.columns,
    text_columns: r.textColumns,
    label_column: r.labelColumn,
    template: r.template,
    rows: r.rows,
    splits: r.splits,
    labels: r.labels,
    split_labels: r.splitLabels,
    dropped: r.dropped,
    missing_label_lines: r.missingLabelLines,
    duplicates: r.duplicates,
    conflicting_duplicates: r.conflictingDuplicates,
    free_text: r.freeText,
    distinct_labels: r.distinctLabels,
    long: { max_chars: r.long.maxChars, over_chars: r.long.overChars, max_tokens: r.long.maxTokens, over_tokens: r.long.overTokens },
    blank_lines: r.blankLines,
    bytes: r.bytes,
    sha256: r.sha256,
    validation: r.validation,
    seed: r.seed,
    split: r.splitFraction,
    test_split: r.testFraction,
    split_by: r.splitBy,
    duplicate_texts_kept_together: r.duplicateTextsKeptTogether,
    imbalance: r.imbalance && { label: r.imbalance.label, share: r.imbalance.share, rarest: r.imbalance.rarest, rarest_share: r.imbalance.rarestShare, message: r.imbalance.message },
  };
}
