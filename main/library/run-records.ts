/**
 * The library's record of a run (the RunLedger training records through): its task and run rows at the start, the step, checkpoint path,
 * losses and evaluations while it runs, the kept prompts (with their task embeddings) at the end, or the error.
 */
import { basename, resolve } from 'node:path';
import { configSummary } from '../checkpoint/summary.js';
import type { T5Config } from '../checkpoint/config.js';
import { SproutError } from '../errors.js';
import { providerRecord } from '../runtime/provider-record.js';
import { withLossScale } from '../train/loss-scale.js';
import type { SoftPrompt } from '../runtime/types.js';
import type { EvalSummary } from '../train/eval-summary.js';
import type { TrainingEvent } from '../train/events.js';
import type { DatasetSplit, FinishedRun, LedgerTask, NewRunEntry, RunLedger, RunLibrary } from '../train/run-ledger.js';
import { getDataset, loadDatasetRows, type Split } from './datasets.js';
import { libraryPath, openLibrary, writeTransaction, type LibraryDb } from './db.js';
import { findModelByPath } from './models.js';
import { insertPrompt, loadSoftPrompt, parsePromptId, type ModelRef } from './prompts.js';
import { createRun, recordRunMetric, requireRun, updateRun } from './runs.js';
import { findOrInsertTask, getTask } from './tasks.js';

/** Training-loss points stored per run: about this many over the planned steps. */
const LOSS_POINTS = 1000;

/** The library of the data folder `home`, as training reads datasets from it and records runs in it. */
export function libraryRuns(home: string): RunLibrary {
  const open = () => openLibrary(libraryPath(home));
  // A ledger keeps its connection until closed; a failed start closes it at once.
  const ledger = (f: (db: LibraryDb) => RunRecord): RunRecord => {
    const db = open();
    try {
      return f(db);
    } catch (error) {
      db.close();
      throw error;
    }
  };
  const read = <T>(f: (db: LibraryDb) => T): T => {
    const db = open();
    try {
      return f(db);
    } finally {
      db.close();
    }
  };
  return {
    create: (run) => ledger((db) => RunRecord.create(db, run)),
    open: (id, tasks) => ledger((db) => RunRecord.open(db, id, tasks)),
    sourceName: (source) =>
      'file' in source ? basename(source.file) : read((db) => getDataset(db, source.dataset)?.name ?? `dataset ${source.dataset}`),
    datasetSplit: (id, split) => read((db) => datasetSplit(db, id, split)),
    loadPrompt: (id) => read((db) => loadSoftPrompt(db, id)),
  };
}

/** The run options for the data folder `home`: its runs and caches, and its library. */
export function inLibrary(home: string): { dataDir: string; library: RunLibrary } {
  return { dataDir: home, library: libraryRuns(home) };
}

function datasetSplit(db: LibraryDb, id: number, split: Split): DatasetSplit {
  const dataset = getDataset(db, id);
  if (!dataset)
    throw new SproutError('unknown-dataset', `There is no imported dataset ${id}.`, { hint: 'See `sprout data list` for the ids.' });
  return {
    name: dataset.name,
    rows: loadDatasetRows(db, id, split),
    // Changes when the imported files do: the token cache keys on it.
    content: `dataset:${id}:${dataset.source.sha256}:${dataset.validation?.sha256 ?? ''}:${split}`,
  };
}

function modelRef(db: LibraryDb, path: string, c: T5Config): ModelRef {
  const row = findModelByPath(db, resolve(path));
  return {
    id: row?.id ?? null,
    path: resolve(path),
    summary: row?.summary ?? configSummary(c),
  };
}

class RunRecord implements RunLedger {
  private lossSum = 0;
  private lossCount = 0;
  private lastLoss: { step: number; loss: number } | null = null;
  private readonly lossEvery: number;
  /** A mixture's evaluations of the step being evaluated, by task name, stored as one point. */
  private round: { step: number; tasks: Record<string, EvalSummary> } | null = null;
  /** The device as the run started, and what its record last said of float16's loss scale. */
  private device = { providerDetail: '', providerReason: null as string | null };
  private lossScaleSaid = '';

  private constructor(
    private readonly db: LibraryDb,
    readonly id: number,
    readonly taskIds: number[],
    plannedSteps: number,
  ) {
    this.lossEvery = Math.max(1, Math.floor(plannedSteps / LOSS_POINTS));
  }

