/**
 * Imports a data file into the library as one dataset: the sources opened and mapped (data/mapping.ts), the rows
 * stored, checked and counted (import-rows.ts), held-out rows drawn, and the report of what was found.
 */
import { createHash, type Hash } from 'node:crypto';
import { basename, resolve } from 'node:path';
import { diskFullError, isDiskFull } from '../disk-full.js';
import { SproutError } from '../errors.js';
import { sameFile } from '../same-file.js';
import { defaultDatasetName } from '../data/dataset-name.js';
import { bufferForSuggestion, checkColumns, resolveMapping, type Mapping, type MappingRequest } from '../data/mapping.js';
import { imbalanceHint, type ImbalanceHint } from '../data/imbalance.js';
import { howRead, openSource, type Source } from '../data/read.js';
import { asHeldOutSheetError } from '../data/xlsx-workbook.js';
import type { Split } from '../choices.js';
import type { ReadOptions, SourceInfo, SourceRecord } from '../data/types.js';
import { duplicateCounts, finishDataset, insertDataset, type SourceFile } from './datasets.js';
import { dataDirOf, type LibraryDb } from './db.js';
import { ImportedRows, type RowChecks } from './import-rows.js';
import { copyStagedDataset, openStaging, type Staging } from './import-staging.js';
import { DEFAULT_HELD_OUT, MAX_HELD_OUT } from '../data/split.js';
import { DEFAULT_MAX_INPUT_LENGTH } from '../train/task.js';

export interface ImportOptions extends ReadOptions, MappingRequest {
  /** Defaults to the file name without its extension. */
  name?: string;
  /** The dataset's own validation file, read with the same mapping; then no split is made. */
  validationFile?: string;
  /** Its sheet where it is a workbook and --sheet's name does not fit (the same workbook's other sheet, say). */
  validationSheet?: string;
  /** Fraction of each class moved to validation when no validation file is given (default DEFAULT_HELD_OUT's, 0.1). */
  split?: number;
  /**
   * Fraction of each class moved to the test split (default 0): held out of training and of choosing the best step,
   * scored once when a run ends. Drawn from the training file, by unique text, with or without a validation file.
   */
  testSplit?: number;
  seed?: number;
  /** Texts (after the template) longer than this many characters are counted as long (default DEFAULT_MAX_CHARS). */
  maxChars?: number;
  /** Optional tokenizer hook: texts over `maxTokens` tokens (default training's input limit) are counted too. */
  countTokens?: (text: string) => number;
  maxTokens?: number;
  /** More distinct labels than this marks the label column as free text (default 100). */
  freeTextLimit?: number;
  /** How many line numbers of rows without a label to list (default 20). */
  listLimit?: number;
  onRows?: (rows: number) => void;
}

export interface ImportReport {
  id: number;
  name: string;
  file: string;
  format: string;
  /** Why a .txt file was read as TSV; absent from reports stored before .txt tables were detected. */
  formatReason?: string | null;
  encoding: string;
  quoting: string | null;
  quotingReason: string | null;
  /** CSV: comma or semicolon, and why when detected so; absent from reports stored before separators were read. */
  separator?: string | null;
  separatorReason?: string | null;
  /** Excel workbooks: the sheet read, and why that one when there are others; absent from reports stored before. */
  sheet?: string | null;
  /** Its visible sheets, in order. */
  sheets?: string[] | null;
  sheetReason?: string | null;
  header: boolean;
  /** Why the header was guessed so; null when it was given. */
  headerReason: string | null;
  columns: string[];
  textColumns: string[];
  labelColumn: string | null;
  template: string;
  /** Rows stored, over all splits. */
  rows: number;
  splits: Record<Split, number>;
  /** Labelled rows per label over all splits (empty for free-text labels). */
  labels: Record<string, number>;
  splitLabels: Record<Split, Record<string, number>>;
  dropped: { empty_text: number; missing_text: number; missing_label: number };
  /** Labels stored without the spaces around them ("positive " as "positive"); absent from older reports. */
  trimmedLabels?: number;
  /** Where rows without a label are (the first listLimit of them). */
  missingLabelLines: { file: string; line: number }[];
  /** Extra copies of texts already present, and texts that occur with different labels. */
  duplicates: number;
  conflictingDuplicates: number;
  freeText: boolean;
  distinctLabels: number;
  long: { maxChars: number; overChars: number; maxTokens: number | null; overTokens: number | null };
  blankLines: number;
  bytes: number;
  sha256: string;
  validation: { file: string; bytes: number; sha256: string; quoting: string | null } | null;
  seed: number | null;
  splitFraction: number | null;
  /** The share of each class drawn into the test split; null without one. */
  testFraction: number | null;
  /** How the held-out rows were drawn: by unique text (every copy of a text on the same side); null without a draw. */
  splitBy: 'unique text' | null;
  /** Texts that occur more than once and were kept on one side of the split. */
  duplicateTextsKeptTogether: number;
  /** Rows of the validation file whose text is also a training row's (repeatsTrainingNote says what that means). */
  validationRepeatsTraining: number;
  /** Set when one class dominates (or one is rare): what accuracy will look like, and what to judge by instead. */
  imbalance: ImbalanceHint | null;
}

