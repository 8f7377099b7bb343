/**
 * A labelling job: read → batch → score → write, streaming, in input order, with bounded memory.
 *
 * Commit protocol (what makes cancel, crash and resume safe):
 * 1. Records are taken from the input in windows of `commitRows`; each window is tokenised, sorted by length into
 *    batches (less padding), scored, and put back in input order.
 * 2. The window's output rows are appended to the output file, which is then fsynced.
 * 3. One SQLite transaction records the rows handled so far, the output file's length, the running totals and the
 *    window's rows (for review) in label_jobs/label_rows.
 * A crash before 3 leaves bytes past the recorded length; resuming truncates the output to the recorded length and
 * reads the input again from the recorded row, so no row is lost or written twice. Parquet and workbook output are
 * written as a JSON Lines part file under the same protocol and converted at the end (see part-output.ts).
 */
import { addCount } from '../data/values.js';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { openSource } from '../data/read.js';
import { parseTemplate, type Template } from '../data/template.js';
import { ENCODING_CHOICES, isOneOf, labelledFormat, RUN_LIMITS, type CsvSeparator, type EncodingChoice } from '../choices.js';
import type { DataFormat, LegacyEncoding, Quoting, SourceInfo, SourceRecord } from '../data/types.js';
import { diskFullError, isDiskFull } from '../disk-full.js';
import { SproutError } from '../errors.js';
import { checkOutputFile } from '../output-path.js';
import { claimWriter } from '../writer-lock.js';
import { dataDirOf, type LibraryDb } from '../library/db.js';
import type { PromptModel } from '../runtime/types.js';
import { DEFAULT_MAX_INPUT_LENGTH } from '../train/task.js';
import { decisionText, type Decision } from '../train/threshold.js';
import { accuracyReport, addGold, emptyGoldCounts, type AccuracyReport } from '../train/metrics.js';
import { addedColumnNames, addedColumns, type AddedColumns } from './columns.js';
import { outputFormatOf, roundProbability, rowEncoder, type AddedValue, type OutputFormat, type RowEncoder } from './encode.js';
import { count, midSentence } from '../wording.js';
import {
  commitChunk,
  createJob,
  dropRowsFrom,
  finishJob,
  getJob,
  jobRows,
  jobWriter,
  markOutputReplaced,
  newJobId,
  setJobStatus,
  unscoredRow,
  type LabelJob,
  type ScoredRow,
} from './jobs.js';
import { AppendFile, refuseExisting } from './output-file.js';
import { claimOutput, defaultOutputPath, outputNote, refuseOutputOverInput, sealOf } from './ownership.js';
import { FILE_REF_PREFIX } from './prompt-file.js';
import { appendedPath, convertPart, isPartFormat, partPath } from './part-output.js';
import { checkSheetFits } from './workbook-output.js';
import { labelRoutedWindow, planRouting, RoutedScorer, unionTask, type RoutingChoice } from './routed.js';
import { Scorer, type LabelTokenizer, type Outcome } from './scorer.js';
import { truncateIds } from '../tokenizer/index.js';
import { renderText, resolveTextSpec } from './text.js';
import {
  withoutDecision,
  type LabelJobSpec,
  type LabelProgress,
  type LabelPrompt,
  type LabelStats,
  type LabelTask,
  type OutputColumn,
} from './types.js';

/** The frozen model, its tokenizer and the prompt(s) to label with (several: an ensemble of one task, or a multi-task job's routes). */
export interface LabelEngine {
  model: PromptModel;
  tokenizer: LabelTokenizer;
  prompts: LabelPrompt[];
  /** Where the model came from (folder or library id), recorded with the job. */
  modelRef: string;
}

