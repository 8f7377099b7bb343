/**
 * Checkpoints written before single-task and mixture runs shared one loop, read into today's state so that runs
 * on users' disks still resume (the next checkpoint is written in the current format). Version 1 held one prompt
 * under unsuffixed names; a mixture checkpoint held a prompt per task but no task embedding, zero-shot baseline,
 * patience count or micro-batch size (mixtures stepped whole batches).
 */
import type { DataOrderState } from './order.js';
import type { EvalMetrics } from './evaluate.js';
import type { TensorFile } from './tensor-file.js';
import { badCheckpoint, checkpointLosses, checkpointMeta, promptState, type CheckpointMeta, type TrainerState } from './trainer-state.js';

type OptimizerMeta = CheckpointMeta['prompts'][number]['optimizer'];

interface SingleTaskMeta {
  step: number;
  optimizer: OptimizerMeta;
  order: DataOrderState;
  best: { step: number; value: number } | null;
  taskEmbeddingStep: number | null;
  evals: { step: number; metrics: EvalMetrics }[];
  zeroShot?: EvalMetrics | null;
  sinceImprovement: number;
  pendingEval: boolean;
  microBatchSize: number;
  examplesSeen: number;
  trainSeconds: number;
}

interface MixtureMeta {
  step: number;
  order: DataOrderState;
  prompts: { optimizer: OptimizerMeta; best: { step: number; value: number } | null }[];
  /** Per task, its evaluations. */
  evals: { step: number; metrics: EvalMetrics }[][];
  examplesSeen: number;
  trainSeconds: number;
}

function singleTask(f: TensorFile): TrainerState {
  const meta = checkpointMeta<SingleTaskMeta>(f);
  if (!Number.isInteger(meta?.step) || !meta.optimizer || !meta.order || !Array.isArray(meta.evals))
    throw badCheckpoint(f.file, 'its state is incomplete');
  const names = { prompt: 'prompt', optimizer: 'optimizer.', best: 'best_prompt', taskEmbedding: 'task_embedding' };
  return {
    step: meta.step,
    order: meta.order,
    losses: checkpointLosses(f, meta.step),
    prompts: [promptState(f, meta.optimizer, names, meta.best, meta.taskEmbeddingStep)],
    evals: meta.evals.map((e) => ({ step: e.step, task: 0, metrics: e.metrics })),
    zeroShot: [meta.zeroShot ?? null],
    sinceImprovement: meta.sinceImprovement,
    pendingEval: meta.pendingEval === true,
    microBatchSize: meta.microBatchSize,
    examplesSeen: meta.examplesSeen,
    trainSeconds: meta.trainSeconds,
    lossScale: null,
  };
}

function mixture(f: TensorFile, batchSize: number | undefined): TrainerState {
  const meta = checkpointMeta<MixtureMeta>(f);
  if (!Number.isInteger(meta?.step) || !Array.isArray(meta.prompts) || !Array.isArray(meta.evals) || batchSize === undefined)
    throw badCheckpoint(f.file, 'its state does not match the run');
  return {
    step: meta.step,
    order: meta.order,
    losses: checkpointLosses(f, meta.step),
    prompts: meta.prompts.map((p, k) =>
      promptState(
        f,
        p.optimizer,
        { prompt: `prompt.${k}`, optimizer: `optimizer.${k}.`, best: `best_prompt.${k}`, taskEmbedding: '' },
        p.best,
        null,
      ),
    ),
    evals: meta.evals
      .flatMap((evals, task) => evals.map((e) => ({ step: e.step, task, metrics: e.metrics })))
      .sort((a, b) => a.step - b.step || a.task - b.task),
    zeroShot: meta.evals.map(() => null),
    sinceImprovement: 0,
    pendingEval: false,
    microBatchSize: batchSize,
    examplesSeen: meta.examplesSeen,
    trainSeconds: meta.trainSeconds,
    lossScale: null,
  };
}

/** The state of a checkpoint in a format before the current one; null for a current (or unknown) one. */
export function readLegacyCheckpoint(f: TensorFile, batchSize: number | undefined): TrainerState | null {
  if (f.metadata.sprout === 'mixture-checkpoint') return mixture(f, batchSize);
  if (f.metadata.sprout === 'training-checkpoint' && f.metadata.version === undefined) return singleTask(f);
  return null;
}