/** The file and its validation file, opened and mapped; each hashed as it is read. */
interface OpenedSources {
  file: string;
  main: Source & { sample: SourceRecord[] };
  mainHash: Hash;
  validation?: Source;
  validationHash: Hash;
  mapping: Mapping;
}

async function openSources(given: string, options: ImportOptions): Promise<OpenedSources> {
  // The library records where the data came from; a path relative to wherever the CLI ran would not say.
  const file = resolve(given);
  const mainHash = createHash('sha256');
  const main = await bufferForSuggestion(await openSource(file, { ...options, onBytes: (b) => mainHash.update(b) }), options);
  const mapping = resolveMapping(main.info, options, main);
  const validationHash = createHash('sha256');
  if (!options.validationFile) return { file, main, mainHash, validationHash, mapping };
  const validation = await openSource(options.validationFile, {
    ...options,
    format: options.format ?? undefined,
    sheet: options.validationSheet ?? options.sheet,
    onBytes: (b) => validationHash.update(b),
  }).catch((error: unknown) => {
    throw asHeldOutSheetError(error, 'validation');
  });
  if (sameRows(main.info, validation.info)) throw validationIsTraining(main.info);
  checkColumns(validation.info, mapping);
  return { file, main, mainHash, validation, validationHash, mapping };
}

/** Whether two sources are one file read from the same sheet. */
function sameRows(a: SourceInfo, b: SourceInfo): boolean {
  return sameFile(a.file, b.file) && a.sheet === b.sheet;
}

function validationIsTraining(info: SourceInfo): SproutError {
  const others = (info.sheets ?? []).filter((s) => s !== info.sheet);
  const sheet = info.sheet === undefined ? '' : `, read from the same sheet "${info.sheet}"`;
  return new SproutError(
    'data-validation-is-training',
    `The validation file is the file being imported${sheet}: validation would score the training rows themselves.`,
    {
      file: info.file,
      hint: others.length
        ? `Name the sheet to validate on with --validation-sheet (its other sheets: ${others.map((s) => `"${s}"`).join(', ')}),` +
          ' or leave --validation out to hold out a share of each class.'
        : 'Give another file as --validation, or leave it out to hold out a share of each class.',
      uiHint: others.length
        ? `Choose its validation sheet under "Validation sheet", or leave "Validation file" empty to hold out a share of each class.`
        : 'Choose another validation file, or leave "Validation file" empty to hold out a share of each class.',
    },
  );
}

/** The shares of each class held out: validation (none with a validation file) and test. */
function heldOutShares(options: ImportOptions): { validation: number; test: number } {
  const validation = options.validationFile ? 0 : (options.split ?? DEFAULT_HELD_OUT.validation);
  const test = options.testSplit ?? 0;
  if (!(validation >= 0 && validation <= MAX_HELD_OUT.validation)) {
    throw new SproutError('data-bad-split', `The validation fraction must be from 0 to ${MAX_HELD_OUT.validation}, not ${validation}.`, {
      hint: 'For a 90/10 split give --split 0.1.',
    });
  }
  if (!(test >= 0 && test <= MAX_HELD_OUT.test)) {
    throw new SproutError('data-bad-split', `The test fraction must be from 0 to ${MAX_HELD_OUT.test}, not ${test}.`, {
      hint: 'For 80/10/10 give --split 0.1 --test-split 0.1.',
    });
  }
  if (validation + test >= 1) {
    throw new SproutError(
      'data-bad-split',
      `The held-out fractions leave no rows for training (validation ${validation} + test ${test} is not below 1).`,
      {
        hint: 'For 80/10/10 give --split 0.1 --test-split 0.1.',
      },
    );
  }
  return { validation, test };
}