export interface LabelJobOptions {
  input: string;
  inputFormat?: DataFormat;
  /** CSV/TSV: whether the first line names the columns (default true). */
  header?: boolean;
  quoting?: Quoting;
  /** The input's encoding when it has no byte order mark (default UTF-8). */
  encoding?: EncodingChoice;
  /** A CSV input's separator; detected when omitted. */
  separator?: CsvSeparator;
  /** A workbook's sheet, by name; default the first visible one. */
  sheet?: string;
  /** Default: beside the input, named after the input and the prompt, never another job's output (ownership.ts). */
  output?: string;
  /** Default: the output's extension, else the input's format (JSON arrays become JSON Lines, plain text becomes CSV). */
  format?: OutputFormat;
  overwrite?: boolean;
  /** Consent to write over the output of this labelling job (which then no longer owns it). */
  replaceJob?: string;
  textColumns?: string[];
  /** Overrides the task's own template. */
  template?: string;
  goldColumn?: string;
  batchSize?: number;
  lengthNormalise?: boolean;
  /**
   * Longer inputs keep their first maxInputTokens − 1 tokens and eos. Default: the limit the prompts were trained
   * with (the largest, for several; LabelPrompt.inputLimit), else 512, T5's length.
   */
  maxInputTokens?: number;
  /** Free-text tasks: the longest output in tokens (default 64). */
  maxNewTokens?: number;
  /** Rows per commit (default 8 batches); fixed for the job, so a resumed job batches its rows as the first run would. */
  commitRows?: number;
  /** A multi-task job: each row's task column value (or each text column) picks its prompt, engine.prompts[i] for route i. */
  routing?: RoutingChoice;
}

export interface RunControl {
  signal?: AbortSignal;
  onProgress?: (progress: LabelProgress) => void;
}

export interface LabelSummary {
  job_id: string;
  status: LabelJob['status'];
  output: string;
  format: OutputFormat;
  /** Input rows handled (labelled + skipped). */
  rows: number;
  total_rows: number;
  labelled: number;
  skipped: number;
  skipped_reasons: Record<string, number>;
  truncated: number;
  /** Rows handled per second in this run. */
  rows_per_s: number;
  label_counts: Record<string, number>;
  /** Ensembles: mean share of prompts agreeing with the vote. */
  agreement?: number;
  /** The prompt's decision threshold, when it decided instead of the more probable label. */
  decision?: Decision & { rule: string };
  accuracy?: AccuracyReport;
}

/**
 * What a job uses when not told: also what its memory plan counts (main/label/memory-plan.ts). Rows are committed
 * every commitBatches batches.
 */
export const LABEL_DEFAULTS = { batchSize: 32, maxInputTokens: DEFAULT_MAX_INPUT_LENGTH, maxNewTokens: 64, commitBatches: 8 };

export function promptSha256(data: Float32Array): string {
  return createHash('sha256')
    .update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    .digest('hex');
}

/** The prompts as a default output name shows them: library names, prompt files by their file name. */
function promptsName(prompts: readonly LabelPrompt[]): string {
  return prompts.map((p) => (p.ref.startsWith(FILE_REF_PREFIX) ? basename(p.name, extname(p.name)) : p.name)).join('+');
}

function checkLabelSet(name: string, task: LabelTask): void {
  if (task.kind !== 'classification') return;
  if (task.labels.length < 1 || task.labels.length !== task.verbalisers.length) {
    throw new SproutError(
      'label-bad-task',
      `The prompt "${name}" has ${task.labels.length} labels and ${task.verbalisers.length} verbaliser texts.`,
      {
        hint: 'A classification task needs one verbaliser text per label.',
      },
    );
  }
  if (new Set(task.labels).size !== task.labels.length) throw new SproutError('label-bad-task', `The prompt "${name}" repeats a label.`);
}

/** Prompts fit the model; an ensemble's prompts share a task; a multi-task job's routes each bring their own. */
function checkTask(engine: LabelEngine, routeTasks?: readonly LabelTask[]): void {
  const [first, ...rest] = engine.prompts;
  if (!first) throw new SproutError('label-no-prompt', 'No prompt to label with.', { hint: 'Pass --prompt.' });
  const task = first.task;
  if (routeTasks) routeTasks.forEach((t, i) => checkLabelSet(engine.prompts[i]?.name ?? `route ${i + 1}`, t));
  else checkLabelSet(first.name, task);
  const d = engine.model.config.dModel;
  for (const p of engine.prompts) {
    if (p.prompt.data.length !== p.prompt.length * d) {
      throw new SproutError(
        'label-prompt-mismatch',
        `The prompt "${p.name}" has rows of ${p.prompt.data.length / Math.max(1, p.prompt.length)} values; this model's d_model is ${d}.`,
        {
          hint: 'Label with the model the prompt was trained on.',
        },
      );
    }
  }
  for (const p of routeTasks ? [] : rest) {
    if (JSON.stringify([p.task.kind, p.task.labels, p.task.verbalisers]) !== JSON.stringify([task.kind, task.labels, task.verbalisers])) {
      throw new SproutError(
        'label-ensemble-mismatch',
        `The prompts "${first.name}" and "${p.name}" have different label sets; an ensemble needs prompts of one task.`,
      );
    }
  }
}