  static create(db: LibraryDb, run: NewRunEntry): RunRecord {
    // A task is its data, template and verbaliser, shared by every run on it.
    const taskIds = run.tasks.map((t) => findOrInsertTask(db, t).id);
    const modelPath = resolve(run.modelPath);
    const taskId = taskIds.length === 1 ? taskIds[0] : null;
    const row = createRun(db, {
      taskId,
      modelId: findModelByPath(db, modelPath)?.id ?? null,
      modelPath,
      config: run.config,
      status: 'running',
      plannedSteps: run.plannedSteps,
    });
    return new RunRecord(db, row.id, taskIds, run.plannedSteps);
  }

  /** The run's tasks are found again by their definitions (a mixture's run row names none). */
  static open(db: LibraryDb, id: number, tasks: LedgerTask[]): RunRecord {
    const run = requireRun(db, id);
    const taskIds = run.taskId !== null && tasks.length === 1 ? [run.taskId] : tasks.map((t) => findOrInsertTask(db, t).id);
    return new RunRecord(db, id, taskIds, run.plannedSteps ?? 1);
  }

  loadPrompt(id: string): SoftPrompt {
    return loadSoftPrompt(this.db, id);
  }

  onEvent(e: TrainingEvent): void {
    switch (e.kind) {
      case 'started':
        this.device = { providerDetail: e.providerDetail, providerReason: e.providerReason };
        updateRun(this.db, this.id, { status: 'running', provider: providerRecord(e), weights: e.weights, error: null });
        break;
      case 'step':
        this.recordLoss(e.step, e.steps, e.loss);
        if (e.lossScale) this.recordLossScale(e.lossScale);
        break;
      case 'eval':
        recordRunMetric(this.db, this.id, {
          step: e.step,
          loss: this.lastLoss?.step === e.step ? this.lastLoss.loss : null,
          eval: this.evalPoint(e.task, e.step, e.summary),
        });
        break;
      case 'checkpoint':
        updateRun(this.db, this.id, { step: e.step, checkpointPath: e.file });
        break;
      case 'paused':
      case 'resumed':
        updateRun(this.db, this.id, { status: e.kind === 'paused' ? 'paused' : 'running' });
        break;
      default:
        break;
    }
  }

  /** The run's device line says float16's loss scale, and which steps it skipped (their gradient overflowed). */
  private recordLossScale(scale: { scale: number; skipped: number[] }): void {
    const said = providerRecord(withLossScale(this.device, scale));
    if (said === this.lossScaleSaid) return;
    this.lossScaleSaid = said;
    updateRun(this.db, this.id, { provider: said });
  }

  private recordLoss(step: number, steps: number, loss: number): void {
    this.lossSum += loss;
    this.lossCount++;
    if (step % this.lossEvery === 0 || step === steps) {
      this.lastLoss = { step, loss: this.lossSum / this.lossCount };
      recordRunMetric(this.db, this.id, { step, loss: this.lastLoss.loss, eval: null });
      this.lossSum = this.lossCount = 0;
    }
  }

  /** A single task's evaluation as it is; a mixture's as one point per step with each task's summary. */
  private evalPoint(task: number, step: number, summary: EvalSummary): Record<string, unknown> {
    if (this.taskIds.length === 1) return { ...summary };
    if (this.round?.step !== step) this.round = { step, tasks: {} };
    this.round.tasks[getTask(this.db, this.taskIds[task])?.name ?? String(task)] = summary;
    return { step, tasks: { ...this.round.tasks } };
  }

  finish(run: FinishedRun): number[] {
    const timings = { train: Number(run.trainSeconds.toFixed(3)) };
    return writeTransaction(this.db, () => {
      const model = modelRef(this.db, run.modelPath, run.modelConfig);
      const ids = run.prompts.map((p) =>
        insertPrompt(this.db, {
          name: p.name,
          model,
          length: run.promptLength,
          dModel: run.modelConfig.dModel,
          embedding: p.embedding,
          init: p.init,
          parentId: p.init.startsWith('prompt:') ? parsePromptId(p.init) : null,
          taskId: p.task === null ? null : this.taskIds[p.task],
          runId: this.id,
          labels: p.labels,
          metrics: p.metrics,
          taskEmbedding: p.taskEmbedding?.prompt ?? null,
          taskEmbeddingStep: p.taskEmbedding?.step ?? null,
          initEmbedding: p.initEmbedding,
          weightWidth: run.weightWidth,
        }),
      );
      updateRun(this.db, this.id, { status: run.status, step: run.step, timings, provider: run.provider });
      return ids;
    });
  }

  fail(error: unknown): void {
    updateRun(this.db, this.id, { status: 'failed', error: error instanceof Error ? error.message : String(error) });
  }

  close(): void {
    this.db.close();
  }
}
