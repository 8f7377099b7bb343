/**
 * A run's folder under <data dir>/runs/<library run id>: config.json (StoredRun: what was asked and what was resolved),
 * checkpoint.safetensors (everything needed to continue bit for bit), and at the end prompt.safetensors (the
 * kept prompt), task-embedding.safetensors and result.json; while a process trains it, its writer lock is held (writer-lock.ts).
 * Every file is replaced atomically.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { diskFullError, isDiskFull } from '../disk-full.js';
import { SproutError } from '../errors.js';
import { readLegacyCheckpoint } from './legacy-checkpoints.js';
import type { ResolvedTask } from './task.js';
import { readTensorFile, writeTensorFile, type NamedTensor } from './tensor-file.js';
import { badCheckpoint, checkpointLosses, checkpointMeta, promptState, type CheckpointMeta, type TrainerState } from './trainer-state.js';
import { tempPathBeside } from '../temp-path.js';

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const PROMPT_FILE = 'prompt.safetensors';
export const TASK_EMBEDDING_FILE = 'task-embedding.safetensors';
export const CONFIG_FILE = 'config.json';
export const RESULT_FILE = 'result.json';
/** The tensor name PEFT uses for prompt-tuning embeddings. */
export const PROMPT_TENSOR = 'prompt_embeddings';

export function runsDir(dataDir: string): string {
  return join(dataDir, 'runs');
}

export function runDir(dataDir: string, runId: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(runId) || runId.startsWith('.')) {
    throw new SproutError('bad-run-id', `"${runId}" is not a run id.`, { hint: 'Give the run_id a previous `sprout train` printed.' });
  }
  return join(runsDir(dataDir), runId);
}