/** Starts a new job and runs it until the input ends, the signal aborts, or an error stops it. */
export async function startLabelJob(
  db: LibraryDb,
  engine: LabelEngine,
  options: LabelJobOptions,
  control: RunControl = {},
): Promise<LabelSummary> {
  checkTask(engine, options.routing && engine.prompts.map((p) => p.task));
  const spec = await newJobSpec(db, engine, options);
  const encoder = encoderFor(spec);
  const replaced = claimOutput(db, spec.output, options.replaceJob, 'labelled copy');
  const overwrite = (options.overwrite ?? false) || replaced.length > 0;
  // Parquet and workbooks append to a part file and are renamed over the output at the end: the output is checked too.
  refuseExisting(spec.output, overwrite);
  const file = AppendFile.create(appendedPath(spec.output, spec.format), overwrite);
  const job = createJobWithHeader(db, spec, file, encoder, replaced);
  const release = claimWriter(jobWriter(db, job.id), 'labelled');
  try {
    return await run(db, engine, job, file, encoder, control);
  } finally {
    release();
  }
}

/**
 * The input limit (tokens, eos included) that labelling, its memory plan and evaluation cut inputs at: the one
 * given (within training's bounds, RUN_LIMITS), else the largest the prompts were trained with (so that none reads
 * less than it was trained on), else 512.
 */
export function inputLimit(prompts: readonly LabelPrompt[], given?: number): number {
  const { min, max } = RUN_LIMITS.maxInputLength;
  if (given !== undefined && !(Number.isInteger(given) && given >= min && given <= max))
    throw new SproutError(
      'label-bad-option',
      `--max-input-length must be a whole number from ${min} to ${max} (the limits training takes), not ${given}.`,
    );
  const trained = prompts.flatMap((p) => (p.inputLimit === undefined ? [] : [p.inputLimit]));
  return given ?? (trained.length > 0 ? Math.max(...trained) : LABEL_DEFAULTS.maxInputTokens);
}

/** Everything a new job fixes before its first row: checked options, the input's reading, task, text, output and row count. */
async function newJobSpec(db: LibraryDb, engine: LabelEngine, options: LabelJobOptions): Promise<LabelJobSpec> {
  const input = resolve(options.input);
  const batchSize = options.batchSize ?? LABEL_DEFAULTS.batchSize;
  const { min, max } = RUN_LIMITS.batchSize;
  if (!(Number.isInteger(batchSize) && batchSize >= min && batchSize <= max))
    throw new SproutError('label-bad-option', `--batch-size must be a whole number from ${min} to ${max}, not ${batchSize}.`);
  const maxInputTokens = inputLimit(engine.prompts, options.maxInputTokens);

  const info = await inputInfo(input, options);
  const { routed, task, text, goldColumn } = jobTask(engine.prompts, options, info.columns, input);
  const { format, output } = jobOutput(db, engine, options, info.format, input);
  const columns = routed
    ? routed.columns
    : addedColumns(info.columns, {
        kind: task.kind,
        labels: task.labels,
        ensemble: engine.prompts.length > 1,
        positive: task.decision?.positive,
      });
  const stat = statSync(input);
  const spec: LabelJobSpec = {
    input,
    inputBytes: stat.size,
    inputMtimeMs: stat.mtimeMs,
    read: {
      format: info.format,
      header: info.header,
      quoting: info.quoting,
      ...(info.separator ? { separator: info.separator } : {}),
      ...(info.sheet !== undefined ? { sheet: info.sheet } : {}),
      ...legacyEncoding(info.encoding),
    },
    inputColumns: info.columns,
    output,
    format,
    tsvQuoting: info.format === 'tsv' && info.quoting === 'none' ? 'none' : 'rfc4180',
    ...(fromWindows(info) && (format === 'csv' || format === 'tsv') ? { byteOrderMark: true } : {}),
    ...(info.separator === 'semicolon' && format === 'csv' ? { csvSeparator: 'semicolon' as const } : {}),
    model: engine.modelRef,
    weights: engine.model.weightWidth,
    ...(engine.model.compute === 'int8' ? { compute: 'int8' as const } : {}),
    prompts: engine.prompts.map((p) => ({ ref: p.ref, name: p.name, sha256: promptSha256(p.prompt.data) })),
    task,
    textColumns: text.textColumns,
    template: text.template,
    goldColumn,
    batchSize,
    lengthNormalise: options.lengthNormalise ?? false,
    maxInputTokens,
    maxNewTokens: options.maxNewTokens ?? LABEL_DEFAULTS.maxNewTokens,
    commitRows: options.commitRows ?? batchSize * LABEL_DEFAULTS.commitBatches,
    columns,
    totalRows: 0,
    ...(routed ? { routing: routed.routing } : {}),
  };
  spec.totalRows = await countRecords(spec);
  checkWorkbookFits(spec);
  return spec;
}

