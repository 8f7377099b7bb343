/**
 * The one contract between the renderer and the engine, shared by main, preload and renderer.
 *
 * `operations` declares every request/response pair: a zod schema for the request (checked at the boundary
 * by main/ipc/dispatch.ts) and the response type (compile-time only). `events` declares the progress streams
 * main pushes to the renderer. Adding an operation = one entry here + one handler in main/ipc/handlers.ts;
 * the Electron preload, the serve transport and the renderer API are all derived from these two tables.
 */
import { z } from 'zod';
import {
  COMPUTES,
  DATA_FORMATS,
  DEVICE_PREFERENCES,
  ENCODING_CHOICES,
  METRIC_REQUESTS,
  OPTIMIZER_KINDS,
  OUTPUT_FORMATS,
  PRECISIONS,
  PREVIEW_ROWS,
  QUOTINGS,
  REVIEW_PAGE,
  REVIEW_STATES,
  SEPARATORS,
  SPLITS,
  THEMES,
  THRESHOLD_TARGETS,
  WEIGHTS_CHOICES,
  type CsvSeparator,
  type DataFormat,
  type DevicePreference,
  type EncodingChoice,
  type OutputFormat,
  type Quoting,
  type ReviewState,
  type Split,
  type Theme,
  type WeightsChoice,
  type WeightWidth,
} from '../main/choices.js';
import type { ArchitectureSummary } from '../main/checkpoint/summary.js';
import type { CatalogueEntry } from '../main/hub/catalogue.js';
import type { ImportReport as DataImportReport } from '../main/library/import-dataset.js';
import type { RunStatus as RecordedRunStatus } from '../main/library/runs.js';
import type { ReviewCounts, ReviewRow as LabelReviewRow } from '../main/label/review.js';
import type { LabelJobStatus } from '../main/label/jobs.js';
import type { OutputState } from '../main/label/ownership.js';
import type { VersionReport } from '../main/label/retrain.js';
import type { Baselines, Judgement, MetricChoice, TestScore } from '../main/train/baselines.js';
import type { EvalSummary } from '../main/train/eval-summary.js';
import type { ClassMetrics } from '../main/train/metrics.js';
import type { StoredDecision, ThresholdCurve, ThresholdPoint } from '../main/train/threshold.js';
import type { ScoredExample } from '../main/worker/jobs/eval.js';
import type { LibraryExportOutput } from '../main/worker/jobs/library-archive.js';
import type { MergeCounts } from '../main/library/merge.js';
import { limitedInt } from '../main/run-limits.js';
import { MAX_HELD_OUT } from '../main/data/split.js';
import { MAX_PROBES, SIMILARITY_METRIC_NAMES, type SimilarityMetric } from '../main/transfer/similarity.js';
import type { RankedSource } from '../main/transfer/rank.js';
import type { MemoryPlan } from '../main/weights/memory-plan.js';
import type { PrepareProgress } from '../main/weights/store.js';

/** Marks a response or event payload type; the value is never read at run time. */
function type<T>(): T {
  return undefined as T;
}

// ---- Data types carried by operations and events ----

export interface ExecutionProviderInfo {
  /** onnxruntime's name, e.g. "cpu" or "cuda". */
  name: string;
  /** Shipped inside onnxruntime-node; unbundled ones need extra libraries (see README: Using a GPU). */
  bundled: boolean;
}

export interface ProviderInUse {
  /** The provider sessions get when the default device is asked for, e.g. "cpu", "cuda". */
  name: string;
  /** onnxruntime intra-op threads a session uses. */
  threads: number;
  /** One line for a status bar, e.g. "CPU · 2 threads" or "CUDA". */
  label: string;
  /** Providers tried before it and why each was passed over. */
  skipped: { provider: string; reason: string }[];
  /** One sentence on why this provider and not a GPU; null when the preferred one works. */
  reason: string | null;
}

export interface DoctorReport {
  versions: { sprout: string; node: string; onnxruntime: string; electron: string | null };
  providers: ExecutionProviderInfo[];
  /** The provider a session uses when Sprout asks for none. */
  defaultProvider: string;
  /** What the settings' default device resolves to on this machine (probed once per process). */
  chosenProvider: ProviderInUse;
  /** The width `--weights auto` gives the frozen weights on that provider. */
  autoWeights: WeightWidth;
  dataDir: string;
  /** Bytes free to this user on the data directory's file system. */
  freeDiskBytes: number;
  platform: string;
  arch: string;
  cpus: number;
}

export interface AppInfo {
  name: 'Sprout';
  version: string;
  /** How the renderer is connected: the Electron window or a browser through `sprout serve`. */
  shell: 'electron' | 'serve';
  dataDir: string;
}

/** The lists of choices (main/choices.ts), under the names the renderer knows them by. */
export type Device = DevicePreference;
export type LabelOutputFormat = OutputFormat;
export type { CsvSeparator, DataFormat, EncodingChoice, Quoting, Split, Theme, WeightsChoice, WeightWidth };

// -- Models --

/** The model summary the library stores (main/checkpoint/summary.ts). */
export type ModelArchitecture = ArchitectureSummary;

/** A model registered in the library (downloaded or imported); `id` is what every other operation takes. */
export interface ModelInfo {
  id: string;
  repo: string | null;
  revision: string | null;
  sha: string | null;
  path: string;
  summary: ModelArchitecture;
  added: string;
  /** The folder or file is still there. */
  present: boolean;
}

