/**
 * A short probe run for a target task that has no stored task embedding yet (SPoT trains the target for the same
 * number of steps as the sources' task embeddings and compares the prompt at that step).
 */
import { SproutError } from '../errors.js';
import { inLibrary } from '../library/run-records.js';
import { dataDir } from '../paths.js';
import type { LibraryDb } from '../library/db.js';
import type { DevicePreference } from '../runtime/types.js';
import { MIN_TASK_EMBEDDING_STEP, PROBE_PURPOSE, PROBE_RUN_NAME, type DataSource, type TrainingConfigInput } from '../train/config.js';
import type { TrainingHooks } from '../train/events.js';
import { runTraining, type TrainingResult } from '../train/run.js';
import type { BaseModel } from './rank.js';
import { recipeOf, type EmbeddingRecipe } from './recipe.js';
import type { WeightsChoice } from '../weights/width.js';

/** Without library task embeddings to match, a probe is as long as a task embedding's minimum. */
export const DEFAULT_PROBE_STEPS = MIN_TASK_EMBEDDING_STEP;

export interface ProbeSpec {
  /** The model folder. */
  model: string;
  train: DataSource;
  task: { template: string; labelColumn: string; verbalizer?: Record<string, string>; maxInputLength?: number };
  steps: number;
  promptLength?: number;
  /**
   * The recipe the target's runs will train with. A probe's early prompt is compared with sources' early prompts,
   * and the change a prompt makes early depends on the recipe as much as on the task: on mini-t5-instruct, a
   * sports-vs-business probe at batch 32 ranked a sentiment prompt trained at batch 8 above the topic prompt
   * trained alike, and at batch 8 it ranked topic first by every metric (README, "Transfer, measured").
   */
  batchSize?: number;
  optimizer?: TrainingConfigInput['optimizer'];
  seed?: number;
  device?: DevicePreference;
  /** onnxruntime threads, as the person set them for training: a probe is a training run. */
  threads?: number;
  weights?: WeightsChoice;
}

/**
 * The step the library's task embeddings on `base` were most often taken at, so that a probe is compared with
 * sources at the same point of training; DEFAULT_PROBE_STEPS when none has one.
 */
export function usualTaskEmbeddingStep(db: LibraryDb, base: BaseModel): number {
  const row = db
    .prepare(
      `SELECT task_embedding_step AS step, count(*) AS n FROM prompts
       WHERE task_embedding_step IS NOT NULL AND d_model = @d AND (model_id = @id OR (@id IS NULL AND model_path = @path))
       GROUP BY task_embedding_step ORDER BY n DESC, step LIMIT 1`,
    )
    .get({ d: base.dModel, id: base.id, path: base.path }) as { step: number } | undefined;
  return row?.step ?? DEFAULT_PROBE_STEPS;
}

export interface ProbeResult {
  runId: TrainingResult['run_id'];
  /** The prompt the probe run stored, with its task embedding and starting point; it is the target itself, never a transfer source. */
  promptId: number;
  step: number;
}

/** The recipe a probe of `spec` trains with: what a stored embedding of the target must share to stand in for it. */
export function probeRecipe(spec: Pick<ProbeSpec, 'promptLength' | 'batchSize' | 'optimizer' | 'steps'>): EmbeddingRecipe {
  const recipe = recipeOf({ promptLength: spec.promptLength, batchSize: spec.batchSize, optimizer: spec.optimizer }, spec.steps);
  if (!recipe) throw new SproutError('bad-training-config', 'The probe settings are not a valid training recipe.');
  return recipe;
}

/** Trains the target task for `steps` steps; its library prompt holds the prompt at the last one as task embedding. */
export async function probeTaskEmbedding(spec: ProbeSpec, options: TrainingHooks & { dataDir?: string } = {}): Promise<ProbeResult> {
  const config: TrainingConfigInput = {
    model: spec.model,
    device: spec.device ?? 'auto',
    threads: spec.threads,
    weights: spec.weights,
    train: spec.train,
    task: spec.task,
    promptLength: spec.promptLength,
    batchSize: spec.batchSize,
    optimizer: spec.optimizer,
    seed: spec.seed,
    steps: spec.steps,
    taskEmbeddingStep: spec.steps,
    // Only the prompt at the probe's last step matters; one validation example keeps the closing evaluation cheap.
    evalEvery: spec.steps,
    evalLimit: 1,
    checkpointEvery: spec.steps,
    name: PROBE_RUN_NAME,
    purpose: PROBE_PURPOSE,
  };
  const home = options.dataDir ?? dataDir();
  const result = await runTraining({ config }, { ...options, ...inLibrary(home) });
  if (result.status === 'cancelled' || result.prompt_id === null || result.task_embedding_step === null) {
    throw new SproutError(
      'probe-incomplete',
      `The probe run ${result.run_id} stopped before step ${spec.steps}, so the target has no task embedding.`,
      {
        hint: 'Run the ranking again to finish it.',
      },
    );
  }
  return { runId: result.run_id, promptId: result.prompt_id, step: result.task_embedding_step };
}