/** Writes text to a temporary file, fsyncs it, renames it over `file` and fsyncs the folder. */
export function writeFileAtomic(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = tempPathBeside(file);
  const fd = openSync(tmp, 'w');
  try {
    const bytes = Buffer.from(text, 'utf8');
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dir = openSync(dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

export function readJson(file: string, code: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new SproutError(
      code,
      `Cannot read ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file: it does not exist' : (error as Error).message}.`,
      { file },
    );
  }
}

/** What each split of a task was read from, by content (a file's sha256 and how it was read). */
export interface SplitContents {
  train: string;
  validation: string | null;
  test: string | null;
}

/** config.json: what was asked, and what was resolved when the run started. */
export interface StoredRun {
  runId: number;
  created: string;
  /** Absent in single-task runs. */
  mixture?: true;
  config: unknown;
  tasks: {
    name: string;
    kind: ResolvedTask['kind'];
    labels: string[];
    labelTexts: string[];
    labelTargets: number[][];
    /** Absent in runs started before it was stored. */
    contents?: SplitContents;
  }[];
  init: { name: string; vocabIds: number[]; notes: string[] }[];
}

export function writeStoredRun(dir: string, stored: StoredRun): void {
  writeFileAtomic(join(dir, CONFIG_FILE), `${JSON.stringify(stored, null, 2)}\n`);
}

/** The config.json of a run whose folder holds one; its config is parsed by the caller. */
export function readStoredRun(dir: string): StoredRun {
  return readJson(join(dir, CONFIG_FILE), 'bad-run-file') as StoredRun;
}

/** The checkpoint format's version; main/train/legacy-checkpoints.ts reads the formats before it. */
export const CHECKPOINT_VERSION = '2';

export function saveCheckpoint(dir: string, s: TrainerState, dModel: number): string {
  const tensors: NamedTensor[] = [{ name: 'losses', shape: [s.losses.length], data: Float32Array.from(s.losses) }];
  const row = (name: string, data: Float32Array) => tensors.push({ name, shape: [data.length / dModel, dModel], data });
  s.prompts.forEach((p, k) => {
    row(`prompt.${k}`, p.data);
    for (const [name, data] of Object.entries(p.optimizer.tensors))
      tensors.push({ name: `optimizer.${k}.${name}`, shape: [data.length], data });
    if (p.best) row(`best_prompt.${k}`, p.best.prompt);
    if (p.taskEmbedding) row(`task_embedding.${k}`, p.taskEmbedding.prompt);
  });
  const meta: CheckpointMeta = {
    step: s.step,
    order: s.order,
    evals: s.evals,
    zeroShot: s.zeroShot,
    sinceImprovement: s.sinceImprovement,
    pendingEval: s.pendingEval,
    microBatchSize: s.microBatchSize,
    examplesSeen: s.examplesSeen,
    trainSeconds: s.trainSeconds,
    lossScale: s.lossScale,
    prompts: s.prompts.map((p) => ({
      optimizer: { kind: p.optimizer.kind, step: p.optimizer.step, tensors: Object.keys(p.optimizer.tensors) },
      best: p.best && { step: p.best.step, value: p.best.value },
      taskEmbeddingStep: p.taskEmbedding?.step ?? null,
    })),
  };
  return writeCheckpointFile(dir, s.step, tensors, {
    sprout: 'training-checkpoint',
    version: CHECKPOINT_VERSION,
    state: JSON.stringify(meta),
  });
}

/**
 * Writes a run's checkpoint atomically (temporary file, then rename). A failed write leaves the previous
 * checkpoint whole, so it becomes one clear error naming the step and the resume command.
 */
function writeCheckpointFile(dir: string, step: number, tensors: NamedTensor[], metadata: Record<string, string>): string {
  const file = join(dir, CHECKPOINT_FILE);
  try {
    writeTensorFile(file, tensors, metadata);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    const goOn = {
      hint: `The previous checkpoint is kept; free some space, then continue with \`sprout train --resume ${basename(dir)}\`.`,
      uiHint: 'The previous checkpoint is kept; free some space, then resume the run.',
    };
    if (isDiskFull(error))
      throw diskFullError(
        dir,
        `the training checkpoint of step ${step}`,
        goOn,
        tensors.reduce((n, t) => n + t.data.byteLength, 0),
      );
    throw new SproutError('checkpoint-write-failed', `Cannot save the training checkpoint at step ${step}: ${(error as Error).message}.`, {
      file,
      ...goOn,
    });
  }
  return file;
}

/**
 * The state in a run's checkpoint, whichever Sprout wrote it (older single-task and mixture checkpoints are read
 * into the same state); null when the run has none yet. `batchSize` is the run's, for a mixture checkpoint from
 * before micro-batching, which stepped whole batches.
 */
export function loadCheckpoint(dir: string, batchSize?: number): TrainerState | null {
  const file = join(dir, CHECKPOINT_FILE);
  if (!existsSync(file)) return null;
  const f = readTensorFile(file);
  const legacy = readLegacyCheckpoint(f, batchSize);
  if (legacy) return legacy;
  if (f.metadata.sprout !== 'training-checkpoint' || f.metadata.version !== CHECKPOINT_VERSION)
    throw badCheckpoint(file, 'it is not a Sprout training checkpoint');
  const meta = checkpointMeta<CheckpointMeta>(f);
  if (!Number.isInteger(meta?.step) || !Array.isArray(meta.prompts) || !meta.order || !Array.isArray(meta.evals))
    throw badCheckpoint(file, 'its state is incomplete');
  const { prompts, ...rest } = meta;
  return {
    ...rest,
    lossScale: rest.lossScale ?? null,
    losses: checkpointLosses(f, meta.step),
    prompts: prompts.map((p, k) =>
      promptState(
        f,
        p.optimizer,
        { prompt: `prompt.${k}`, optimizer: `optimizer.${k}.`, best: `best_prompt.${k}`, taskEmbedding: `task_embedding.${k}` },
        p.best,
        p.taskEmbeddingStep,
      ),
    ),
  };
}

/** A prompt as PEFT and the labeller read it: one float32 tensor [P, d_model]. */
export function writePromptFile(file: string, prompt: Float32Array, dModel: number, metadata: Record<string, string>): void {
  writeTensorFile(file, [{ name: PROMPT_TENSOR, shape: [prompt.length / dModel, dModel], data: prompt }], metadata);
}