/** A model of the catalogue (main/hub/catalogue.ts) and where it stands on this machine. */
export interface CatalogueModel extends CatalogueEntry {
  /** Its main revision is complete in the Hugging Face cache. */
  onDisk: boolean;
  /** The library id when it is registered (downloaded through Sprout or the CLI). */
  modelId: string | null;
  /** The download job in flight for it, if any. */
  downloadJobId: string | null;
}

/** A job's state: a labelling job's (main/label/jobs.ts), which downloads share. */
export type JobState = LabelJobStatus;

export interface DownloadJob {
  jobId: string;
  repo: string;
  revision: string;
  status: JobState;
  progress: DownloadProgress | null;
  /** Set once done: the registered model. */
  modelId: string | null;
  error: ContractErrorShape | null;
  started: string;
}

export interface ModelVerification {
  id: string;
  ok: boolean;
  /** Weight files whose SHA-256 was checked against the hub's (0 for a local import, which is only inspected). */
  checkedFiles: number;
  message: string;
}

// -- Data --

export interface DataReadOptions {
  format?: DataFormat;
  header?: boolean;
  quoting?: Quoting;
  separator?: CsvSeparator;
  /** Excel workbooks: the sheet to read; default the first visible one. */
  sheet?: string;
  encoding?: EncodingChoice;
}

export interface ColumnInfo {
  name: string;
  type: string;
  present: number;
  blank: number;
  distinct: number;
  distinctCapped: boolean;
  meanChars: number;
  maxChars: number;
}

export interface DataPreview {
  file: string;
  format: DataFormat;
  /** Why a .txt file is read as a table (TSV), when it is. */
  formatReason: string | null;
  encoding: string;
  quoting: Quoting | null;
  quotingReason: string | null;
  /** CSV only: comma or semicolon, and why when a semicolon was detected. */
  separator: CsvSeparator | null;
  separatorReason: string | null;
  /** Excel workbooks: the sheet read, and why that one when the workbook has others. */
  sheet: string | null;
  /** Its visible sheets, in order: the choices of another. */
  sheets: string[] | null;
  sheetReason: string | null;
  header: boolean;
  /** Why the first row was taken for a header or for data, when that was detected rather than given. */
  headerReason: string | null;
  bytes: number;
  /** Records in the whole file. */
  rows: number;
  blankLines: number;
  columns: ColumnInfo[];
  firstRows: { line: number; fields: Record<string, string | null> }[];
  suggestion: { textColumns: string[]; labelColumn: string | null; template: string };
  /** The label column shown (the one asked for, else the suggestion). */
  labelColumn: string | null;
  /** Label counts over the whole file; null without a label column or with too many distinct values. */
  labels: Record<string, number> | null;
  freeText: boolean;
}

/** The import report of main/library/import-dataset.ts, keyed by the new dataset's id and naming its validation file. */
export type ImportReport = Omit<DataImportReport, 'id' | 'validation'> & { datasetId: number; validationFile: string | null };

export interface DatasetInfo {
  id: number;
  name: string;
  file: string;
  format: string;
  textColumns: string[];
  labelColumn: string | null;
  template: string;
  labelSet: string[] | null;
  splits: { train: number; validation: number; test: number };
  created: string;
}

export interface DatasetRowInfo {
  split: Split;
  index: number;
  line: number;
  text: string;
  label: string | null;
}

export interface DatasetDetail extends DatasetInfo {
  columns: string[];
  labelCounts: { split: Split; label: string | null; count: number }[];
  report: Record<string, unknown>;
  rows: DatasetRowInfo[];
  /** Rows in the split asked for (for paging). */
  totalRows: number;
  /** The label words (verbaliser) of the latest run trained on this dataset, where they differ from a label; null before any. */
  verbalizer: Record<string, string> | null;
}

// -- Training --

/**
 * A run's state: the library's record of it (main/library/runs.ts), and what only the app sees: `starting` (loading,
 * before its first step) and `interrupted` (recorded as going, but no process runs it).
 */
export type RunState = Exclude<RecordedRunStatus, 'queued'> | 'starting' | 'interrupted';

/** One evaluation of a run, as the trainer reports it (main/train/events.ts). */
export type EvalPoint = EvalSummary;

/**
 * What a score means (main/train/baselines.ts): the metric the best prompt is kept by; baselines.majority (always
 * answering the most frequent validation label) and baselines.zero_shot (the initial prompt, step 0); warnings.
 */
export type { Baselines, Judgement, MetricChoice, TestScore };

export interface RunSummary {
  /** The library's run id (also its folder under <data dir>/runs). */
  runId: number;
  name: string;
  status: RunState;
  modelId: string | null;
  datasetId: number | null;
  step: number;
  totalSteps: number;
  /** The library prompt it produced, once finished. */
  promptId: number | null;
  best: EvalPoint | null;
  /** The metric `best` was chosen by (null: a run of an older Sprout, or not started); warnings about it. */
  metric: MetricChoice['metric'] | null;
  /**
   * The kept prompt scored once on the dataset's test split when the run ended: the headline, since validation chose
   * the step. Null without a test split (then `best` is optimistic: it also chose the step) or before the run ends.
   */
  test: TestScore | null;
  warnings: string[];
  created: string;
  error: ContractErrorShape | null;
}

