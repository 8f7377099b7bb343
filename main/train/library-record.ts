/**
 * Keeps the library in step with a run: its task and run rows at the start, the step, checkpoint path, losses
 * and evaluations while it runs, the trained prompt (with its task embedding) at the end, or the error.
 */
import { basename, resolve } from 'node:path';
import { parameterCount } from '../checkpoint/layout.js';
import type { T5Config } from '../checkpoint/config.js';
import { getDataset } from '../library/datasets.js';
import { libraryPath, openLibrary, type LibraryDb } from '../library/db.js';
import { findModelByPath } from '../library/models.js';
import { insertPrompt, type ModelRef } from '../library/prompts.js';
import type { WeightWidth } from '../weights/width.js';
import { createRun, recordRunMetric, requireRun, updateRun, type RunStatus } from '../library/runs.js';
import { findOrInsertTask } from '../library/tasks.js';
import { providerRecord } from '../runtime/provider-record.js';
import type { TrainingConfig } from './config.js';
import type { TrainingEvent } from './events.js';
import type { TrainerState } from './run-store.js';
import type { ResolvedTask } from './task.js';
import type { LoopStatus } from './trainer.js';

/** Training-loss points stored per run: about this many over the planned steps. */
const LOSS_POINTS = 1000;

export class RunRecord {
  private lossSum = 0;
  private lossCount = 0;
  private lastLoss: { step: number; loss: number } | null = null;
  private readonly lossEvery: number;

  private constructor(
    private readonly db: LibraryDb,
    readonly id: number,
    readonly taskId: number | null,
    plannedSteps: number,
  ) {
    this.lossEvery = Math.max(1, Math.floor(plannedSteps / LOSS_POINTS));
  }

  static create(home: string, config: TrainingConfig, resolved: ResolvedTask): RunRecord {
    const db = openLibrary(libraryPath(home));
    try {
      const datasetId = 'dataset' in config.train ? config.train.dataset : null;
      const source = datasetId !== null ? (getDataset(db, datasetId)?.name ?? `dataset ${datasetId}`) : basename('file' in config.train ? config.train.file : '');
      const verbalizer = Object.fromEntries(resolved.labels.map((l, i) => [l, resolved.labelTexts[i]]));
      // A task is its data, template and verbaliser, shared by every run on it: name it after its data, not the run.
      const task = findOrInsertTask(db, { name: source, datasetId, template: config.task.template, verbalizer, labelSet: resolved.kind === 'classification' ? resolved.labels : null });
      const run = createRun(db, { taskId: task.id, modelId: findModelByPath(db, resolve(config.model))?.id ?? null, modelPath: resolve(config.model), config, status: 'running', plannedSteps: config.steps });
      return new RunRecord(db, run.id, task.id, config.steps);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  static open(home: string, id: number): RunRecord {
    const db = openLibrary(libraryPath(home));
    try {
      const run = requireRun(db, id);
      return new RunRecord(db, id, run.taskId, run.plannedSteps ?? 1);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  get library(): LibraryDb {
    return this.db;
  }

  onEvent(e: TrainingEvent): void {
    switch (e.kind) {
      case 'started':
        updateRun(this.db, this.id, { status: 'running', provider: providerRecord(e), weights: e.weights, error: null });
        break;
      case 'step':
        this.lossSum += e.loss;
        this.lossCount++;
        if (e.step % this.lossEvery === 0 || e.step === e.steps) {
          this.lastLoss = { step: e.step, loss: this.lossSum / this.lossCount };
          recordRunMetric(this.db, this.id, { step: e.step, loss: this.lastLoss.loss, eval: null });
          this.lossSum = this.lossCount = 0;
        }
        break;
      case 'eval':
        recordRunMetric(this.db, this.id, { step: e.step, loss: this.lastLoss?.step === e.step ? this.lastLoss.loss : null, eval: { ...e.summary } });
        break;
      case 'checkpoint':
        updateRun(this.db, this.id, { step: e.step, checkpointPath: e.file });
        break;
      case 'paused':
      case 'resumed':
        updateRun(this.db, this.id, { status: e.kind === 'paused' ? 'paused' : 'running' });
        break;
      case 'notice':
        break;
    }
  }

  /** Stores the kept prompt (unless the run was cancelled) and the run's final state; returns the prompt id. */
  finish(o: {
    status: LoopStatus;
    state: TrainerState;
    config: TrainingConfig;
    modelConfig: T5Config;
    resolved: ResolvedTask;
    initName: string;
    /** The prompt the run started from, kept so that transfer ranking can tell what the run learned. */
    initEmbedding: Float32Array;
    parentId: number | null;
    metrics: Record<string, unknown>;
    /** The device as it ended: a GPU that refused a graph mid-run leaves the CPU, and says why. */
    provider: string;
    weightWidth: WeightWidth;
  }): number | null {
    const { state, config } = o;
    const status: RunStatus = o.status === 'cancelled' ? 'cancelled' : 'done';
    const timings = { train: Number(state.trainSeconds.toFixed(3)) };
    if (status === 'cancelled') {
      updateRun(this.db, this.id, { status, step: state.step, timings, provider: o.provider });
      return null;
    }
    const c = o.modelConfig;
    const model: ModelRef = {
      id: findModelByPath(this.db, resolve(config.model))?.id ?? null,
      path: resolve(config.model),
      summary: findModelByPath(this.db, resolve(config.model))?.summary ?? {
        parameters: parameterCount(c), encoderLayers: c.numLayers, decoderLayers: c.numDecoderLayers, dModel: c.dModel, dKv: c.dKv,
        numHeads: c.numHeads, dFf: c.dFf, vocabSize: c.vocabSize, feedForward: c.feedForward, tiedEmbeddings: c.tieWordEmbeddings,
      },
    };
    const promptId = this.db.transaction(() => {
      const id = insertPrompt(this.db, {
        name: config.name ?? `run ${this.id}`,
        model,
        length: config.promptLength,
        dModel: c.dModel,
        embedding: state.best?.prompt ?? state.prompt,
        init: o.initName,
        parentId: o.parentId,
        taskId: this.taskId,
        runId: this.id,
        labels: o.resolved.kind === 'classification' ? o.resolved.labels : null,
        metrics: o.metrics,
        taskEmbedding: state.taskEmbedding?.prompt ?? null,
        taskEmbeddingStep: state.taskEmbedding?.step ?? null,
        initEmbedding: o.initEmbedding,
        weightWidth: o.weightWidth,
      });
      updateRun(this.db, this.id, { status, step: state.step, timings, provider: o.provider });
      return id;
    })();
    return promptId;
  }

  fail(error: unknown): void {
    updateRun(this.db, this.id, { status: 'failed', error: error instanceof Error ? error.message : String(error) });
  }

  close(): void {
    this.db.close();
  }
}
