import { BINARY_FORMATS, DATA_FORMAT_LABELS, formatIn } from '../choices.js';
import { defaultTemplate } from '../data/template.js';
import type { ReadOptions, SourceInfo } from '../data/types.js';
import { caseVariantsNotes, labelSetNotes } from '../data/values.js';
import { SproutError } from '../errors.js';
import type { ImportReport } from '../library/import-dataset.js';
import type { LibraryDb } from '../library/db.js';
import { getDataset, type DatasetRecord } from '../library/datasets.js';
import type { DataSource } from '../train/config.js';
import { parseVerbalizer } from '../train/task.js';
import { UsageError, type Command, type ParsedArgs } from './command.js';
import {
  encodingFlag,
  formatFlag,
  headerFlag,
  invalidUtf8Flag,
  listFlag,
  numberFlag,
  quotingFlag,
  separatorFlag,
  stringFlag,
} from './flags.js';

/** How to read a data file, for every command that takes one: the choices readOptions() reads, and --no-header. */
export const fileReadChoices = [formatFlag, headerFlag, quotingFlag, separatorFlag, encodingFlag, invalidUtf8Flag];
export const fileReadFlags: Command['options'] = { 'no-header': { type: 'boolean', default: false }, sheet: { type: 'string' } };
/** The reading flags as usage texts show them: the file's layout, then (a line of its own) its text. */
export const FILE_READ_HELP = `[${formatFlag.help}] [${headerFlag.help}] [--no-header] [${quotingFlag.help}] [${separatorFlag.help}] [--sheet NAME]`;
export const TEXT_READ_HELP = `[${encodingFlag.help}] [${invalidUtf8Flag.help}]`;
/** What --encoding is for, for the usage of the commands that read a file. */
export const ENCODING_NOTE = `A file is read as UTF-8 (or UTF-16 where a byte order mark says so) unless --encoding names the code page it was
saved in: Excel on Windows saves a "CSV (Comma delimited)" in the code page of the system's language (windows-1252
for Western European ones), and its "CSV UTF-8" as UTF-8 with a byte order mark; Excel for Mac's "CSV (Macintosh)"
is in Mac OS Roman (macintosh), its lines ending in a lone CR, which is read as a line break. Where the comma is the decimal
mark (German, French, Dutch, …), Excel separates a CSV's fields with semicolons: the separator is detected from
the first rows unless --separator says. A workbook (.xlsx) is read from its first visible sheet unless --sheet
names another.`;

/** Options shared by `sprout data preview` and `sprout data import`. */
export const readFlags: Command['options'] = { ...fileReadFlags, json: { type: 'boolean', default: false } };

export function readOptions(values: ParsedArgs['values']): ReadOptions {
  return {
    format: formatFlag.read(values),
    header: headerOption(values),
    quoting: quotingFlag.read(values),
    separator: separatorFlag.read(values),
    sheet: stringFlag(values, 'sheet'),
    encoding: encodingFlag.read(values),
    invalidUtf8: invalidUtf8Flag.read(values),
  };
}

/**
 * A data file as training reads it: the reading flags, then --skip N (records left out first) and --limit N (the
 * next N kept), or their --validation-/--test- forms for those files (`prefix`); --validation-sheet and --test-sheet
 * name those files' sheets where --sheet's does not fit.
 */
export function fileSource(values: ParsedArgs['values'], file: string, prefix: '' | 'validation-' | 'test-' = ''): DataSource {
  const read = readOptions(values);
  return {
    file,
    format: read.format,
    header: read.header,
    quoting: read.quoting,
    separator: read.separator,
    sheet: (prefix && stringFlag(values, `${prefix}sheet`)) || read.sheet,
    encoding: read.encoding,
    invalidUtf8: read.invalidUtf8,
    skip: numberFlag(values, `${prefix}skip`, { min: 0 }),
    limit: numberFlag(values, `${prefix}limit`, { min: 1 }),
  };
}

/** The imported dataset `id`; refused, naming where the ids are listed, when there is none. */
export function requireDataset(db: LibraryDb, id: number): DatasetRecord {
  const dataset = getDataset(db, id);
  if (!dataset)
    throw new SproutError('unknown-dataset', `There is no imported dataset ${id}.`, { hint: 'See `sprout data list` for the ids.' });
  return dataset;
}

/** A task as the flags give it, each part undefined where they do not; the caller says what is missing. */
export interface TaskFlags {
  template?: string;
  labelColumn?: string;
  verbalizer?: Record<string, string>;
}

/**
 * The task flags of training and probing: --template, else "C: {C}" pairs of --text-column, else the dataset's own
 * template; --label-column, else the dataset's; --verbalizer label=words pairs.
 */