/** What a run will take in memory (main/weights/memory-plan.ts), in bytes, at the width `auto` resolved to. */
export interface TrainingPlan extends MemoryPlan {
  /** Longest input of the training split, prompt excluded, after truncation to maxInputLength. */
  inputTokens: number;
  /** When it does not fit: what would (any of them), or all null when nothing would; null when it fits. */
  suggestion: { batchSize: number | null; weights: WeightWidth | null; maxInputLength: number | null; message: string } | null;
}

/**
 * A starting run, labelling job or evaluation converting its frozen weights to their width (once per model and width)
 * or verifying the converted files (every later load): bytes done and in all, of tensor data converted or of files
 * checked (main/weights/store.ts).
 */
export interface WeightPreparation extends PrepareProgress {
  weights: WeightWidth;
}

export interface RunStatus extends RunSummary {
  /** onnxruntime provider in use and its description (e.g. "CPU · 2 threads"). */
  provider: string | null;
  providerDetail: string | null;
  /** Why this provider and not a GPU (providers passed over, a graph a GPU refused); null when none was. */
  providerReason: string | null;
  /** Width of the frozen weights the run trains with (null before it starts). */
  weights: WeightWidth | null;
  stepsPerSecond: number | null;
  examplesPerSecond: number | null;
  etaSeconds: number | null;
  /** Training loss per step so far (a run not live in this session: the library's points, without lr). */
  losses: { step: number; loss: number; lr: number | null }[];
  evals: EvalPoint[];
  labels: string[];
  notes: string[];
  /** The validated configuration (defaults applied) the run trains with. */
  config: Record<string, unknown>;
  /** Of the latest evaluation while the run goes, of the kept prompt once it finished (of its test score, if any). */
  judgement: Judgement;
  /** Test rows being scored with the kept prompt as the run ends; null otherwise. */
  testing: number | null;
  /**
   * Seconds a warmed-up training step takes (the median of the latest, leaving out the first, which also builds the
   * sessions): the basis of the time estimate; null until the second step has run.
   */
  stepSeconds: number | null;
  /** The latest weight preparation while the run is `starting`; null otherwise. */
  preparing: WeightPreparation | null;
}

// -- Evaluation --

export interface EvalReport {
  promptId: number;
  runId: number | null;
  datasetId: number;
  split: Split;
  labels: string[];
  examples: number;
  accuracy: number;
  macroF1: number;
  mcc: number;
  perClass: ClassMetrics[];
  /** confusion[gold][predicted] over `labels`. */
  confusion: number[][];
  /** Examples whose gold label got the lowest probability, lowest first. */
  worst: ScoredExample[];
  /** The headline metric (the one the prompt was kept by, else auto's choice for these labels), its baselines and warnings. */
  judgement: Judgement;
  /** The prompt's decision threshold that made the predictions, in words; null: the more probable label did. */
  decision: string | null;
  /** Rows cut to the input limit the prompt was trained with, in words (main/label/rows-note.ts); null when none was. */
  inputNote: string | null;
}

/** A two-label prompt's precision and recall of one label against the decision threshold, on its validation rows. */
export interface ThresholdView {
  promptId: number;
  datasetId: number;
  labels: string[];
  curve: ThresholdCurve;
  /** The stored decision threshold (for any positive label), or null; `rule` says it in words. */
  decision: StoredDecision | null;
  rule: string | null;
  /** Where the more probable label (threshold 0.5) stands on the curve. */
  atHalf: ThresholdPoint;
}

// -- Transfer --

export interface TransferCandidate {
  promptId: number;
  name: string;
  taskName: string | null;
  /** Every similarity metric's value (main/transfer/similarity.ts); a shift metric is null when the prompt's starting point is not stored. */
  similarity: Record<SimilarityMetric, number | null>;
  /** What was compared: the source's task embedding (SPoT), or its final values when it has none (e.g. a PEFT import). */
  basis: RankedSource['basis'];
  /** The prompt's ancestors, nearest first. */
  lineage: { promptId: number; name: string }[];
  metrics: Record<string, unknown>;
}

export interface TransferRanking {
  modelId: string;
  datasetId: number;
  metric: SimilarityMetric;
  /**
   * The target's task embeddings the similarities are averaged over: prompts of this dataset, newest stored first,
   * then the probe runs this ranking made (their runId set); kind `probe` when it made any.
   */
  target: { kind: 'stored' | 'probe'; embeddings: { promptId: number; runId: number | null; step: number | null }[] };
  candidates: TransferCandidate[];
  /** The best candidate, or null when none has a positive similarity (then train from a fresh initialisation). */
  recommended: number | null;
  /** Why, in words for the person choosing (no command syntax). */
  reason: string;
}

// -- Library --

export interface PromptInfo {
  id: number;
  uid: string;
  name: string;
  modelId: string | null;
  modelPath: string | null;
  length: number;
  dModel: number;
  init: string;
  parentId: number | null;
  taskId: number | null;
  taskName: string | null;
  runId: number | null;
  labels: string[] | null;
  metrics: Record<string, unknown>;
  tags: string[];
  notes: string;
  /** Two-label prompts: the decision threshold it labels and is evaluated with, in words; null: the more probable label. */
  decision: string | null;
  created: string;
}

export interface PromptDetail extends PromptInfo {
  /** Ancestors, nearest first. */
  lineage: PromptInfo[];
  children: PromptInfo[];
  task: { id: number; name: string; template: string; verbalizer: Record<string, string>; datasetId: number | null } | null;
}