async function inputInfo(input: string, options: LabelJobOptions): Promise<SourceInfo> {
  const source = await openSource(input, {
    format: options.inputFormat,
    header: options.header,
    quoting: options.quoting,
    separator: options.separator,
    sheet: options.sheet,
    encoding: options.encoding,
  });
  await closeRecords(source.records);
  return source.info;
}

/**
 * How a new job's input reads, once its text and gold columns are found in it: loading the model takes a while, and a
 * column the input lacks is better said before.
 */
export async function checkJobInput(prompts: readonly LabelPrompt[], options: LabelJobOptions): Promise<SourceInfo> {
  const input = resolve(options.input);
  const info = await inputInfo(input, options);
  jobTask(prompts, options, info.columns, input);
  return info;
}

/** A workbook's sheet must hold the labelled copy: said before any row is labelled. */
function checkWorkbookFits(spec: LabelJobSpec): void {
  if (spec.format !== 'xlsx') return;
  checkSheetFits(spec.totalRows, outputColumns(spec).length, spec.input);
}

/** The task the job labels and the text it reads: a multi-task job's routes bring both, else the prompt's task and the options. */
function jobTask(prompts: readonly LabelPrompt[], options: LabelJobOptions, inputColumns: string[], input: string) {
  const routed = options.routing && planRouting(options.routing, prompts, inputColumns, input);
  if (routed && (options.template !== undefined || options.textColumns?.length || options.goldColumn !== undefined)) {
    throw new SproutError(
      'label-bad-option',
      "A multi-task job takes each template from its prompt's task, and has no gold label column.",
      {
        hint: 'Leave out --template, --text-column and --label-column.',
      },
    );
  }
  const task = routed ? unionTask(routed.routing) : prompts.length > 1 ? withoutDecision(prompts[0].task) : prompts[0].task;
  const text = routed
    ? { template: task.template!, textColumns: [...new Set(routed.routing.routes.flatMap((r) => r.textColumns))] }
    : resolveTextSpec(
        { template: options.template, taskTemplate: task.template, textColumns: options.textColumns ?? [] },
        inputColumns,
        input,
      );
  const goldColumn = options.goldColumn ?? null;
  if (goldColumn !== null && !inputColumns.includes(goldColumn)) {
    throw new SproutError(
      'label-unknown-column',
      `The input has no gold label column "${goldColumn}"; its columns are ${inputColumns.join(', ')}.`,
      { file: input },
    );
  }
  return { routed, task, text, goldColumn };
}

/** Where the labelled copy goes and in which format; never over the input or inside the library's folder. */
function jobOutput(
  db: LibraryDb,
  engine: LabelEngine,
  options: LabelJobOptions,
  inputFormat: DataFormat,
  input: string,
): { format: OutputFormat; output: string } {
  const format =
    options.output === undefined
      ? (options.format ?? labelledFormat(inputFormat))
      : outputFormatOf(options.output, options.format, labelledFormat(inputFormat));
  const output = options.output === undefined ? defaultOutputPath(db, input, promptsName(engine.prompts), format) : resolve(options.output);
  refuseOutputOverInput(input, output);
  checkOutputFile(output, dataDirOf(db), 'output file');
  return { format, output };
}

