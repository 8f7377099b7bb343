/**
 * A run's folder under <data dir>/runs/<library run id>: config.json (what was asked and what was resolved),
 * checkpoint.safetensors (everything needed to continue bit for bit), and at the end prompt.safetensors (the
 * kept prompt), task-embedding.safetensors and result.json; while a process trains it, its writer lock is held (writer-lock.ts).
 * Every file is replaced atomically.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SproutError } from '../errors.js';
import type { EvalMetrics } from './evaluate.js';
import type { OptimizerState } from './optim/index.js';
import type { DataOrderState } from './order.js';
import { readTensorFile, requireTensor, writeTensorFile, type NamedTensor } from './tensor-file.js';

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
  const tmp = `${file}.${process.pid}.tmp`;
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
    throw new SproutError(code, `Cannot read ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file: it does not exist' : (error as Error).message}.`, { file });
  }
}

export interface EvalRecord {
  step: number;
  metrics: EvalMetrics;
}

/** Everything a resumed run needs besides the config and the data. */
export interface TrainerState {
  step: number;
  prompt: Float32Array; // [P * d]
  optimizer: OptimizerState;
  order: DataOrderState;
  /** Training loss of every step so far (float32 values). */
  losses: number[];
  best: { step: number; value: number; prompt: Float32Array } | null;
  taskEmbedding: { step: number; prompt: Float32Array } | null;
  evals: EvalRecord[];
  /** The initial prompt's evaluation (the zero-shot baseline); null before it ran or without validation data. */
  zeroShot: EvalMetrics | null;
  /** Evaluations since the best one (early stopping). */
  sinceImprovement: number;
  /** Cancelled while evaluating this step: the evaluation is redone first on resume. */
  pendingEval: boolean;
  /** Reduced after an out-of-memory error; kept so the resumed run splits batches the same way. */
  microBatchSize: number;
  examplesSeen: number;
  /** Wall-clock seconds spent in training steps (not evaluation), across resumes. */
  trainSeconds: number;
}

export function saveCheckpoint(dir: string, s: TrainerState, dModel: number): string {
  const P = s.prompt.length / dModel;
  const tensors: NamedTensor[] = [
    { name: 'prompt', shape: [P, dModel], data: s.prompt },
    { name: 'losses', shape: [s.losses.length], data: Float32Array.from(s.losses) },
    ...Object.entries(s.optimizer.tensors).map(([name, data]) => ({ name: `optimizer.${name}`, shape: [data.length], data })),
  ];
  if (s.best) tensors.push({ name: 'best_prompt', shape: [P, dModel], data: s.best.prompt });
  if (s.taskEmbedding) tensors.push({ name: 'task_embedding', shape: [P, dModel], data: s.taskEmbedding.prompt });
  const meta = {
    step: s.step,
    optimizer: { kind: s.optimizer.kind, step: s.optimizer.step, tensors: Object.keys(s.optimizer.tensors) },
    order: s.order,
    best: s.best && { step: s.best.step, value: s.best.value },
    taskEmbeddingStep: s.taskEmbedding?.step ?? null,
    evals: s.evals,
    zeroShot: s.zeroShot,
    sinceImprovement: s.sinceImprovement,
    pendingEval: s.pendingEval,
    microBatchSize: s.microBatchSize,
    examplesSeen: s.examplesSeen,
    trainSeconds: s.trainSeconds,
  };
  return writeCheckpointFile(dir, s.step, tensors, { sprout: 'training-checkpoint', state: JSON.stringify(meta) });
}

/**
 * Writes a run's checkpoint atomically (temporary file, then rename). A failed write leaves the previous
 * checkpoint whole, so it becomes one clear error naming the step and the resume command.
 */
export function writeCheckpointFile(dir: string, step: number, tensors: NamedTensor[], metadata: Record<string, string>): string {
  const file = join(dir, CHECKPOINT_FILE);
  try {
    writeTensorFile(file, tensors, metadata);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    const cause = code === 'ENOSPC' || code === 'EDQUOT' ? 'the disk is full' : (error as Error).message;
    throw new SproutError('checkpoint-write-failed', `Cannot save the training checkpoint at step ${step}: ${cause}.`, {
      file,
      hint: `The previous checkpoint is kept; free some space, then continue with \`sprout train --resume ${basename(dir)}\`.`,
    });
  }
  return file;
}

export function loadCheckpoint(dir: string): TrainerState | null {
  const file = join(dir, CHECKPOINT_FILE);
  if (!existsSync(file)) return null;
  const f = readTensorFile(file);
  const bad = (what: string) => new SproutError('bad-checkpoint', `The training checkpoint is damaged: ${what}.`, { file, hint: 'Start the run again.' });
  if (f.metadata.sprout !== 'training-checkpoint') throw bad('it is not a Sprout training checkpoint');
  let meta: {
    step: number;
    optimizer: { kind: OptimizerState['kind']; step: number; tensors: string[] };
    order: DataOrderState;
    best: { step: number; value: number } | null;
    taskEmbeddingStep: number | null;
    evals: EvalRecord[];
    zeroShot?: EvalMetrics | null;
    sinceImprovement: number;
    pendingEval: boolean;
    microBatchSize: number;
    examplesSeen: number;
    trainSeconds: number;
  };
  try {
    meta = JSON.parse(f.metadata.state);
  } catch {
    throw bad('its state is not JSON');
  }
  if (!Number.isInteger(meta?.step) || !meta.optimizer || !meta.order || !Array.isArray(meta.evals)) throw bad('its state is incomplete');
  const tensors: Record<string, Float32Array> = {};
  for (const name of meta.optimizer.tensors) tensors[name] = requireTensor(f, `optimizer.${name}`, Float32Array);
  const losses = requireTensor(f, 'losses', Float32Array);
  if (losses.length !== meta.step) throw bad(`it has ${losses.length} losses for ${meta.step} steps`);
  return {
    step: meta.step,
    prompt: requireTensor(f, 'prompt', Float32Array),
    optimizer: { kind: meta.optimizer.kind, step: meta.optimizer.step, tensors },
    order: meta.order,
    losses: Array.from(losses),
    best: meta.best && { ...meta.best, prompt: requireTensor(f, 'best_prompt', Float32Array) },
    taskEmbedding: meta.taskEmbeddingStep === null ? null : { step: meta.taskEmbeddingStep, prompt: requireTensor(f, 'task_embedding', Float32Array) },
    evals: meta.evals,
    zeroShot: meta.zeroShot ?? null,
    sinceImprovement: meta.sinceImprovement,
    pendingEval: meta.pendingEval === true,
    microBatchSize: meta.microBatchSize,
    examplesSeen: meta.examplesSeen,
    trainSeconds: meta.trainSeconds,
  };
}

/** A prompt as PEFT and the labeller read it: one float32 tensor [P, d_model]. */
export function writePromptFile(file: string, prompt: Float32Array, dModel: number, metadata: Record<string, string>): void {
  writeTensorFile(file, [{ name: PROMPT_TENSOR, shape: [prompt.length / dModel, dModel], data: prompt }], metadata);
}