export interface SimilarityMap {
  modelId: string;
  /** PCA of each prompt's mean token, scaled to [-1, 1]; the two axes' share of variance. */
  explained: [number, number];
  points: { promptId: number; name: string; taskName: string | null; x: number; y: number }[];
}

// -- Labelling --

export interface LabelJobInfo {
  jobId: string;
  /** `interrupted`: the library says running but no process runs it (a crash or a quit); resume it. */
  status: JobState | 'interrupted';
  input: string;
  output: string;
  format: LabelOutputFormat;
  promptNames: string[];
  /** The template the job read its text through, e.g. "sentence: {sentence}". */
  template: string;
  /** The prompt's decision threshold the job labelled with, in words; null: the more probable label. */
  decision: string | null;
  /** The input's gold label column, when one was given; `accuracy` then compares it with the predictions. */
  goldColumn: string | null;
  accuracy: { rows: number; accuracy: number; macroF1: number } | null;
  /** Whether the output file still holds this job's labels (main/label/ownership.ts), and if not, why. */
  outputState: LabelOutputState;
  /** Says what happened to the output file when it no longer holds this job's labels; null while it does. */
  outputNote: string | null;
  /** Inputs cut to the length limit and rows left unlabelled, in words (main/label/rows-note.ts); null when none. */
  rowsNote: string | null;
  rowsDone: number;
  totalRows: number;
  labelled: number;
  labelCounts: Record<string, number>;
  error: string | null;
  /** Why "Train again with my corrections" cannot work for this job (main/label/retrain.ts), in words; null when it can. */
  retrainBlocker: string | null;
  created: string;
  updated: string;
}

export interface LabelSummary {
  jobId: string;
  status: JobState;
  output: string;
  rows: number;
  totalRows: number;
  labelled: number;
  skipped: number;
  labelCounts: Record<string, number>;
  rowsPerSecond: number;
  accuracy: number | null;
}

export type LabelOutputState = OutputState;

/** What "Train again with my corrections" started: the dataset version, what it is made of, and the run. */
export interface RetrainStart {
  dataset: DatasetInfo;
  version: VersionReport;
  run: RunStatus;
  /** The prompt the job labelled with, which the run starts from and is compared with. */
  previousPromptId: number;
}
export type { ReviewCounts, ReviewState };

/** One labelled row for review (main/label/review.ts). */
export type ReviewRow = LabelReviewRow;

export interface ReviewPage {
  total: number;
  offset: number;
  rows: ReviewRow[];
  labels: string[];
  /** The text the model scores for each label (its verbaliser), same order; often the label itself. */
  labelTexts: string[];
  /** The job's input columns, in file order (every row's `fields`). */
  columns: string[];
  /** How far review of the whole job has got, whatever the filter. */
  counts: ReviewCounts;
}

// -- Files (the browser version's picker) --

export interface BrowseEntry {
  name: string;
  /** Absolute, ready for any operation that takes a path. */
  path: string;
  kind: 'file' | 'folder';
  /** A file's size; null for a folder. */
  bytes: number | null;
  modified: string;
}

export interface FolderListing {
  /** The places browsing may start from: home, then the folders added in Settings. */
  roots: { name: string; path: string }[];
  /** The place this folder lies in. */
  root: string;
  folder: string;
  /** From the top of the place down to `folder`: the steps back a person can take. */
  path: { name: string; path: string }[];
  /** The folder above, or null at the top of its place. */
  parent: string | null;
  /** Folders first, then files, by name. */
  entries: BrowseEntry[];
  /** Matching entries left out because the folder holds too many to list. */
  omitted: number;
}

// -- Settings and home --

export interface Settings {
  /** Read-only: where models, datasets, runs and the library live. */
  dataDir: string;
  defaultDevice: Device;
  /** Width of the frozen weights new runs use (auto: doctor's autoWeights). */
  defaultWeights: WeightsChoice;
  /** onnxruntime threads; null: Sprout's default for this machine. */
  threads: number | null;
  hubEndpoint: string;
  /** Whether a hub token is stored (the token itself is never sent back). */
  hubTokenSet: boolean;
  /** Where the token in use lives, in words: its file (owner-only, or sealed by the system keychain) or the environment; null without one. */
  hubTokenWhere: string | null;
  theme: Theme;
  /** Folders the browser version's file picker may list besides the home folder. */
  browseFolders: string[];
}

export interface HomeSummary {
  runs: RunSummary[];
  prompts: PromptInfo[];
  labelJobs: LabelJobInfo[];
  models: ModelInfo[];
  datasets: number;
  downloads: DownloadJob[];
  device: ProviderInUse;
}

// -- Events --

export interface TrainingProgress {
  runId: number;
  status: RunState;
  step: number;
  totalSteps: number;
  /** The last step's loss and learning rate; null before the first step. */
  loss: number | null;
  lr: number | null;
  /** Latest validation metric, when one has been computed. */
  validation?: { metric: string; value: number };
  latestEval: EvalPoint | null;
  /** Set on the event of a step at which an evaluation finished. */
  eval?: EvalPoint;
  /** The evaluation of the prompt the run keeps so far (RunSummary's `best`, as it moves with each evaluation). */
  best: EvalPoint | null;
  stepsPerSecond: number;
  examplesPerSecond: number;
  etaSeconds: number | null;
  judgement: Judgement;
  testing: number | null;
  test: TestScore | null;
  stepSeconds: number | null;
  /** Set while the run is `starting` and its weights are being converted or verified. */
  preparing: WeightPreparation | null;
}