export function taskFlags(values: ParsedArgs['values'], dataset?: DatasetRecord): TaskFlags {
  const textColumns = listFlag(values, 'text-column');
  const verbalizer = stringFlag(values, 'verbalizer');
  return {
    template: stringFlag(values, 'template') ?? (textColumns.length ? defaultTemplate(textColumns, true) : dataset?.template),
    labelColumn: stringFlag(values, 'label-column') ?? dataset?.labelColumn ?? undefined,
    verbalizer: verbalizer === undefined ? undefined : parseVerbalizer(verbalizer),
  };
}

/** --header (auto: detected from the first rows); --no-header is short for --header no. */
export function headerOption(values: ParsedArgs['values']): boolean | undefined {
  const given = headerFlag.read(values);
  if (values['no-header']) {
    if (given !== undefined && given !== 'no') throw new UsageError('Give either --header or --no-header, not both.');
    return false;
  }
  return given === 'yes' ? true : given === 'no' ? false : undefined;
}

export function onePositional(
  { positionals, listHint }: Pick<ParsedArgs, 'positionals' | 'listHint'>,
  what: string,
  command: string,
): string {
  if (positionals.length === 1) return positionals[0];
  const hint = positionals.length > 1 && listHint ? ` (${listHint})` : '';
  throw new UsageError(`Give exactly one ${what}${hint}. Run \`sprout ${command} --help\` for usage.`);
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

/** One line describing a dataset for people: id, name, source file, rows per split, labels. */
export function datasetLine(d: DatasetRecord): string {
  const r = d.report as { rows?: number; splits?: Record<string, number> };
  const splits = Object.entries(r.splits ?? {})
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${s} ${n}`)
    .join(', ');
  return `${d.id}  ${d.name}  (${d.source.name}, ${r.rows ?? 0} rows: ${splits}; ${d.labelSet ? `${d.labelSet.length} labels` : 'unlabelled'})`;
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

/** How a file was read (data/read.ts howRead), in the snake_case JSON that `sprout` commands print. */
export function howReadJson(
  h: Pick<
    ImportReport,
    | 'format'
    | 'formatReason'
    | 'encoding'
    | 'quoting'
    | 'quotingReason'
    | 'separator'
    | 'separatorReason'
    | 'sheet'
    | 'sheets'
    | 'sheetReason'
    | 'header'
    | 'headerReason'
  >,
) {
  return {
    format: h.format,
    format_reason: h.formatReason ?? null,
    encoding: h.encoding,
    quoting: h.quoting,
    quoting_reason: h.quotingReason,
    separator: h.separator ?? null,
    separator_reason: h.separatorReason ?? null,
    sheet: h.sheet ?? null,
    sheets: h.sheets ?? null,
    sheet_reason: h.sheetReason ?? null,
    header: h.header,
    header_reason: h.headerReason,
  };
}

/** The import report in the snake_case JSON that `sprout` commands print. */
export function importJson(r: ImportReport): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    file: r.file,
    ...howReadJson(r),
    columns: r.columns,
    text_columns: r.textColumns,
    label_column: r.labelColumn,
    template: r.template,
    rows: r.rows,
    splits: r.splits,
    labels: r.labels,
    split_labels: r.splitLabels,
    dropped: r.dropped,
    trimmed_labels: r.trimmedLabels ?? 0,
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
    validation_repeats_training: r.validationRepeatsTraining,
    label_notes: [...(r.freeText ? [] : caseVariantsNotes(Object.keys(r.labels))), ...labelSetNotes(r.splitLabels)],
    imbalance: r.imbalance && {
      label: r.imbalance.label,
      share: r.imbalance.share,
      rarest: r.imbalance.rarest,
      rarest_share: r.imbalance.rarestShare,
      message: r.imbalance.message,
    },
  };
}

/** A file's format, and a text file's encoding: "CSV, utf-8", "Excel workbook". */
export function readAs(info: SourceInfo): string {
  return formatIn(BINARY_FORMATS, info.format) ? DATA_FORMAT_LABELS[info.format] : `${info.format.toUpperCase()}, ${info.encoding}`;
}

/** What was detected about the reading, and why: one line each. */
export function readingNotes(info: SourceInfo): string[] {
  const notes: string[] = [];
  if (info.formatReason && info.format === 'tsv')
    notes.push(`  format: TSV, ${info.formatReason} (--format text reads it a line an example)`);
  else if (info.formatReason) notes.push(`  format: ${DATA_FORMAT_LABELS[info.format]}, ${info.formatReason}`);
  if (info.sheet !== undefined) notes.push(`  sheet: ${JSON.stringify(info.sheet)}${info.sheetReason ? `, ${info.sheetReason}` : ''}`);
  if (info.separatorReason) notes.push(`  separator: ${info.separatorReason} (${separatorFlag.help} to choose)`);
  if (info.quotingReason) notes.push(`  quoting: ${info.quotingReason}`);
  if (info.headerReason) notes.push(`  header: ${info.header ? 'yes' : 'no'}, ${info.headerReason} (--header yes|no to choose)`);
  return notes;
}