/** The report counts texts longer than this many characters as long, unless told another limit. */
export const DEFAULT_MAX_CHARS = 2000;

/** The lengths a text is counted as long beyond: characters, and tokens where a tokenizer counts them. */
function textLimits(options: ImportOptions): { maxChars: number; maxTokens: number | null } {
  return {
    maxChars: options.maxChars ?? DEFAULT_MAX_CHARS,
    maxTokens: options.countTokens ? (options.maxTokens ?? DEFAULT_MAX_INPUT_LENGTH) : null,
  };
}

function rowChecks(options: ImportOptions, labelled: boolean, shares: { validation: number; test: number }): RowChecks {
  return {
    ...textLimits(options),
    countTokens: options.countTokens,
    freeTextLimit: options.freeTextLimit ?? 100,
    listLimit: options.listLimit ?? 20,
    drawing: labelled && shares.validation + shares.test > 0,
    onRows: options.onRows,
  };
}

/** The dataset's row, before its rows: how the file was read and mapped. */
function newDataset(db: LibraryDb, s: OpenedSources, options: ImportOptions, shares: { validation: number; test: number }): number {
  const { main, mapping } = s;
  return insertDataset(db, {
    name: options.name ?? defaultDatasetName(s.file),
    source: { name: basename(s.file), size: main.info.totalBytes, sha256: '' },
    validation: null,
    format: main.info.format,
    options: {
      header: main.info.header,
      quoting: main.info.quoting ?? null,
      encoding: main.info.encoding,
      invalidUtf8: options.invalidUtf8 ?? 'error',
      split: options.validationFile ? null : shares.validation,
      testSplit: shares.test || null,
      seed: options.validationFile && !shares.test ? null : (options.seed ?? 0),
    },
    columnMapping: { columns: main.info.columns, textColumns: mapping.textColumns, labelColumn: mapping.labelColumn },
    labelColumn: mapping.labelColumn,
    textColumns: mapping.textColumns,
    template: mapping.template.source,
  });
}

function noRows(file: string, d: ImportedRows['dropped']): SproutError {
  return new SproutError(
    'data-no-rows',
    `No usable rows: ${d.empty_text} with an empty text, ${d.missing_text} without the text column(s), ${d.missing_label} without a label.`,
    {
      file,
      hint: 'Check the column mapping (--text-column, --label-column) against `sprout data preview`.',
      uiHint: 'Check which columns are ticked as text and which one is the label.',
    },
  );
}

/**
 * Imports a data file into the library as one dataset, all in one transaction: a failure at any row leaves nothing
 * behind. Checks are reported, not silently fixed: rows with empty texts or without a label are dropped and counted,
 * duplicates, long texts and free-text label columns are counted. Memory stays bounded: rows stream from the file
 * into SQLite, which also counts duplicates and labels. They stream into a staging library (import-staging.ts), so
 * the library's write lock is held only for the copy at the end, and other writers, on this thread or elsewhere, go
 * on meanwhile.
 */
export async function importDataset(db: LibraryDb, given: string, options: ImportOptions = {}): Promise<ImportReport> {
  const sources = await openSources(given, options);
  const shares = heldOutShares(options);
  if (db.inTransaction) throw new Error('importDataset needs a connection that is not already in a transaction');
  let staging: Staging | undefined;
  try {
    staging = openStaging(dataDirOf(db));
    const report = await stageDataset(staging.db, sources, options, shares);
    staging.db.close();
    return { ...report, id: copyStagedDataset(db, staging.file, report.id) };
  } catch (error) {
    throw isDiskFull(error) ? diskFull(db, sources) : error;
  } finally {
    staging?.dispose();
  }
}

