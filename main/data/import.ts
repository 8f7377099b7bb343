import { createHash } from 'node:crypto';
import { basename, extname, resolve } from 'node:path';
import { diskFullError, isDiskFull } from '../disk-full.js';
import { SproutError } from '../errors.js';
import { dataDirOf, type LibraryDb } from '../library/db.js';
import {
  distinctLabelCount,
  duplicateCounts,
  duplicateTextGroups,
  finishDataset,
  insertDataset,
  moveRowsToSplit,
  rowInserter,
  SPLITS,
  type SourceFile,
  type Split,
} from '../library/datasets.js';
import { Profiler, suggestMapping } from './profile.js';
import { openSource, type Source } from './read.js';
import { imbalanceHint, type ImbalanceHint } from './imbalance.js';
import { splitHeldOut } from './split.js';
import { defaultTemplate, parseTemplate, renderTemplate, type Template } from './template.js';
import type { ReadOptions, SourceInfo, SourceRecord } from './types.js';

export interface ImportOptions extends ReadOptions {
  /** Defaults to the file name without its extension. */
  name?: string;
  /** Columns holding the text; suggested from the data when omitted (and no template names them). */
  textColumns?: string[];
  /** The label column; undefined: suggested from the data; null: import unlabelled rows (for labelling). */
  labelColumn?: string | null;
  /** e.g. `premise: {premise} hypothesis: {hypothesis}`; its columns are text columns too. */
  template?: string;
  /** The dataset's own validation file, read with the same mapping; then no split is made. */
  validationFile?: string;
  /** Fraction of each class moved to validation when no validation file is given (default 0.1). */
  split?: number;
  /**
   * Fraction of each class moved to the test split (default 0): held out of training and of choosing the best step,
   * scored once when a run ends. Drawn from the training file, by unique text, with or without a validation file.
   */
  testSplit?: number;
  seed?: number;
  /** Texts (after the template) longer than this many characters are counted as long (default 2000). */
  maxChars?: number;
  /** Optional tokenizer hook: texts over `maxTokens` tokens (default 512) are counted too. */
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
  encoding: string;
  quoting: string | null;
  quotingReason: string | null;
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
  /** Set when one class dominates (or one is rare): what accuracy will look like, and what to judge by instead. */
  imbalance: ImbalanceHint | null;
}

const SUGGEST_SAMPLE = 1000;
/** The one split group once labels are free text (a label is never empty: such rows are dropped). */
const ALL_ROWS = '';

interface Mapping {
  textColumns: string[];
  labelColumn: string | null;
  template: Template;
}

/**
 * Imports a data file into the library as one dataset, all in one transaction: a failure at any row leaves nothing
 * behind. Checks are reported, not silently fixed: rows with empty texts or without a label are dropped and counted,
 * duplicates, long texts and free-text label columns are counted. Memory stays bounded: rows stream from the file
 * into SQLite, which also counts duplicates and labels.
 *
 * The import holds the database's write lock until it finishes; give it a connection no one else writes through.
 */