/** Writes the output's header and records the job (taking over the outputs it replaces); a failure closes the file. */
function createJobWithHeader(
  db: LibraryDb,
  spec: LabelJobSpec,
  file: AppendFile,
  encoder: RowEncoder,
  replaced: readonly LabelJob[],
): LabelJob {
  try {
    file.append(encoder.header());
    const bytes = file.sync();
    const stats: LabelStats = {
      labelled: 0,
      skipped: {},
      labelCounts: {},
      truncated: 0,
      gold: spec.goldColumn ? emptyGoldCounts() : null,
      agreementSum: 0,
      seconds: 0,
    };
    const job = createJob(db, newJobId(), spec, stats, bytes);
    markOutputReplaced(
      db,
      replaced.map((j) => j.id),
      { jobId: job.id, how: 'labelled' },
    );
    return job;
  } catch (error) {
    file.close();
    if (isDiskFull(error))
      throw diskFullError(dirname(spec.output), 'the labelled file', { hint: 'Free some space there, then start the job again.' });
    throw error;
  }
}

/** Continues a cancelled, failed or crashed job from its last committed row; a finished job just reports. */
export async function resumeLabelJob(db: LibraryDb, jobId: string, engine: LabelEngine, control: RunControl = {}): Promise<LabelSummary> {
  if (!getJob(db, jobId))
    throw new SproutError('label-unknown-job', `There is no labelling job "${jobId}".`, {
      hint: 'Run `sprout label --help`; job ids are printed when a job starts.',
    });
  const release = claimWriter(jobWriter(db, jobId), 'resumed');
  try {
    return await resumeClaimed(db, jobId, engine, control);
  } finally {
    release();
  }
}

/** The resume proper, once this process is the job's one writer (so the job read now stays as read). */
async function resumeClaimed(db: LibraryDb, jobId: string, engine: LabelEngine, control: RunControl): Promise<LabelSummary> {
  const job = getJob(db, jobId)!;
  if (job.status === 'done') return summary(job, 0, 0);
  if (job.outputReplaced) {
    throw new SproutError('label-output-replaced', `Labelling job ${jobId} cannot resume: ${outputNote(job, 'replaced')}`, {
      file: job.spec.output,
      hint: 'Its rows labelled so far stay in the library; start a new job to label the rest of the file.',
    });
  }
  checkTask(
    engine,
    job.spec.routing?.routes.map((r) => r.task),
  );
  const spec = job.spec;
  const shas = engine.prompts.map((p) => promptSha256(p.prompt.data));
  if (shas.length !== spec.prompts.length || shas.some((s, i) => s !== spec.prompts[i].sha256)) {
    throw new SproutError(
      'label-prompt-changed',
      `The prompt(s) given differ from those job ${jobId} started with (${spec.prompts.map((p) => p.ref).join(', ')}).`,
      {
        hint: 'Resume with the same prompt(s), or start a new job.',
      },
    );
  }
  const stat = statSync(spec.input, { throwIfNoEntry: false });
  if (!stat || stat.size !== spec.inputBytes || stat.mtimeMs !== spec.inputMtimeMs) {
    throw new SproutError(
      'label-input-changed',
      'The input file changed (or is gone) since the job started, so its rows may no longer line up.',
      {
        file: spec.input,
        hint: 'Start a new job on the file as it is now.',
      },
    );
  }
  const path = appendedPath(spec.output, spec.format);
  const encoder = encoderFor(spec);
  if (!committedOutputMatches(db, job, encoder, path)) {
    throw new SproutError(
      'label-output-changed',
      `The output file no longer holds the rows job ${jobId} wrote (it was changed outside Sprout), so resuming would cut it.`,
      {
        file: path,
        hint: 'Start a new job on the file instead of --resume.',
        uiHint: 'Label the file again as a new job.',
      },
    );
  }
  const file = AppendFile.reopen(path, job.outputBytes);
  dropRowsFrom(db, jobId, job.rowsDone);
  setJobStatus(db, jobId, 'running');
  return run(db, engine, { ...job, status: 'running' }, file, encoder, control);
}

/**
 * Whether the file's first `outputBytes` are what the job committed, encoded again from its rows in the library.
 * A missing or short file, and rows from before the library kept their values, are left to AppendFile.reopen.
 */