/** The whole import into `staging`; the report's id is the staging library's. */
async function stageDataset(
  staging: LibraryDb,
  sources: OpenedSources,
  options: ImportOptions,
  shares: { validation: number; test: number },
): Promise<ImportReport> {
  // One transaction for speed only: the staging library is thrown away when anything fails.
  staging.exec('BEGIN');
  const datasetId = newDataset(staging, sources, options, shares);
  const rows = new ImportedRows(staging, datasetId, sources.mapping, rowChecks(options, sources.mapping.labelColumn !== null, shares));
  await rows.store(sources.main, sources.main.records, sources.validation ? 'train' : 'split');
  if (sources.validation) await rows.store(sources.validation, sources.validation.records, 'validation');
  options.onRows?.(rows.rows);
  if (rows.rows === 0) throw noRows(sources.file, rows.dropped);
  const drawn = rows.drawHeldOut(shares, options.seed ?? 0, sources.validation !== undefined);
  const report = importReport(datasetId, sources, rows, drawn, options, shares);
  finishDataset(staging, datasetId, {
    source: { name: basename(sources.file), size: report.bytes, sha256: report.sha256 },
    validation: report.validation && { name: report.validation.file, size: report.validation.bytes, sha256: report.validation.sha256 },
    labelSet: rows.labelled && !rows.freeText ? Object.keys(report.labels).sort() : null,
    report: { ...report },
  });
  staging.exec('COMMIT');
  return report;
}

function diskFull(db: LibraryDb, s: OpenedSources): SproutError {
  // The rows take about as much room in the library as in the file(s) they come from, and as much again in the
  // staging library until they are copied.
  const needed = 2 * (s.main.info.totalBytes + (s.validation?.info.totalBytes ?? 0));
  return diskFullError(
    dataDirOf(db),
    `the dataset from ${basename(s.file)}`,
    {
      hint: 'Free some space there, then run the same `sprout data import` again (nothing of this import was kept).',
      uiHint: 'Free some space there, then import the file again (nothing of this import was kept).',
    },
    needed,
  );
}

function importReport(
  id: number,
  s: OpenedSources,
  rows: ImportedRows,
  drawn: ReturnType<ImportedRows['drawHeldOut']>,
  options: ImportOptions,
  shares: { validation: number; test: number },
): ImportReport {
  const { main, mapping, validation } = s;
  const drawing = rows.labelled && shares.validation + shares.test > 0;
  const { duplicates, conflicting } = duplicateCounts(drawn.copies);
  const { labels, splitLabels, distinctLabels } = rows.labelSummary();
  const source: SourceFile = { name: basename(s.file), size: main.info.totalBytes, sha256: s.mainHash.digest('hex') };
  return {
    id,
    name: options.name ?? defaultDatasetName(s.file),
    file: s.file,
    ...howRead(main.info),
    columns: main.info.columns,
    textColumns: mapping.textColumns,
    labelColumn: mapping.labelColumn,
    template: mapping.template.source,
    rows: rows.rows,
    splits: rows.splits,
    labels,
    splitLabels,
    dropped: rows.dropped,
    trimmedLabels: rows.trimmedLabels,
    missingLabelLines: rows.missingLabelLines,
    duplicates,
    conflictingDuplicates: conflicting,
    freeText: rows.freeText,
    distinctLabels,
    long: longTexts(options, rows),
    blankLines: main.blankLines() + (validation?.blankLines() ?? 0),
    bytes: source.size,
    sha256: source.sha256,
    validation: validationFile(s),
    seed: drawing ? (options.seed ?? 0) : null,
    splitFraction: validation || !rows.labelled ? null : shares.validation,
    testFraction: rows.labelled && shares.test ? shares.test : null,
    splitBy: drawing ? 'unique text' : null,
    duplicateTextsKeptTogether: drawn.keptTogether,
    validationRepeatsTraining: validation ? rows.validationRepeatingTraining() : 0,
    imbalance: rows.freeText ? null : imbalanceHint(labels),
  };
}

/** The limits texts were checked against, and how many rows went over them. */
function longTexts(options: ImportOptions, rows: ImportedRows): ImportReport['long'] {
  const { maxChars, maxTokens } = textLimits(options);
  return {
    maxChars,
    overChars: rows.overChars,
    maxTokens,
    overTokens: maxTokens === null ? null : rows.overTokens,
  };
}

/** The validation file as the report describes it; null without one. */
function validationFile({ validation, validationHash }: OpenedSources): ImportReport['validation'] {
  if (!validation) return null;
  return {
    file: basename(validation.info.file),
    bytes: validation.info.totalBytes,
    sha256: validationHash.digest('hex'),
    quoting: validation.info.quoting ?? null,
  };
}
