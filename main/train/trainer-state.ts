/**
 * The state of a training run between steps, as the trainer holds it and its checkpoint stores it, and the
 * readers its checkpoint formats share (run-store.ts writes and reads the current one, legacy-checkpoints.ts
 * the ones before it).
 */
import { SproutError } from '../errors.js';
import type { EvalMetrics } from './evaluate.js';
import type { LossScaleState } from './loss-scale.js';
import type { OptimizerState } from './optim/index.js';
import type { DataOrderState } from './order.js';
import { requireTensor, type TensorFile } from './tensor-file.js';

export interface EvalRecord {
  step: number;
  /** Index of the evaluated task in the run's task list (0 for a single-task run). */
  task: number;
  metrics: EvalMetrics;
}

/** One trained prompt: a single-task run has one, a mixture one per task or one shared by all. */
export interface PromptState {
  data: Float32Array; // [P * d]
  optimizer: OptimizerState;
  best: { step: number; value: number; prompt: Float32Array } | null;
  taskEmbedding: { step: number; prompt: Float32Array } | null;
}

/** Everything a resumed run needs besides the config and the data. */
export interface TrainerState {
  step: number;
  order: DataOrderState;
  /** Training loss of every step so far (float32 values). */
  losses: number[];
  prompts: PromptState[];
  evals: EvalRecord[];
  /** Per task, the initial prompt's evaluation (the zero-shot baseline); null before it ran or without validation data. */
  zeroShot: (EvalMetrics | null)[];
  /** Evaluations since the last one that improved any prompt (early stopping). */
  sinceImprovement: number;
  /** Cancelled while evaluating this step: the evaluation is redone first on resume. */
  pendingEval: boolean;
  /** Reduced after an out-of-memory error; kept so the resumed run splits batches the same way. */
  microBatchSize: number;
  examplesSeen: number;
  /** Wall-clock seconds spent in training steps (not evaluation), across resumes. */
  trainSeconds: number;
  /** float16 runs only (main/train/loss-scale.ts); null at fp32 and bf16, and in checkpoints from before it. */
  lossScale: LossScaleState | null;
}

/** What the checkpoint's `state` metadata holds besides the tensors. */
export interface CheckpointMeta extends Omit<TrainerState, 'losses' | 'prompts'> {
  prompts: {
    optimizer: { kind: OptimizerState['kind']; step: number; tensors: string[] };
    best: { step: number; value: number } | null;
    taskEmbeddingStep: number | null;
  }[];
}

/** A damaged checkpoint: one clear error naming the file. */
export function badCheckpoint(file: string, what: string): SproutError {
  return new SproutError('bad-checkpoint', `The training checkpoint is damaged: ${what}.`, { file, hint: 'Start the run again.' });
}

/** The checkpoint's `state` metadata, parsed. */
export function checkpointMeta<T>(f: TensorFile): T {
  try {
    return JSON.parse(f.metadata.state) as T;
  } catch {
    throw badCheckpoint(f.file, 'its state is not JSON');
  }
}

/** The per-step losses, as many as the steps taken. */
export function checkpointLosses(f: TensorFile, steps: number): number[] {
  const losses = requireTensor(f, 'losses', Float32Array);
  if (losses.length !== steps) throw badCheckpoint(f.file, `it has ${losses.length} losses for ${steps} steps`);
  return Array.from(losses);
}

/** One prompt's state from the tensors the names give (they differ between formats). */
export function promptState(
  f: TensorFile,
  optimizer: CheckpointMeta['prompts'][number]['optimizer'],
  names: { prompt: string; optimizer: string; best: string; taskEmbedding: string },
  best: { step: number; value: number } | null,
  taskEmbeddingStep: number | null,
): PromptState {
  const tensors: Record<string, Float32Array> = {};
  for (const name of optimizer.tensors) tensors[name] = requireTensor(f, `${names.optimizer}${name}`, Float32Array);
  return {
    data: requireTensor(f, names.prompt, Float32Array),
    optimizer: { kind: optimizer.kind, step: optimizer.step, tensors },
    best: best && { ...best, prompt: requireTensor(f, names.best, Float32Array) },
    taskEmbedding:
      taskEmbeddingStep === null ? null : { step: taskEmbeddingStep, prompt: requireTensor(f, names.taskEmbedding, Float32Array) },
  };
}