function committedOutputMatches(db: LibraryDb, job: LabelJob, encoder: RowEncoder, path: string): boolean {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat || stat.size < job.outputBytes) return true;
  const fd = openSync(path, 'r');
  try {
    let offset = 0;
    const matches = (text: string): boolean => {
      const expected = Buffer.from(text, 'utf8');
      const actual = Buffer.alloc(expected.length);
      const n = expected.length ? readSync(fd, actual, 0, actual.length, offset) : 0;
      offset += expected.length;
      return n === expected.length && actual.equals(expected);
    };
    if (!matches(encoder.header())) return false;
    for (const row of jobRows(db, job.id)) {
      if (row.added === null) return true;
      if (!matches(encoder.row(row.fields, row.added, row.values ?? undefined))) return false;
    }
    return offset === job.outputBytes;
  } finally {
    closeSync(fd);
  }
}

/** Whether the input came from Excel or another Windows or older Mac program: a workbook, a byte order mark, or a code page. */
function fromWindows(info: SourceInfo): boolean {
  return info.format === 'xlsx' || info.byteOrderMark || legacyEncoding(info.encoding).encoding !== undefined;
}

/** The input's encoding as a resumed job must ask for it: a legacy one only, since a byte order mark says itself. */
function legacyEncoding(encoding: SourceInfo['encoding']): { encoding?: LegacyEncoding } {
  return isOneOf(ENCODING_CHOICES, encoding) ? { encoding } : {};
}

/** The input read exactly as when the job started (a detected TSV quoting is fixed from then on). */
function openInput(spec: LabelJobSpec) {
  return openSource(spec.input, {
    format: spec.read.format as DataFormat,
    header: spec.read.header,
    quoting: spec.read.quoting,
    separator: spec.read.separator,
    sheet: spec.read.sheet,
    encoding: spec.read.encoding,
  });
}

/** Rows in the input, for the ETA: a pass of the reader alone is fast next to scoring. */
async function countRecords(spec: LabelJobSpec): Promise<number> {
  const source = await openInput(spec);
  let n = 0;
  for await (const _ of source.records) n++;
  return n;
}

async function closeRecords(records: AsyncIterable<SourceRecord>): Promise<void> {
  await (records as AsyncGenerator<SourceRecord>).return?.(undefined);
}

function encoderFor(spec: LabelJobSpec): RowEncoder {
  const names = addedColumnNames(spec.columns);
  return rowEncoder(spec.format, spec.inputColumns, names, {
    tsvQuoting: spec.tsvQuoting,
    byteOrderMark: spec.byteOrderMark,
    csvSeparator: spec.csvSeparator,
  });
}

/** A row's text in the output; a value the output cannot hold is refused naming its row (the input's, from 1). */
function rowText(encoder: RowEncoder, r: OutRow, row: number): string {
  try {
    return encoder.row(r.fields, r.added, r.values);
  } catch (error) {
    if (!(error instanceof SproutError) || error.code !== 'label-unwritable-value') throw error;
    throw new SproutError(error.code, `Row ${count(row)} of the input: ${midSentence(error.summary)}`, error.details);
  }
}

interface WindowRow {
  row: number;
  record: SourceRecord;
}

async function run(
  db: LibraryDb,
  engine: LabelEngine,
  job: LabelJob,
  file: AppendFile,
  encoder: RowEncoder,
  control: RunControl,
): Promise<LabelSummary> {
  const spec = job.spec;
  const stats = job.stats;
  const label = windowLabeller(engine, spec, stats);
  const started = performance.now();
  let rowsDone = job.rowsDone;
  let bytesDone = job.outputBytes;
  const firstRow = rowsDone;
  const report = () => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? (rowsDone - firstRow) / seconds : 0;
    control.onProgress?.({
      jobId: job.id,
      rowsDone,
      totalRows: spec.totalRows,
      rowsPerS: rate,
      etaS: rate > 0 ? (spec.totalRows - rowsDone) / rate : null,
    });
  };
  const commit = async (window: WindowRow[]) => {
    const t0 = performance.now();
    const rows = await label(window);
    rows.forEach((r, i) => file.append(rowText(encoder, r, rowsDone + i + 1)));
    const bytes = file.sync();
    stats.seconds += (performance.now() - t0) / 1000;
    rowsDone += window.length;
    bytesDone = bytes;
    // The library keeps every value written, so exports and checks never depend on the output file.
    commitChunk(
      db,
      job.id,
      rowsDone,
      bytes,
      stats,
      rows.map((r) => ({ ...r.stored, added: r.added, values: r.values ? { ...r.values } : null })),
    );
    report();
  };
  try {
    const source = await openInput(spec);
    let row = 0;
    let window: WindowRow[] = [];
    report();
    for await (const record of source.records) {
      if (row++ < rowsDone) continue;
      window.push({ row: row - 1, record });
      if (window.length >= spec.commitRows) {
        if (control.signal?.aborted) break;
        await commit(window);
        window = [];
      }
    }
    if (control.signal?.aborted) {
      setJobStatus(db, job.id, 'cancelled');
    } else {
      if (window.length) await commit(window);
      file.close();
      if (isPartFormat(spec.format)) await convertPart(spec.format, partPath(spec.output), spec.output, outputColumns(spec), sheetOf(spec));
      finishJob(db, job.id, sealOf(spec.output));
    }
  } catch (thrown) {
    throw failJob(db, job, thrown, rowsDone, bytesDone);
  } finally {
    file.close();
  }
  return summary(getJob(db, job.id)!, rowsDone - firstRow, (performance.now() - started) / 1000);
}

