/**
 * Where a run is recorded beside its folder, as training needs it: the run and its tasks at the start, its losses,
 * evaluations and state as it goes, the kept prompts at the end. Training owns this interface; the library
 * implements it (main/library/run-records.ts), so the trainer does not depend on how runs are stored.
 */
import type { T5Config } from '../checkpoint/config.js';
import type { Split } from '../choices.js';
import type { SoftPrompt } from '../runtime/types.js';
import type { WeightWidth } from '../weights/width.js';
import type { TrainingEvent } from './events.js';

/** A task of a new run as the library keeps it: its data and how examples become text. */
export interface LedgerTask {
  name: string;
  datasetId: number | null;
  template: string;
  verbalizer: Record<string, string>;
  /** Null for free-text targets. */
  labelSet: string[] | null;
}

export interface NewRunEntry {
  /** The run's configuration as the library keeps it. */
  config: Record<string, unknown>;
  modelPath: string;
  plannedSteps: number;
  tasks: LedgerTask[];
}

/** A prompt a run keeps, stored in the library. */
export interface KeptPrompt {
  name: string;
  embedding: Float32Array;
  /** How it was initialised; `prompt:<id>` names the library prompt it started from. */
  init: string;
  /** Index of its task in the run's tasks; null for a prompt shared by several. */
  task: number | null;
  labels: string[] | null;
  metrics: Record<string, unknown>;
  taskEmbedding: { step: number; prompt: Float32Array } | null;
  /** The prompt it started from, kept so that transfer ranking can tell what the run learned. */
  initEmbedding: Float32Array;
}

export interface FinishedRun {
  status: 'done' | 'cancelled';
  step: number;
  trainSeconds: number;
  /** The device as it ended: a GPU that refused a graph mid-run leaves the CPU, and says why. */
  provider: string;
  modelPath: string;
  modelConfig: T5Config;
  promptLength: number;
  weightWidth: WeightWidth;
  /** Empty for a cancelled run. */
  prompts: KeptPrompt[];
}

export interface RunLedger {
  readonly id: number;
  /** Library ids of the run's tasks, in task order. */
  readonly taskIds: number[];
  onEvent(e: TrainingEvent): void;
  /** A library prompt to initialise from. */
  loadPrompt(id: string): SoftPrompt;
  /** Records how the run ended; returns the ids of the stored prompts, in order. */
  finish(run: FinishedRun): number[];
  fail(error: unknown): void;
  close(): void;
}

/** The rows of one split of an imported dataset. */
export interface DatasetSplit {
  name: string;
  rows: { fields: Record<string, string | null>; label: string | null; line: number }[];
  /** Identifies the rows' content, for the token cache. */
  content: string;
}

/** Where runs read imported datasets and are recorded: the library (main/library/run-records.ts). */
export interface RunLibrary {
  create(run: NewRunEntry): RunLedger;
  /** `tasks` as when it was created. */
  open(runId: number, tasks: LedgerTask[]): RunLedger;
  /** What a task trained on this data is called when nobody named it: the dataset's name, or the file's. */
  sourceName(source: { dataset: number } | { file: string }): string;
  datasetSplit(id: number, split: Split): DatasetSplit;
  /** A library prompt, as an init copies it. */
  loadPrompt(id: string): SoftPrompt;
}
