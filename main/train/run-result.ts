/**
 * How a run ends: each kept prompt (its best, else its last) written to the run folder with its task embedding,
 * the prompts the library stores, and the JSON summary `sprout train` prints (one shape for a single task, with a
 * `tasks` list for a mixture). Every task is judged the same way: its best evaluation, metric, baselines, warnings.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Precision, PromptModel } from '../runtime/types.js';
import type { WeightWidth } from '../weights/width.js';
import { judgeTest, type Baselines, type TestMetrics, type TestScore } from './baselines.js';
import { taskEmbeddingStep, type MixtureConfig } from './config.js';
import type { EvalMetricName } from './evaluate.js';
import { summarizeEval, type EvalSummary } from './eval-summary.js';
import { promptOf, roundWarnings } from './eval-round.js';
import type { loopTask } from './run-data.js';
import type { KeptPrompt } from './run-ledger.js';
import { PROMPT_FILE, TASK_EMBEDDING_FILE, writePromptFile } from './run-store.js';
import { tenPercentMean, type LoopStatus } from './trainer.js';
import type { TrainerState } from './trainer-state.js';

/** What the end of a run is built from. */
export interface RunEnd {
  runId: number;
  dir: string;
  config: MixtureConfig;
  /** A single-task run (its summary has no task list), not a mixture of one. */
  single: boolean;
  state: TrainerState;
  status: LoopStatus;
  model: PromptModel;
  tasks: ReturnType<typeof loopTask>[];
  /** Data and initialisation notes. */
  notes: string[];
  /** Each prompt as it started. */
  initial: Float32Array[];
  /** Each task's kept prompt on its test split, scored once as the run ended; null without one. */
  tests: (TestMetrics | null)[];
}

/** How a task's prompt is judged: its best evaluation, the metric, the baselines, warnings. */
export interface TaskJudgement {
  /** Validation metrics of the kept prompt; null without validation data. */
  best: EvalSummary | null;
  best_step: number | null;
  /** The metric the best prompt was kept by, and why (`auto` explains what it saw). */
  metric: EvalMetricName;
  metric_reason: string;
  baselines: Baselines;
  /** The kept prompt scored once on the test split when the run ended (the headline); null without a test split. */
  test: TestScore | null;
  /**
   * Plain warnings about the kept prompt's headline evaluation (the test split's, else the best validation's):
   * predictions (nearly) one label, a class it misses, or not above the majority baseline.
   */
  warnings: string[];
}

interface RunFigures {
  /** The library's run id; also the run folder's name under <data dir>/runs. */
  run_id: number;
  status: LoopStatus;
  steps: number;
  planned_steps: number;
  /** Mean training loss of the first and of the last 10% of steps. */
  first_loss: number | null;
  last_loss: number | null;
  examples_per_s: number;
  provider: string;
  provider_detail: string;
  /** Why this provider and not a GPU (providers passed over, a graph a GPU refused); null when none was. */
  provider_reason: string | null;
  /** The compute dtype the run used: fp16 and bf16 runs keep the prompt, its gradient and the loss in float32. */
  precision: Exclude<Precision, 'auto'>;
  /** Width of the frozen weights it trained with. */
  weights: WeightWidth;
  /** fp16: the loss scale it ended with and the steps it skipped because their gradient overflowed; null otherwise. */
  loss_scale: { final: number; skipped_steps: number[] } | null;
  /** Data notes, then (for a single task) the warnings. */
  notes: string[];
}

export interface TrainingResult extends RunFigures, TaskJudgement {
  /** The library id of the kept prompt; null when the run was cancelled (resume it to finish). */
  prompt_id: number | null;
  task_embedding_step: number | null;
  prompt_file: string;
  task_embedding_file: string | null;
}

export interface MixtureTaskResult extends TaskJudgement {
  task: string;
  task_id: number;
  /** The library prompt of this task (with --shared-prompt, the same prompt for every task); null when cancelled. */
  prompt_id: number | null;
  train_examples: number;
  prompt_file: string;
}

export interface MixtureResult extends RunFigures {
  mixture: true;
  shared_prompt: boolean;
  tasks: MixtureTaskResult[];
}

const round = (v: number | null) => (v === null ? null : Number(v.toFixed(6)));

export function judgeTask(end: RunEnd, k: number): TaskJudgement {
  const { state } = end;
  const task = end.tasks[k];
  const kept = state.prompts[promptOf({ prompts: state.prompts }, k)].best;
  const bestEval = kept && state.evals.find((e) => e.step === kept.step && e.task === k);
  const zeroShot = state.zeroShot[k];
  const tested = end.tests[k];
  const test = tested && judgeTest(kept?.step ?? state.step, tested, task.labels, task.metric);
  return {
    best: bestEval ? summarizeEval(bestEval.step, bestEval.metrics) : null,
    best_step: kept?.step ?? null,
    metric: task.metricChoice.metric,
    metric_reason: task.metricChoice.reason,
    baselines: { majority: task.majority, zero_shot: zeroShot ? summarizeEval(0, zeroShot) : null },
    test,
    warnings: test ? test.warnings : bestEval ? roundWarnings(bestEval, task, zeroShot) : [],
  };
}