/** The scorer for the job's rows: a multi-task job's routes each with their prompt, else the prompt(s) of one task. */
function windowLabeller(engine: LabelEngine, spec: LabelJobSpec, stats: LabelStats): (window: WindowRow[]) => Promise<OutRow[]> {
  const options = { batchSize: spec.batchSize, lengthNormalise: spec.lengthNormalise, maxNewTokens: spec.maxNewTokens };
  const prompts = engine.prompts.map((p) => p.prompt);
  const routing = spec.routing;
  if (routing) {
    const scorer = new RoutedScorer(
      engine.model,
      engine.tokenizer,
      prompts,
      routing.routes.map((r) => r.task),
      options,
    );
    const routed = { routing, columns: spec.columns, maxInputTokens: spec.maxInputTokens };
    return (window) => labelRoutedWindow(scorer, engine.tokenizer, engine.model.config.eosTokenId, routed, stats, window);
  }
  const scorer = new Scorer(engine.model, engine.tokenizer, prompts, spec.task, options);
  const template = parseTemplate(spec.template);
  return (window) => labelWindow(engine, scorer, template, spec, stats, window);
}

/** Records why the job stopped and returns the error to throw (a full disk says how much room the rest needs). */
function failJob(db: LibraryDb, job: LabelJob, thrown: unknown, rowsDone: number, bytesDone: number): unknown {
  const error = isDiskFull(thrown) ? outOfRoom(thrown, db, job, rowsDone, bytesDone) : thrown;
  try {
    setJobStatus(db, job.id, 'failed', (error as Error).message);
  } catch {
    // A full disk may refuse this write too: the job then reads as interrupted, which resumes the same way.
  }
  return error;
}

/** A full disk under the output file or the library, with the room the remaining rows need at the rate so far. */
function outOfRoom(error: unknown, db: LibraryDb, job: LabelJob, rowsDone: number, bytesDone: number) {
  const goOn = {
    hint: `Free some space there, then continue with \`sprout label --resume ${job.id}\` (every row committed so far is kept).`,
    uiHint: 'Free some space there, then resume the job (every row committed so far is kept).',
  };
  if ((error as { code?: string }).code === 'SQLITE_FULL') return diskFullError(dataDirOf(db), 'the library', goOn);
  const remaining = job.spec.totalRows - rowsDone;
  return diskFullError(
    dirname(job.spec.output),
    'the labelled file',
    goOn,
    rowsDone > 0 && remaining > 0 ? (remaining * bytesDone) / rowsDone : undefined,
  );
}

interface OutRow {
  fields: Readonly<Record<string, string | null>>;
  values?: Readonly<Record<string, unknown>>;
  added: AddedValue[];
  stored: ScoredRow;
}