export interface DownloadProgress {
  jobId: string;
  modelId: string;
  status: JobState;
  file: string;
  fileBytes: number;
  fileTotal: number;
  bytes: number;
  totalBytes: number;
  /** Bytes per second in this download. */
  rate: number;
  etaSeconds: number | null;
}

export interface ImportProgress {
  file: string;
  bytesRead: number;
  totalBytes: number;
  rows: number;
}

export interface LabellingProgress {
  jobId: string;
  status: JobState;
  rows: number;
  totalRows: number;
  rowsPerSecond: number;
  etaSeconds: number | null;
}

/** While transfer.rank trains probe runs of the target task, one after another. */
export interface TransferProgress {
  datasetId: number;
  /** This probe's number, from 1, among the `probes` early prompts the ranking compares (stored ones come first). */
  probe: number;
  probes: number;
  /** Its last finished training step, of `steps`. */
  step: number;
  steps: number;
}

/** Before label.start or label.resume answers: the job's model preparing its weights, ahead of its first row. */
export interface LabellingPreparation {
  /** The job resumed; null for a job being started, which is recorded once its model has loaded. */
  jobId: string | null;
  preparing: WeightPreparation;
}

/** Before eval.report answers: the prompt's model preparing its weights, ahead of the scoring. */
export interface EvaluationPreparation {
  promptId: number;
  preparing: WeightPreparation;
}

// ---- Request pieces ----

const id = z.number().int().positive();
const text = z.string().min(1);
/** A file or folder chosen in the renderer; main checks it is absolute and exists where it must. */
const path = z.string().min(1).max(4096);
const readOptions = {
  format: z.enum(DATA_FORMATS).optional(),
  header: z.boolean().optional(),
  quoting: z.enum(QUOTINGS).optional(),
  separator: z.enum(SEPARATORS).optional(),
  sheet: z.string().min(1).max(255).optional(),
  encoding: z.enum(ENCODING_CHOICES).optional(),
};
const device = z.enum(DEVICE_PREFERENCES);
const weightsChoice = z.enum(WEIGHTS_CHOICES);
const outputFormat = z.enum(OUTPUT_FORMATS);
const runRef = z.strictObject({ runId: id });

const trainRequest = z.strictObject({
  name: text.optional(),
  modelId: text,
  datasetId: id,
  /** Defaults to the dataset's own template. */
  template: text.optional(),
  /** Label → target text; defaults to each label itself. */
  verbalizer: z.record(z.string(), text).optional(),
  promptLength: limitedInt('promptLength').optional(),
  /** random | vocab | labels | text:<words> | prompt:<library id> */
  init: text.optional(),
  optimizer: z.enum(OPTIMIZER_KINDS).optional(),
  lr: z.number().positive().optional(),
  batchSize: limitedInt('batchSize').optional(),
  steps: limitedInt('steps').optional(),
  evalEvery: limitedInt('evalEvery').optional(),
  /** Evaluate on at most this many validation examples. */
  evalLimit: limitedInt('evalLimit').optional(),
  patience: limitedInt('patience').optional(),
  /** The metric the best prompt is kept by; auto (default): MCC or macro-F1 when the labels are imbalanced. */
  metric: z.enum(METRIC_REQUESTS).optional(),
  seed: limitedInt('seed').optional(),
  device: device.optional(),
  /** Compute dtype: auto = fp32 on the CPU, bf16 on CUDA, fp16 on other GPUs (main/runtime/precision.ts). */
  precision: z.enum(PRECISIONS).optional(),
  /** Width of the frozen weights; default the settings' defaultWeights. */
  weights: weightsChoice.optional(),
  maxInputLength: limitedInt('maxInputLength').optional(),
});
const jobRef = z.strictObject({ jobId: text });
const promptRef = z.strictObject({ id });

// ---- The tables ----