export async function importDataset(db: LibraryDb, given: string, options: ImportOptions = {}): Promise<ImportReport> {
  // The library records where the data came from; a path relative to wherever the CLI ran would not say.
  const file = resolve(given);
  const hash = createHash('sha256');
  const main = await openSource(file, { ...options, onBytes: (b) => hash.update(b) });
  const buffered = await bufferForSuggestion(main, options);
  const mapping = resolveMapping(main.info, options, buffered);
  const validationHash = createHash('sha256');
  let validation: Source | undefined;
  if (options.validationFile) {
    validation = await openSource(options.validationFile, {
      ...options,
      format: options.format ?? undefined,
      onBytes: (b) => validationHash.update(b),
    });
    checkColumns(validation.info, mapping);
  }

  const fraction = options.validationFile ? 0 : (options.split ?? 0.1);
  const testFraction = options.testSplit ?? 0;
  const seed = options.seed ?? 0;
  if (!(fraction >= 0 && fraction < 1)) {
    throw new SproutError('data-bad-split', `The validation fraction must be at least 0 and below 1, not ${fraction}.`, { hint: 'For a 90/10 split give --split 0.1.' });
  }
  if (!(testFraction >= 0 && fraction + testFraction < 1)) {
    throw new SproutError('data-bad-split', `The test fraction must be at least 0 and leave rows for training (validation ${fraction} + test ${testFraction} is not below 1).`, {
      hint: 'For 80/10/10 give --split 0.1 --test-split 0.1.',
    });
  }
  const listLimit = options.listLimit ?? 20;
  const maxChars = options.maxChars ?? 2000;
  const maxTokens = options.countTokens ? (options.maxTokens ?? 512) : null;
  const freeTextLimit = options.freeTextLimit ?? 100;
  const labelled = mapping.labelColumn !== null;

  if (db.inTransaction) throw new Error('importDataset needs a connection that is not already in a transaction');
  db.exec('BEGIN IMMEDIATE');
  try {
    const datasetId = insertDataset(db, {
      name: options.name ?? basename(file, extname(file)),
      source: { name: basename(file), size: main.info.totalBytes, sha256: '' },
      validation: null,
      format: main.info.format,
      options: {
        header: main.info.header,
        quoting: main.info.quoting ?? null,
        encoding: main.info.encoding,
        invalidUtf8: options.invalidUtf8 ?? 'error',
        split: options.validationFile ? null : fraction,
        testSplit: testFraction || null,
        seed: options.validationFile && !testFraction ? null : seed,
      },
      columnMapping: { columns: main.info.columns, textColumns: mapping.textColumns, labelColumn: mapping.labelColumn },
      labelColumn: mapping.labelColumn,
      textColumns: mapping.textColumns,
      template: mapping.template.source,
    });
    const insert = rowInserter(db, datasetId);
    const stats = {
      dropped: { empty_text: 0, missing_text: 0, missing_label: 0 },
      missingLabelLines: [] as { file: string; line: number }[],
      overChars: 0,
      overTokens: 0,
      rows: 0,
    };
    // Row ids per label for the stratified split; one group once the labels turn out to be free text.
    const groups = new Map<string, number[]>();
    let freeText = false;
    // Rows per split and label, counted here rather than by SQL afterwards; per-label counts stop at free text.
    const splits: Record<Split, number> = { train: 0, validation: 0, test: 0 };
    const labelCounts: Record<Split, Map<string, number>> = { train: new Map(), validation: new Map(), test: new Map() };
    const seenLabels = new Set<string>();
    const values: Record<string, string> = {};
    const texts: string[] = new Array(mapping.textColumns.length);
    const literalChars = mapping.template.parts.reduce((n, p) => n + (typeof p === 'string' ? p.length : 0), 0);
    const uses = mapping.textColumns.map((c) => mapping.template.parts.filter((p) => typeof p !== 'string' && p.column === c).length);

    const store = async (source: Source, records: AsyncIterable<SourceRecord>, split: Split | 'split'): Promise<void> => {
      const fileName = basename(source.info.file);
      let index = 0;
      for await (const record of records) {
        const rowIndex = index++;
        let missing = false;
        let empty = false;
        let chars = literalChars;
        for (let i = 0; i < texts.length; i++) {
          const v = record.fields[mapping.textColumns[i]];
          if (v === null || v === undefined) {
            missing = true;
            break;
          }
          if (!/\S/.test(v)) empty = true;
          texts[i] = v;
          chars += v.length * uses[i];
        }
        if (missing) {
          stats.dropped.missing_text++;
          continue;
        }
        if (empty) {
          stats.dropped.empty_text++;
          continue;
        }
        let label: string | null = null;
        if (labelled) {
          const v = record.fields[mapping.labelColumn!];
          if (v === null || v === undefined || !/\S/.test(v)) {
            stats.dropped.missing_label++;
            if (stats.missingLabelLines.length < listLimit) stats.missingLabelLines.push({ file: fileName, line: record.line });
            continue;
          }
          label = v;
        }
        if (chars > maxChars) stats.overChars++;
        if (options.countTokens) {
          for (let i = 0; i < texts.length; i++) values[mapping.textColumns[i]] = texts[i];
          if (options.countTokens(renderTemplate(mapping.template, values)) > maxTokens!) stats.overTokens++;
        }
        const target: Split = split === 'split' ? (labelled ? 'train' : 'test') : split;
        const rowid = insert(target, rowIndex, record.line, JSON.stringify(texts), label);
        splits[target]++;
        if (label !== null && !freeText && target !== 'test') {
          if (!seenLabels.has(label)) {
            seenLabels.add(label);
            if (seenLabels.size > freeTextLimit) {
              freeText = true;
              seenLabels.clear();
              for (const counts of Object.values(labelCounts)) counts.clear();
            }
          }
          if (!freeText) labelCounts[target].set(label, (labelCounts[target].get(label) ?? 0) + 1);
        }
        if (target === 'train' && labelled && fraction + testFraction > 0) {
          if (freeText && !groups.has(ALL_ROWS)) {
            const all = [...groups.values()].flat();
            groups.clear();
            groups.set(ALL_ROWS, all);
          }
          const key = freeText ? ALL_ROWS : label!;
          let group = groups.get(key);
          if (!group) groups.set(key, (group = []));
          group.push(rowid);
        }
        stats.rows++;
        if ((stats.rows & 0x3fff) === 0) options.onRows?.(stats.rows);
      }
    };

    await store(main, buffered.records, validation ? 'train' : 'split');
    let blankLines = main.blankLines();
    if (validation) {
      await store(validation, validation.records, 'validation');
      blankLines += validation.blankLines();
    }
    options.onRows?.(stats.rows);

    if (stats.rows === 0) {
      const d = stats.dropped;
      throw new SproutError('data-no-rows', `No usable rows: ${d.empty_text} with an empty text, ${d.missing_text} without the text column(s), ${d.missing_label} without a label.`, {
        file,
        hint: 'Check the column mapping (--text-column, --label-column) against `sprout data preview`.',
        uiHint: 'Check which columns are ticked as text and which one is the label.',
      });
    }
    const copies = duplicateTextGroups(db, datasetId);
    const drawSplit = labelled && fraction + testFraction > 0;
    // A validation file's rows stay where the person put them: only the training file's copies move together.
    const drawnCopies = validation ? trainingCopies(copies, groups) : copies;
    if (drawSplit) {
      const held = splitHeldOut(groups, drawnCopies, { validation: fraction, test: testFraction }, seed);
      for (const target of ['validation', 'test'] as const) {
        const moved = held[target];
        moveRowsToSplit(db, moved.rows, target);
        splits.train -= moved.rows.length;
        splits[target] += moved.rows.length;
        if (freeText) continue;
        for (const [label, k] of moved.labels) {
          labelCounts[target].set(label, (labelCounts[target].get(label) ?? 0) + k);
          labelCounts.train.set(label, labelCounts.train.get(label)! - k);
          if (labelCounts.train.get(label) === 0) labelCounts.train.delete(label);
        }
      }
    }

    const labelSet = new Set(Object.values(labelCounts).flatMap((counts) => [...counts.keys()]));
    const distinctLabels = !labelled ? 0 : freeText ? distinctLabelCount(db, datasetId) : labelSet.size;
    const labels: Record<string, number> = {};
    const splitLabels: ImportReport['splitLabels'] = { train: {}, validation: {}, test: {} };
    if (labelled && !freeText) {
      for (const label of [...labelSet].sort()) {
        labels[label] = 0;
        for (const split of SPLITS) {
          const n = labelCounts[split].get(label) ?? 0;
          labels[label] += n;
          if (n) splitLabels[split][label] = n;
        }
      }
    }
    const { duplicates, conflicting } = duplicateCounts(copies);
    const source: SourceFile = { name: basename(file), size: main.info.totalBytes, sha256: hash.digest('hex') };
    const validationSource: SourceFile | null = validation
      ? { name: basename(validation.info.file), size: validation.info.totalBytes, sha256: validationHash.digest('hex') }
      : null;
    const report: ImportReport = {
      id: datasetId,
      name: options.name ?? basename(file, extname(file)),
      file,
      format: main.info.format,
      encoding: main.info.encoding,
      quoting: main.info.quoting ?? null,
      quotingReason: main.info.quotingReason ?? null,
      header: main.info.header,
      headerReason: main.info.headerReason ?? null,
      columns: main.info.columns,
      textColumns: mapping.textColumns,
      labelColumn: mapping.labelColumn,
      template: mapping.template.source,
      rows: stats.rows,
      splits,
      labels,
      splitLabels,
      dropped: stats.dropped,
      missingLabelLines: stats.missingLabelLines,
      duplicates,
      conflictingDuplicates: conflicting,
      freeText,
      distinctLabels,
      long: { maxChars, overChars: stats.overChars, maxTokens, overTokens: maxTokens === null ? null : stats.overTokens },
      blankLines,
      bytes: source.size,
      sha256: source.sha256,
      validation: validationSource && { file: validationSource.name, bytes: validationSource.size, sha256: validationSource.sha256, quoting: validation!.info.quoting ?? null },
      seed: drawSplit ? seed : null,
      splitFraction: validation || !labelled ? null : fraction,
      testFraction: labelled && testFraction ? testFraction : null,
      splitBy: drawSplit ? 'unique text' : null,
      duplicateTextsKeptTogether: drawSplit ? drawnCopies.length : 0,
      imbalance: freeText ? null : imbalanceHint(labels),
    };
    finishDataset(db, datasetId, {
      source,
      validation: validationSource,
      labelSet: labelled && !freeText ? Object.keys(labels).sort() : null,
      report: { ...report },
    });
    db.exec('COMMIT');
    return report;
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    if (isDiskFull(error)) {
      // The rows take about as much room in the library as in the file(s) they come from.
      const needed = main.info.totalBytes + (validation?.info.totalBytes ?? 0);
      throw diskFullError(dataDirOf(db), `the dataset from ${basename(file)}`, {
        hint: 'Free some space there, then run the same `sprout data import` again (nothing of this import was kept).',
        uiHint: 'Free some space there, then import the file again (nothing of this import was kept).',
      }, needed);
    }
    throw error;
  }
}

