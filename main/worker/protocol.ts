/**
 * Messages between the main thread and the engine worker (main/worker/entry.ts). `JobTable` declares each job's
 * input, output and progress types; add a job there and its implementation in main/worker/jobs.ts.
 */
import type { ContractErrorShape } from '../../preload/contract.js';
import type { DataPreviewInput, DataImportInput, DataImportOutput, ImportJobProgress } from './jobs/data.js';
import type { EvalJobInput, EvalJobOutput } from './jobs/eval.js';
import type { WeightsPreparing } from '../weights/preparing.js';
import type { LabelJobInput, LabelJobProgress } from './jobs/label.js';
import type { LibraryArchiveInput, LibraryExportOutput } from './jobs/library-archive.js';
import type { MergeCounts } from '../library/merge.js';
import type { ModelDownloadInput, ModelDownloadOutput, ModelInspectInput, ModelInspectOutput } from './jobs/models.js';
import type { Sha256Input, Sha256Output, Sha256Progress } from './jobs/sha256.js';
import type { TrainJobInput, TrainPlanInput } from './jobs/train.js';
import type { TransferProbeInput, TransferProbeOutput, TransferProbeProgress } from './jobs/transfer.js';
import type { Preview } from '../data/preview.js';
import type { ReadProgress } from '../data/types.js';
import type { DownloadProgress } from '../hub/progress.js';
import type { LabelSummary } from '../label/job.js';
import type { TrainingEvent } from '../train/events.js';
import type { MixtureResult, TrainingAdvice, TrainingResult } from '../train/run.js';

export interface JobTable {
  /** SHA-256 of a file read in chunks, e.g. to check a downloaded weights file against the hub's LFS hash. */
  'file.sha256': { input: Sha256Input; output: Sha256Output; progress: Sha256Progress };
  /** Downloads a Hub model into the HF cache, checks it and registers it in the library. */
  'model.download': { input: ModelDownloadInput; output: ModelDownloadOutput; progress: DownloadProgress };
  /** Opens a model folder or file (every tensor, config, tokenizer); `verify` also re-hashes downloaded blobs. */
  'model.inspect': { input: ModelInspectInput; output: ModelInspectOutput; progress: never };
  /** Reads a whole data file once for the preview. */
  'data.preview': { input: DataPreviewInput; output: Preview; progress: ReadProgress };
  /** Imports a data file as a dataset (one transaction on the worker's own connection). */
  'data.import': { input: DataImportInput; output: DataImportOutput; progress: ImportJobProgress };
  /** A training run (new or resumed); pause is a shared flag so it takes effect between steps without a message round trip. */
  'train.run': { input: TrainJobInput; output: TrainingResult | MixtureResult; progress: TrainingEvent };
  /** The memory plan of a run, from its dataset tokenised as the run will (cached); loads no weights. */
  'train.plan': { input: TrainPlanInput; output: TrainingAdvice; progress: never };
  /** Scores a library prompt on a dataset split: metrics, confusion and the worst examples. */
  'eval.report': { input: EvalJobInput; output: EvalJobOutput; progress: WeightsPreparing };
  /** Trains a target task briefly for its SPoT task embedding (a prompt of the library, like any run). */
  'transfer.probe': { input: TransferProbeInput; output: TransferProbeOutput; progress: TransferProbeProgress };
  /** Starts or resumes a labelling job. */
  'label.run': { input: LabelJobInput; output: LabelSummary; progress: LabelJobProgress };
  /** Writes the whole library as an archive file (export-all). */
  'library.exportAll': { input: LibraryArchiveInput; output: LibraryExportOutput; progress: never };
  /** Adds an archive's models, datasets, tasks, runs and prompts to the library (import-all). */
  'library.importAll': { input: LibraryArchiveInput; output: MergeCounts; progress: never };
}

export type JobName = keyof JobTable;
export type JobInput<J extends JobName> = JobTable[J]['input'];
export type JobOutput<J extends JobName> = JobTable[J]['output'];
export type JobProgress<J extends JobName> = JobTable[J]['progress'];

export type ToWorker = { type: 'run'; id: number; job: JobName; input: unknown } | { type: 'cancel'; id: number };

export type FromWorker =
  | { type: 'progress'; id: number; progress: unknown }
  | { type: 'done'; id: number; output: unknown }
  | { type: 'failed'; id: number; error: ContractErrorShape };

/**
 * Fault injection for the crash tests: when the worker's environment sets this to "throw" (an uncaught
 * exception) or "exit" (the thread ends with code 70), the worker dies as it starts a job.
 */
export const CRASH_INJECTION_ENV = 'SPROUT_INJECT_WORKER_CRASH';
