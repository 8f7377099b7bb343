/**
 * How a task embedding was trained up to the step it was taken at. Early in training a prompt's change depends on
 * the recipe about as much as on the task (README, "Transfer, measured": a sports-vs-business probe at batch 32
 * ranked a sentiment source first, the same probe at batch 8 ranked topic first), so a stored embedding of the target
 * stands in for a probe only when it was trained as that probe would be.
 */
import type { OptimizerKind } from '../choices.js';
import { TrainingConfigSchema } from '../train/config.js';
import { createOptimizer } from '../train/optim/index.js';

export interface EmbeddingRecipe {
  /** Where the prompt started: a run started from a library prompt carries that prompt's task in its early values. */
  init: string;
  promptLength: number;
  batchSize: number;
  optimizer: OptimizerKind;
  /** The learning rate the optimiser used, its default resolved. */
  lr: number;
  /** The training step the embedding was taken at. */
  step: number;
}

/** The recipe's settings as a run's config holds them, the engine's defaults filled in; other keys are ignored. */
const RecipeSettings = TrainingConfigSchema.pick({ init: true, promptLength: true, batchSize: true, optimizer: true }).loose();

/** The recipe of a run config (stored or about to run) at `step`; null where the config has none it can read. */
export function recipeOf(config: unknown, step: number): EmbeddingRecipe | null {
  const parsed = RecipeSettings.safeParse(config);
  if (!parsed.success) return null;
  const { init, promptLength, batchSize, optimizer } = parsed.data;
  const lr = createOptimizer(optimizer, 1, 1).learningRate();
  return { init, promptLength, batchSize, optimizer: optimizer.kind, lr, step };
}

export function sameRecipe(a: EmbeddingRecipe, b: EmbeddingRecipe): boolean {
  return (
    a.init === b.init &&
    a.promptLength === b.promptLength &&
    a.batchSize === b.batchSize &&
    a.optimizer === b.optimizer &&
    a.lr === b.lr &&
    a.step === b.step
  );
}