export const operations = {
  doctor: { request: z.strictObject({}), response: type<DoctorReport>() },
  'app.info': { request: z.strictObject({}), response: type<AppInfo>() },
  /** The desktop app's open dialog (the browser version cannot learn a file's location: type the path there). */
  'app.pickPath': {
    request: z.strictObject({ kind: z.enum(['file', 'folder']), title: z.string().max(200).optional() }),
    response: type<{ path: string | null }>(),
  },
  /**
   * Lists a folder for the browser version's file picker (the desktop app uses its open dialog): only inside the
   * home folder or a folder added in Settings. No path: the home folder.
   */
  'files.browse': {
    request: z.strictObject({
      path: path.optional(),
      /** folder: list folders only. */
      kind: z.enum(['file', 'folder']),
      hidden: z.boolean().optional(),
      /** Only names containing this (any case). */
      filter: z.string().max(200).optional(),
    }),
    response: type<FolderListing>(),
  },
  'home.summary': { request: z.strictObject({}), response: type<HomeSummary>() },
  /**
   * What a run asking for this device would run on here, and why: shown before a run starts. Without a device, the
   * Settings' default device, which a run started without one gets.
   */
  'device.check': { request: z.strictObject({ device: device.optional() }), response: type<ProviderInUse>() },

  'settings.get': { request: z.strictObject({}), response: type<Settings>() },
  'settings.set': {
    request: z.strictObject({
      defaultDevice: device.optional(),
      defaultWeights: weightsChoice.optional(),
      threads: limitedInt('threads').nullable().optional(),
      hubEndpoint: z
        .url({ protocol: /^https?$/, error: 'The Hub endpoint is an http:// or https:// address, e.g. https://huggingface.co' })
        .optional(),
      /**
       * null forgets the stored token. One word of visible ASCII, as the Hub's tokens are: a line break in it would
       * break every request's Authorization header, and the error that says so quotes the header, token and all.
       */
      hubToken: z
        .string()
        .trim()
        .regex(/^[\x21-\x7e]{1,512}$/, 'A Hub token is one word of visible characters (hf_…), without spaces or line breaks')
        .nullable()
        .optional(),
      theme: z.enum(THEMES).optional(),
      /** The whole list; each must be an existing folder. */
      browseFolders: z.array(path).max(50).optional(),
    }),
    response: type<Settings>(),
  },

  'model.catalogue': { request: z.strictObject({}), response: type<CatalogueModel[]>() },
  'model.list': { request: z.strictObject({}), response: type<ModelInfo[]>() },
  /** Starts a download job (progress as `download.progress`); finishing registers the model. */
  'model.download': { request: z.strictObject({ repo: text, revision: text.optional() }), response: type<DownloadJob>() },
  'model.download.cancel': { request: jobRef, response: type<DownloadJob>() },
  'model.downloads': { request: z.strictObject({}), response: type<DownloadJob[]>() },
  'model.import': { request: z.strictObject({ path }), response: type<ModelInfo>() },
  'model.verify': { request: z.strictObject({ id: text }), response: type<ModelVerification>() },
  /** Forgets a model; its files stay (a Hub download stays in the shared Hugging Face cache). */
  'model.remove': { request: z.strictObject({ id: text }), response: type<{ removed: boolean }>() },

  'data.preview': {
    request: z.strictObject({
      file: path,
      ...readOptions,
      rows: z.number().int().min(1).max(PREVIEW_ROWS.most).optional(),
      labelColumn: text.optional(),
    }),
    response: type<DataPreview>(),
  },
  /** Imports in the engine worker (progress as `import.progress`) and returns the report. */
  'data.import': {
    request: z.strictObject({
      file: path,
      ...readOptions,
      name: text.optional(),
      textColumns: z.array(text).min(1).optional(),
      /** null imports unlabelled rows. */
      labelColumn: text.nullable().optional(),
      template: text.optional(),
      validationFile: path.optional(),
      /** The validation file's sheet, where it is a workbook; by default its first visible sheet with two rows or more. */
      validationSheet: text.optional(),
      /** Fraction of each class held out for validation when there is no validation file (default 0.1). */
      split: z.number().min(0).max(MAX_HELD_OUT.validation).optional(),
      /** Fraction of each class held out as the test split, scored once when a run ends (default 0: none). */
      testSplit: z.number().min(0).max(MAX_HELD_OUT.test).optional(),
      seed: z.number().int().min(0).optional(),
      maxChars: z.number().int().min(1).optional(),
    }),
    response: type<ImportReport>(),
  },
  'data.list': { request: z.strictObject({}), response: type<DatasetInfo[]>() },
  'data.show': {
    request: z.strictObject({
      id,
      split: z.enum(SPLITS).optional(),
      offset: z.number().int().min(0).optional(),
      limit: z.number().int().min(0).max(1000).optional(),
    }),
    response: type<DatasetDetail>(),
  },
  'data.delete': { request: z.strictObject({ id }), response: type<{ removed: boolean }>() },

  /**
   * Starts a run in the engine worker; it keeps going when the window closes. Progress as `training.progress`.
   * Answers once the run trains, or earlier, as `starting`, when its weights must first be converted or verified.
   */
  'train.start': { request: trainRequest, response: type<RunStatus>() },
  /** The memory plan of the run train.start would start, without loading the model or starting anything. */
  'train.plan': { request: trainRequest, response: type<TrainingPlan>() },
  'train.pause': { request: runRef, response: type<RunStatus>() },
  /** Resumes a paused run, or an interrupted/cancelled one from its last checkpoint. */
  'train.resume': { request: runRef, response: type<RunStatus>() },
  'train.cancel': { request: runRef, response: type<RunStatus>() },
  'train.status': { request: runRef, response: type<RunStatus>() },
  'train.list': { request: z.strictObject({ limit: z.number().int().min(1).max(1000).optional() }), response: type<RunSummary[]>() },

  /** Scores a prompt on its dataset's test split (else validation) in the engine worker; weight preparation as `evaluation.preparing`. */
  'eval.report': {
    request: z.strictObject({
      runId: id.optional(),
      promptId: id.optional(),
      /** Another dataset to score on (default: the prompt's own). */
      datasetId: id.optional(),
      /** The split to score (default: the labelled test split, the headline; else validation, else train). */
      split: z.enum(SPLITS).optional(),
      limit: z.number().int().min(1).optional(),
      worst: z.number().int().min(0).max(500).optional(),
      /** int8: score with int8 products, faster on the CPU (main/choices.ts); default float. */
      compute: z.enum(COMPUTES).optional(),
    }),
    response: type<EvalReport>(),
  },

  /**
   * A two-label prompt's threshold curve on its dataset's validation rows (engine worker; weight preparation as
   * `evaluation.preparing`); `positive` defaults to the stored decision's label, else the rarer label.
   */
  'prompt.thresholdCurve': { request: z.strictObject({ promptId: id, positive: text.optional() }), response: type<ThresholdView>() },
  /** Stores the decision threshold picked, or the one that meets a target precision or recall on the validation rows. */
  'prompt.setThreshold': {
    request: z.strictObject({ promptId: id, positive: text, by: z.enum(THRESHOLD_TARGETS), value: z.number().min(0).max(1) }),
    response: type<ThresholdView>(),
  },
  /** Back to the more probable label. */
  'prompt.clearThreshold': { request: z.strictObject({ promptId: id }), response: type<PromptInfo>() },

  /** Ranks library prompts of this model as transfer sources for the dataset's task (SPoT). */
  'transfer.rank': {
    request: z.strictObject({
      modelId: text,
      datasetId: id,
      template: text.optional(),
      verbalizer: z.record(z.string(), text).optional(),
      /** Which similarity orders the list (all are returned); default DEFAULT_SIMILARITY_METRIC. */
      metric: z.enum(SIMILARITY_METRIC_NAMES).optional(),
      /** How many task embeddings of the target to average over, probing for those not stored (default DEFAULT_PROBES). */
      probes: z.number().int().min(1).max(MAX_PROBES).optional(),
      /** Steps of each probe run (default: the library's usual task-embedding step). */
      probeSteps: z.number().int().min(1).max(100_000).optional(),
      /**
       * The run settings the task is about to train with: a probe trains as its runs will, so that its early prompt
       * is compared with sources trained alike (main/transfer/probe.ts ProbeSpec). Engine defaults where omitted.
       */
      probe: z
        .strictObject({
          batchSize: limitedInt('batchSize'),
          promptLength: limitedInt('promptLength'),
          optimizer: z.enum(OPTIMIZER_KINDS),
          lr: z.number().positive(),
        })
        .partial()
        .optional(),
      limit: z.number().int().min(1).max(200).optional(),
    }),
    response: type<TransferRanking>(),
  },
  /** Stops the dataset's rankings in flight (their transfer.rank calls fail with `cancelled`); finished probe runs stay stored. */
  'transfer.cancel': { request: z.strictObject({ datasetId: id }), response: type<{ stopped: number }>() },

  'library.list': {
    request: z.strictObject({ search: z.string().optional(), modelId: text.optional(), task: text.optional(), tag: text.optional() }),
    response: type<PromptInfo[]>(),
  },
  'library.show': { request: promptRef, response: type<PromptDetail>() },
  'library.rename': { request: z.strictObject({ id, name: text }), response: type<PromptInfo>() },
  'library.tag': {
    request: z.strictObject({ id, add: z.array(text).optional(), remove: z.array(text).optional() }),
    response: type<PromptInfo>(),
  },
  'library.note': { request: z.strictObject({ id, notes: z.string().max(100_000) }), response: type<PromptInfo>() },
  /** Refuses a prompt others descend from unless `force`. */
  'library.delete': {
    request: z.strictObject({ id, force: z.boolean().optional() }),
    response: type<{ removed: boolean; children: number }>(),
  },
  /** Writes a PEFT adapter folder (adapter_config.json + adapter_model.safetensors) into `dir`. */
  'library.exportPeft': { request: z.strictObject({ id, dir: path }), response: type<{ dir: string; files: string[] }>() },
  'library.importPeft': {
    request: z.strictObject({ dir: path, name: text.optional(), modelId: text.optional() }),
    response: type<PromptInfo>(),
  },
  'library.similarityMap': { request: z.strictObject({ modelId: text }), response: type<SimilarityMap>() },
  /**
   * The whole library as one archive file, as `sprout library export-all` writes it (engine worker): the database,
   * every prompt as a PEFT folder, each entry's sha256. Refuses a file that exists.
   */
  'library.exportAll': { request: z.strictObject({ file: path }), response: type<LibraryExportOutput>() },
  /** Adds an archive's models, datasets, tasks, runs and prompts (`sprout library import-all`); what is here stays. */
  'library.importAll': { request: z.strictObject({ file: path }), response: type<MergeCounts>() },

  /**
   * Starts labelling in the engine worker (progress as `labelling.progress`); resumable after a cancel or a crash.
   * Answers once the job is recorded and its rows begin; until then weight preparation comes as `labelling.preparing`.
   */
  'label.start': {
    request: z.strictObject({
      promptId: id,
      input: path,
      ...readOptions,
      textColumns: z.array(text).min(1).optional(),
      template: text.optional(),
      goldColumn: text.optional(),
      output: path,
      outputFormat: outputFormat.optional(),
      overwrite: z.boolean().optional(),
      /** Consent to write over this labelling job's output (the person confirmed replacing that job's file). */
      replaceJob: text.optional(),
      batchSize: limitedInt('batchSize').optional(),
      /** int8: label with int8 products, faster on the CPU (main/choices.ts); default float. */
      compute: z.enum(COMPUTES).optional(),
    }),
    response: type<LabelJobInfo>(),
  },
  /**
   * The memory plan of the job label.start would start (main/label/memory-plan.ts): the model at the prompt's width
   * or the int8 products' own weights, one batch at the input length limit. Loads no weights, starts nothing.
   */
  'label.plan': {
    request: z.strictObject({
      promptId: id,
      batchSize: limitedInt('batchSize').optional(),
      compute: z.enum(COMPUTES).optional(),
    }),
    response: type<TrainingPlan>(),
  },
  /** Where a new job on `input` with this prompt writes by default: named after the prompt, never another job's file. */
  'label.defaultOutput': {
    request: z.strictObject({ promptId: id, input: path, format: outputFormat }),
    response: type<{ output: string }>(),
  },
  /** Whether a file the person chose exists, and which labelling job owns it (writing there needs consent naming it). */
  'label.checkOutput': {
    /** `input`: the file to be labelled into it, which it may not be. */
    request: z.strictObject({ file: path, input: path.optional() }),
    response: type<{ file: string; exists: boolean; owner: LabelJobInfo | null }>(),
  },
  'label.cancel': { request: jobRef, response: type<LabelJobInfo>() },
  'label.resume': { request: jobRef, response: type<LabelJobInfo>() },
  'label.status': { request: jobRef, response: type<LabelJobInfo>() },
  'label.list': { request: z.strictObject({}), response: type<LabelJobInfo[]>() },
  /** Labelled rows, lowest confidence first. */
  'label.review': {
    request: z.strictObject({
      jobId: text,
      offset: z.number().int().min(0).optional(),
      limit: z.number().int().min(1).max(REVIEW_PAGE.most).optional(),
      /** Filters: where the row stands in review, the predicted label, a confidence range (inclusive) and text a column contains (any case). */
      state: z.enum(REVIEW_STATES).optional(),
      predicted: z.string().optional(),
      minConfidence: z.number().min(0).max(1).optional(),
      maxConfidence: z.number().min(0).max(1).optional(),
      search: z.string().max(1000).optional(),
    }),
    response: type<ReviewPage>(),
  },
  /** A person's label for a row (null withdraws it). */
  'label.correct': {
    request: z.strictObject({ jobId: text, row: z.number().int().min(0), label: z.string().nullable() }),
    response: type<ReviewRow>(),
  },
  /**
   * A new version of the prompt's dataset with the job's reviewed rows (the person's label wins; rows whose text is
   * in the test split stay out of training) and a run on it that starts from the job's prompt with its run's settings.
   */
  'label.retrain': { request: jobRef, response: type<RetrainStart>() },
  /** Saves reviewed rows as a new dataset. */
  'label.saveCorrections': {
    request: z.strictObject({
      jobId: text,
      name: text,
      include: z.enum(['corrected', 'all']).optional(),
      split: z.number().min(0).max(MAX_HELD_OUT.validation).optional(),
    }),
    response: type<DatasetInfo>(),
  },
  /** Writes the job's rows with the model's columns and the final label and its source (main/label/export.ts). */
  'label.export': {
    request: z.strictObject({
      jobId: text,
      file: path,
      format: outputFormat.optional(),
      overwrite: z.boolean().optional(),
      replaceJob: text.optional(),
    }),
    response: type<{ file: string; format: LabelOutputFormat; rows: number; reviewed: number; corrected: number }>(),
  },
} satisfies Record<string, { request: z.ZodType; response: unknown }>;