/** The groups of repeated texts among the rows `groups` holds (the training file's), still repeated there. */
function trainingCopies(copies: { rowid: number; label: string | null }[][], groups: Map<string, number[]>): { rowid: number; label: string | null }[][] {
  const train = new Set([...groups.values()].flat());
  return copies.map((g) => g.filter((r) => train.has(r.rowid))).filter((g) => g.length > 1);
}

/**
 * When the mapping must be guessed, the first records are held back and profiled; the returned source yields them
 * again before the rest, so the file is read once.
 */
async function bufferForSuggestion(source: Source, options: ImportOptions): Promise<Source & { sample: SourceRecord[] }> {
  const needed = (options.textColumns === undefined && options.template === undefined) || options.labelColumn === undefined;
  const sample: SourceRecord[] = [];
  if (!needed) return { ...source, sample };
  const iterator = source.records[Symbol.asyncIterator]();
  let done = false;
  while (sample.length < SUGGEST_SAMPLE) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    sample.push(next.value);
  }
  async function* replay(): AsyncGenerator<SourceRecord> {
    yield* sample;
    if (done) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return { ...source, records: replay(), sample };
}

function resolveMapping(info: SourceInfo, options: ImportOptions, buffered: { sample: SourceRecord[] }): Mapping {
  let suggestion: { textColumns: string[]; labelColumn: string | null } | undefined;
  const suggest = () => {
    if (!suggestion) {
      const profiler = new Profiler(info.columns);
      for (const r of buffered.sample) profiler.add(r);
      suggestion = suggestMapping(profiler.profiles(), profiler.rows);
    }
    return suggestion;
  };
  const template = options.template === undefined ? undefined : parseTemplate(options.template);
  const labelColumn = options.labelColumn === undefined ? suggest().labelColumn : options.labelColumn;
  let textColumns = options.textColumns ?? (template ? template.columns : suggest().textColumns.filter((c) => c !== labelColumn));
  if (template) textColumns = [...textColumns, ...template.columns.filter((c) => !textColumns.includes(c))];
  textColumns = [...new Set(textColumns)];
  if (textColumns.length === 0) {
    throw new SproutError('data-no-text-column', 'No column looks like text.', {
      file: info.file,
      hint: `Choose one with --text-column (columns: ${info.columns.join(', ')}).`,
      uiHint: 'Tick the column(s) that hold the text.',
    });
  }
  const mapping: Mapping = {
    textColumns,
    labelColumn,
    template: template ?? parseTemplate(defaultTemplate(textColumns, info.header)),
  };
  return checkColumns(info, mapping);
}

/** Every mapped column must exist; a headerless file's columns are its 0-based indexes. */
function checkColumns(info: SourceInfo, mapping: Mapping): Mapping {
  const wanted = [...mapping.textColumns, ...(mapping.labelColumn === null ? [] : [mapping.labelColumn])];
  for (const column of wanted) {
    if (!info.columns.includes(column)) {
      const what = column === mapping.labelColumn ? 'label' : 'text';
      throw new SproutError('data-missing-column', `The ${what} column ${JSON.stringify(column)} is not in this ${info.format.toUpperCase()} file.`, {
        file: info.file,
        hint: `Its columns are: ${info.columns.map((c) => JSON.stringify(c)).join(', ')}${info.header ? '' : ' (0-based indexes: the file has no header)'}.${
          what === 'label' ? ' To import examples without labels (for labelling), leave out --label-column.' : ''
        }`,
        uiHint: `Its columns are: ${info.columns.map((c) => JSON.stringify(c)).join(', ')}.`,
      });
    }
  }
  return mapping;
}
