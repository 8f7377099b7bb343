import type { CsvSeparator, LegacyEncoding, Quoting } from '../data/types.js';
import type { SoftPrompt } from '../runtime/types.js';
import type { GoldCounts } from '../train/metrics.js';
import type { Decision } from '../train/threshold.js';
import type { AddedColumns } from './columns.js';
import type { OutputFormat } from '../choices.js';
import type { ComputeChoice, WeightWidth } from '../weights/width.js';

/** A column of an output written through a part file (Parquet, workbook), with what its values are. */
export interface OutputColumn {
  name: string;
  type: 'STRING' | 'DOUBLE';
}

/** What labelling needs to know of a prompt's task. */
export interface LabelTask {
  kind: 'classification' | 'generation';
  /** Class names, written to the output (classification). */
  labels: string[];
  /** The text scored for each label, same order as `labels` (the verbaliser); often equal to the label. */
  verbalisers: string[];
  /** How a record becomes the input text, `{column}` placeholders; null: the text columns as they are. */
  template: string | null;
  /** Two-label prompts with a decision threshold: it decides instead of the more probable label (one prompt only). */
  decision?: Decision;
}

/** The task without its decision threshold: ensembles and multi-task jobs answer the more probable label. */
export function withoutDecision(task: LabelTask): LabelTask {
  const copy = { ...task };
  delete copy.decision;
  return copy;
}

/** A tuned prompt ready to label with. `ref` says where it came from (library id or file) so a resume finds it again. */
export interface LabelPrompt {
  ref: string;
  name: string;
  prompt: SoftPrompt;
  task: LabelTask;
  /**
   * The input limit in tokens, eos included, that the prompt was trained with (a library prompt trained in Sprout):
   * labelling and evaluation cut inputs there unless told otherwise, so that they score what training scored.
   */
  inputLimit?: number;
}

/** One route of a multi-task job: the rows (or the text column) it labels, with its prompt's task. */
export interface LabelRoute {
  /** The task column's value that picks this route, or the text column it labels. */
  key: string;
  task: LabelTask;
  template: string;
  textColumns: string[];
}

/** A multi-task job: route i uses the job's prompt i. */
export interface LabelRouting {
  by: 'task-column' | 'text-column';
  /** task-column: the column whose value names the route; null for text-column. */
  column: string | null;
  routes: LabelRoute[];
}

/** Everything a job needs to resume exactly as it started, stored with the job. */
export interface LabelJobSpec {
  input: string;
  inputBytes: number;
  inputMtimeMs: number;
  /** `encoding`: a legacy one the input was read in; absent for UTF-8 and UTF-16 (its byte order mark says). */
  read: { format: string; header: boolean; quoting?: Quoting; separator?: CsvSeparator; sheet?: string; encoding?: LegacyEncoding };
  inputColumns: string[];
  output: string;
  format: OutputFormat;
  tsvQuoting: Quoting;
  /**
   * A CSV/TSV output starts with a byte order mark: the input had one or was in a code page, so it came from Excel or
   * another Windows or older Mac program, which reads UTF-8 back only with the mark. Absent in jobs from before.
   */
  byteOrderMark?: boolean;
  /** A CSV output's separator when not the comma: its input's, so that the Excel it came from reads it back. */
  csvSeparator?: CsvSeparator;
  model: string;
  prompts: { ref: string; name: string; sha256: string }[];
  task: LabelTask;
  /** The columns the template reads. */
  textColumns: string[];
  template: string;
  goldColumn: string | null;
  batchSize: number;
  lengthNormalise: boolean;
  maxInputTokens: number;
  maxNewTokens: number;
  commitRows: number;
  columns: AddedColumns;
  totalRows: number;
  /** Multi-task jobs only; `task` then holds the union of the routes' label sets. */
  routing?: LabelRouting;
  /** Width of the frozen weights the job labels with; jobs from before widths existed used fp32. */
  weights?: WeightWidth;
  /** int8: the job labels with int8 products (a resumed job keeps it, so its rows are labelled alike); absent: float. */
  compute?: ComputeChoice;
}

/** Running totals of a job, committed with every chunk of output. */
export interface LabelStats {
  labelled: number;
  skipped: Record<string, number>;
  labelCounts: Record<string, number>;
  /** Rows whose input was cut to maxInputTokens. */
  truncated: number;
  gold: GoldCounts | null;
  /** Sum over labelled rows of the ensemble agreement (mean = agreementSum / labelled). */
  agreementSum: number;
  /** Seconds spent labelling, over all runs of the job. */
  seconds: number;
}

export interface LabelProgress {
  jobId: string;
  rowsDone: number;
  totalRows: number;
  /** Rows per second in this run (not counting rows committed before a resume). */
  rowsPerS: number;
  /** Seconds left at the current rate; null until a rate is known. */
  etaS: number | null;
}