/** A prompt's files in the run folder: one prompt keeps the plain names, several are numbered. */
function fileNames(count: number, j: number): { prompt: string; taskEmbedding: string } {
  if (count === 1) return { prompt: PROMPT_FILE, taskEmbedding: TASK_EMBEDDING_FILE };
  return { prompt: PROMPT_FILE.replace('.', `-${j}.`), taskEmbedding: TASK_EMBEDDING_FILE.replace('.', `-${j}.`) };
}

/** Writes each prompt's kept values (its best, else its last) and its task embedding. */
export function writeKeptPrompts(end: RunEnd): { promptFile: string; taskEmbeddingFile: string | null }[] {
  const d = end.model.config.dModel;
  const meta = (step: number) => ({ format: 'pt', sprout_run: String(end.runId), step: String(step), model: end.config.model });
  return end.state.prompts.map((p, j) => {
    const names = fileNames(end.state.prompts.length, j);
    const kept = p.best?.prompt ?? p.data;
    const sha256 = createHash('sha256')
      .update(new Uint8Array(kept.buffer, kept.byteOffset, kept.byteLength))
      .digest('hex');
    const promptFile = join(end.dir, names.prompt);
    writePromptFile(promptFile, kept, d, { ...meta(p.best?.step ?? end.state.step), sha256 });
    if (!p.taskEmbedding) return { promptFile, taskEmbeddingFile: null };
    const taskEmbeddingFile = join(end.dir, names.taskEmbedding);
    writePromptFile(taskEmbeddingFile, p.taskEmbedding.prompt, d, meta(p.taskEmbedding.step));
    return { promptFile, taskEmbeddingFile };
  });
}

function figures(end: RunEnd, judgements: TaskJudgement[]): Omit<RunFigures, 'run_id' | 'status'> & { steps: number } {
  const { state, model } = end;
  return {
    steps: state.step,
    planned_steps: end.config.steps,
    first_loss: round(tenPercentMean(state.losses, 'first')),
    last_loss: round(tenPercentMean(state.losses, 'last')),
    examples_per_s: state.trainSeconds > 0 ? Number((state.examplesSeen / state.trainSeconds).toFixed(2)) : 0,
    provider: model.provider,
    provider_detail: model.providerDetail,
    provider_reason: model.providerReason,
    precision: model.precision,
    weights: model.weightWidth,
    loss_scale: state.lossScale && { final: state.lossScale.scale, skipped_steps: [...state.lossScale.skipped] },
    notes: end.single ? [...end.notes, ...judgements[0].warnings] : end.notes,
  };
}

/** The prompts the library keeps: none for a cancelled run (resume it to finish). */
export function keptPrompts(end: RunEnd, judgements: TaskJudgement[]): KeptPrompt[] {
  if (end.status === 'cancelled') return [];
  const { config, state } = end;
  const base = config.name ?? `${end.single ? 'run' : 'mixture'} ${end.runId}`;
  const many = end.tasks.length > 1;
  return state.prompts.map((p, j) => {
    // A shared prompt belongs to the mixture rather than one task; its metrics are those of the first task.
    const task = state.prompts.length === 1 && many ? null : j;
    const k = task ?? 0;
    const { best, best_step, metric, metric_reason, baselines, test, warnings } = judgements[k];
    const losses = {
      first_loss: round(tenPercentMean(state.losses, 'first')),
      last_loss: round(tenPercentMean(state.losses, 'last')),
      steps: state.step,
    };
    return {
      name: task === null || !many ? base : `${base} · ${end.tasks[k].name}`,
      embedding: p.best?.prompt ?? p.data,
      init: config.init,
      task,
      labels: task === null || end.tasks[k].labels.length === 0 ? null : end.tasks[k].labels,
      metrics: {
        ...(many ? { mixture: end.tasks.map((t) => t.name) } : {}),
        best,
        best_step,
        ...losses,
        metric,
        metric_reason,
        baselines,
        test,
        warnings,
      },
      taskEmbedding: p.taskEmbedding,
      initEmbedding: end.initial[j],
    };
  });
}

export function trainingResult(
  end: RunEnd,
  promptIds: number[],
  files: ReturnType<typeof writeKeptPrompts>,
  judgements: TaskJudgement[],
): TrainingResult {
  const fallback = taskEmbeddingStep(end.config);
  const snapshot = end.state.prompts[0].taskEmbedding;
  return {
    run_id: end.runId,
    prompt_id: promptIds[0] ?? null,
    status: end.status,
    ...figures(end, judgements),
    ...judgements[0],
    task_embedding_step: snapshot?.step ?? (end.state.step >= fallback ? fallback : null),
    prompt_file: files[0].promptFile,
    task_embedding_file: files[0].taskEmbeddingFile,
  };
}

export function mixtureResult(
  end: RunEnd,
  taskIds: number[],
  promptIds: number[],
  files: ReturnType<typeof writeKeptPrompts>,
  judgements: TaskJudgement[],
): MixtureResult {
  return {
    run_id: end.runId,
    mixture: true,
    shared_prompt: end.state.prompts.length === 1,
    status: end.status,
    ...figures(end, judgements),
    tasks: end.tasks.map((t, k) => {
      const j = promptOf({ prompts: end.state.prompts }, k);
      return {
        task: t.name,
        task_id: taskIds[k],
        prompt_id: promptIds[j] ?? null,
        train_examples: t.train.length,
        ...judgements[k],
        prompt_file: files[j].promptFile,
      };
    }),
  };
}