export const events = {
  'training.progress': type<TrainingProgress>(),
  'download.progress': type<DownloadProgress>(),
  'import.progress': type<ImportProgress>(),
  'labelling.progress': type<LabellingProgress>(),
  'labelling.preparing': type<LabellingPreparation>(),
  'evaluation.preparing': type<EvaluationPreparation>(),
  'transfer.progress': type<TransferProgress>(),
};

// ---- Types derived from the tables ----

export type OperationName = keyof typeof operations;
/** What a caller sends (before defaults are applied). */
export type RequestOf<K extends OperationName> = z.input<(typeof operations)[K]['request']>;
/** What a handler receives (validated, defaults applied). */
export type ValidRequestOf<K extends OperationName> = z.output<(typeof operations)[K]['request']>;
export type ResponseOf<K extends OperationName> = (typeof operations)[K]['response'];

export type EventName = keyof typeof events;
export type EventPayload<E extends EventName> = (typeof events)[E];

/**
 * Every failure a caller can see. `code` is stable for branching: `invalid-request` (details.field names the
 * bad field), `unknown-operation`, `worker-crashed`, `internal`, transport codes (`unauthorized`, `forbidden`,
 * `payload-too-large`, `unsupported-media-type`, `not-found`), or a SproutError's own code.
 */
export interface ContractErrorShape {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/** How a response travels over every transport: errors are values, so no transport loses their shape. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: ContractErrorShape };

export const operationNames = Object.keys(operations) as OperationName[];
export const eventNames = Object.keys(events) as EventName[];

/** Electron IPC channels, one per operation and one per event. */
export const operationChannel = (name: OperationName): string => `sprout:op:${name}`;
export const eventChannel = (name: EventName): string => `sprout:event:${name}`;

/** What the preload exposes as `window.sprout`: one function per operation, and a subscription per event. */
export interface SproutBridge {
  invoke: { [K in OperationName]: (request: RequestOf<K>) => Promise<Envelope<ResponseOf<K>>> };
  /** Where a file dropped on the window lives on disk (Electron's webUtils.getPathForFile); "" when unknown. */
  pathForFile(file: File): string;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
}