/** Labels one window of records and returns the output rows in input order; updates the running totals. */
async function labelWindow(
  engine: LabelEngine,
  scorer: Scorer,
  template: Template,
  spec: LabelJobSpec,
  stats: LabelStats,
  window: WindowRow[],
): Promise<OutRow[]> {
  const eos = engine.model.config.eosTokenId;
  const skipReasons: (string | null)[] = [];
  const ids: (number[] | null)[] = [];
  for (const { record } of window) {
    const rendered = renderText(template, record.fields);
    if ('skip' in rendered) {
      skipReasons.push(rendered.skip);
      ids.push(null);
      continue;
    }
    const tokens = engine.tokenizer.encode(rendered.text);
    if (truncateIds(tokens, spec.maxInputTokens, eos)) stats.truncated++;
    skipReasons.push(null);
    ids.push(tokens);
  }
  // Batches of similar lengths waste less on padding; results go back to their rows by index.
  const order = ids.flatMap((t, i) => (t ? [i] : [])).sort((a, b) => ids[a]!.length - ids[b]!.length);
  const scored = await scorer.label(order.map((i) => ids[i]!));
  const outcomes: (Outcome | null)[] = window.map(() => null);
  order.forEach((i, k) => (outcomes[i] = scored[k]));
  return window.map(({ row, record }, i) => {
    const outcome = outcomes[i];
    const stored = unscoredRow(row, record, skipReasons[i]);
    const c = spec.columns;
    const width = [c.runnerUp, c.margin, c.agreement, c.threshold].filter(Boolean).length + c.probs.length;
    if (!outcome) {
      const reason = skipReasons[i]!;
      stats.skipped[reason] = (stats.skipped[reason] ?? 0) + 1;
      return {
        fields: record.fields,
        values: record.values,
        added: [null, null, ...new Array<AddedValue>(width).fill(null), reason],
        stored,
      };
    }
    stats.labelled++;
    let added: AddedValue[];
    if (outcome.kind === 'generation') {
      stored.predicted = outcome.text;
      stored.confidence = roundProbability(outcome.confidence);
      added = [outcome.text, stored.confidence, null];
    } else {
      const p = outcome.prediction;
      const labels = spec.task.labels;
      stored.predicted = labels[p.best];
      stored.confidence = roundProbability(p.confidence);
      stored.margin = roundProbability(p.margin);
      stats.agreementSum += outcome.agreement;
      added = [stored.predicted, stored.confidence, p.runnerUp < 0 ? null : labels[p.runnerUp], stored.margin];
      if (c.agreement) added.push(roundProbability(outcome.agreement));
      if (c.threshold) added.push(spec.task.decision!.threshold);
      added.push(...Array.from(p.probs, roundProbability), null);
    }
    addCount(stats.labelCounts, stored.predicted);
    if (stats.gold && spec.goldColumn) addGold(stats.gold, record.fields[spec.goldColumn], stored.predicted);
    return { fields: record.fields, values: record.values, added, stored };
  });
}

/** The sheet a workbook output is written on: the input's, where it was a workbook. */
export function sheetOf(spec: LabelJobSpec): string {
  return spec.read.sheet ?? 'labelled';
}

/** The output's columns, with those that hold numbers (probabilities, confidences) marked: Parquet's and a sheet's types. */
export function outputColumns(spec: LabelJobSpec): OutputColumn[] {
  const c: AddedColumns = spec.columns;
  const numbers = new Set([
    c.confidence,
    c.margin,
    c.agreement,
    c.threshold,
    ...c.probs,
    ...(c.groups ?? []).flatMap((g) => [g.confidence, ...g.probs]),
  ]);
  return [...spec.inputColumns, ...addedColumnNames(c)].map((name) => ({
    name,
    type: !spec.inputColumns.includes(name) && numbers.has(name) ? 'DOUBLE' : 'STRING',
  }));
}

export function summary(job: LabelJob, rowsThisRun: number, secondsThisRun: number): LabelSummary {
  const { spec, stats } = job;
  const skipped = Object.values(stats.skipped).reduce((a, b) => a + b, 0);
  const result: LabelSummary = {
    job_id: job.id,
    status: job.status,
    output: spec.output,
    format: spec.format,
    rows: job.rowsDone,
    total_rows: spec.totalRows,
    labelled: stats.labelled,
    skipped,
    skipped_reasons: stats.skipped,
    truncated: stats.truncated,
    rows_per_s: secondsThisRun > 0 ? Number((rowsThisRun / secondsThisRun).toFixed(1)) : 0,
    label_counts: stats.labelCounts,
  };
  if (spec.prompts.length > 1) result.agreement = stats.labelled ? roundProbability(stats.agreementSum / stats.labelled) : 0;
  const decision = spec.task.decision;
  if (decision) result.decision = { ...decision, rule: decisionText(decision, spec.task.labels) };
  if (stats.gold) result.accuracy = accuracyReport(stats.gold, spec.task.labels);
  return result;
}
