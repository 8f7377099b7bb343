/**
 * A training run's configuration: plain JSON so it can cross a worker boundary and be stored in the run folder,
 * validated here (the CLI, the app and a resumed run's config.json all come through `parseTrainingConfig`).
 */
import { z } from 'zod';
import {
  DATA_FORMATS,
  DEVICE_PREFERENCES,
  ENCODING_CHOICES,
  INVALID_UTF8_CHOICES,
  METRIC_REQUESTS,
  OPTIMIZER_KINDS,
  PRECISIONS,
  QUOTINGS,
  SEPARATORS,
  WEIGHTS_CHOICES,
} from '../choices.js';
import { SproutError } from '../errors.js';
import { limitedInt } from '../run-limits.js';
import { DEFAULT_MAX_INPUT_LENGTH, DEFAULT_MAX_TARGET_LENGTH } from './task.js';
import { MAX_HELD_OUT } from '../data/split.js';

const positiveInt = z.number().int().min(1);

/**
 * A transfer-ranking probe run (main/transfer/probe.ts) trains the target task only to learn its task embedding: its
 * run is not one of the person's runs and its prompt is no library prompt. Probes recorded before `purpose` existed
 * are known by their name. The rule is here twice, as a predicate and as SQL, side by side.
 */
export const PROBE_PURPOSE = 'probe';
export const PROBE_RUN_NAME = 'transfer probe';

export function isProbeRun(config: { purpose?: unknown; name?: unknown }): boolean {
  return config.purpose === PROBE_PURPOSE || config.name === PROBE_RUN_NAME;
}

/** isProbeRun as an SQL condition on `config`, a column holding a run's config as JSON (main/library queries). */
export function isProbeRunSql(config: string): string {
  return `(json_extract(${config}, '$.purpose') = '${PROBE_PURPOSE}' OR json_extract(${config}, '$.name') = '${PROBE_RUN_NAME}')`;
}

const DataSourceSchema = z.union([
  z.strictObject({
    file: z.string().min(1),
    format: z.enum(DATA_FORMATS).optional(),
    header: z.boolean().optional(),
    quoting: z.enum(QUOTINGS).optional(),
    separator: z.enum(SEPARATORS).optional(),
    sheet: z.string().min(1).optional(),
    encoding: z.enum(ENCODING_CHOICES).optional(),
    invalidUtf8: z.enum(INVALID_UTF8_CHOICES).optional(),
    /** Leave out the first N records: a later range of one file, e.g. its held-out rows as validation data. */
    skip: z.number().int().min(0).optional(),
    /** Use only the first N records (after `skip`): quick trials, tests, or the training range of a file. */
    limit: positiveInt.optional(),
    /**
     * Shares of each class held out of training by unique text, drawn as `sprout data import` draws them (same rows
     * for the same file, seed and shares): training reads the rest, validation and test sources name the same file
     * with the same hold-out and read their part.
     */
    holdOut: z
      .strictObject({
        validation: z.number().min(0).max(MAX_HELD_OUT.validation),
        test: z.number().min(0).max(MAX_HELD_OUT.test),
        seed: z.number().int().min(0),
      })
      .optional(),
  }),
  z.strictObject({ dataset: positiveInt, limit: positiveInt.optional() }),
]);

export const TrainingConfigSchema = z.strictObject({
  /** The T5 model folder. */
  model: z.string().min(1),
  device: z.enum(DEVICE_PREFERENCES).default('auto'),
  /** Compute dtype of activations (main/runtime/precision.ts): auto = fp32 on the CPU, bf16 on CUDA, fp16 on other GPUs. */
  precision: z.enum(PRECISIONS).default('auto'),
  /** Width of the frozen weights; a run's stored config holds the width `auto` resolved to, so resuming keeps it. */
  weights: z.enum(WEIGHTS_CHOICES).default('auto'),
  /** onnxruntime intra-op threads; kept for a resumed run so that its sums are computed the same way. */
  threads: limitedInt('threads').optional(),
  train: DataSourceSchema,
  /** Validation data; a dataset's own validation split (or a file's held-out validation share) when omitted. */
  validation: DataSourceSchema.optional(),
  /**
   * The test split, scored once with the kept prompt when the run ends (never to choose a step); a dataset's own
   * test split (or a file's held-out test share) when omitted.
   */
  test: DataSourceSchema.optional(),
  task: z.strictObject({
    template: z.string().min(1),
    labelColumn: z.string().min(1),
    verbalizer: z.record(z.string(), z.string().min(1)).optional(),
    maxInputLength: limitedInt('maxInputLength').default(DEFAULT_MAX_INPUT_LENGTH),
    maxTargetLength: positiveInt.default(DEFAULT_MAX_TARGET_LENGTH),
    kind: z.enum(['classification', 'generation']).optional(),
  }),
  promptLength: limitedInt('promptLength').default(20),
  /** One of INIT_FORMS (main/choices.ts), checked by main/train/init.ts's parseInit. */
  init: z.string().min(1).default('vocab'),
  optimizer: z
    .strictObject({
      kind: z.enum(OPTIMIZER_KINDS).default('adafactor'),
      lr: z.number().positive().optional(),
      weightDecay: z.number().min(0).optional(),
    })
    .default({ kind: 'adafactor' }),
  /** Effective batch: examples per optimiser step. */
  batchSize: limitedInt('batchSize').default(32),
  /** Examples per engine call; smaller values accumulate gradients to the effective batch. */
  microBatchSize: positiveInt.optional(),
  steps: limitedInt('steps').default(1000),
  evalEvery: limitedInt('evalEvery').default(100),
  /** Evaluate after exactly these steps (and the last) instead of every evalEvery steps. */
  evalSteps: z.array(positiveInt).min(1).optional(),
  /** Greedy decoding in evaluation stops at eos or after this many tokens; default: the longest target. */
  maxNewTokens: positiveInt.optional(),
  evalBatchSize: positiveInt.default(32),
  /** Evaluate on at most this many validation examples (the first ones). */
  evalLimit: limitedInt('evalLimit').optional(),
  /** Also evaluate the initial prompt (step 0). */
  evalAtStart: z.boolean().default(false),
  /** Stop after this many evaluations without improvement; off when omitted. */
  patience: limitedInt('patience').optional(),
  /** The metric the best prompt is kept by; auto (the default): MCC or macro-F1 when classes are imbalanced, else accuracy. */
  metric: z.enum(METRIC_REQUESTS).optional(),
  seed: limitedInt('seed').default(0),
  /** Clip the prompt gradient to this L2 norm; off when omitted (Adafactor clips its update anyway). */
  maxGradNorm: z.number().positive().optional(),
  /** z-loss coefficient (Lester et al.: 1e-4); 0 matches Hugging Face's plain cross-entropy. */
  zLoss: z.number().min(0).default(0),
  /** Dropout inside the frozen model (SPoT: 0.1). */
  dropout: z.number().min(0).max(0.9).default(0),
  checkpointEvery: positiveInt.default(100),
  /** Step whose prompt is kept as the task embedding for transfer ranking; default taskEmbeddingStep()'s rule. */
  taskEmbeddingStep: positiveInt.optional(),
  /** Sort each window of batches by input length so batches pad little. */
  bucketing: z.boolean().default(true),
  name: z.string().min(1).optional(),
  /** probe: a transfer-ranking probe, whose prompt is the target's task embedding and no library prompt. */
  purpose: z.enum(['task', PROBE_PURPOSE]).optional(),
});

export type TrainingConfig = z.infer<typeof TrainingConfigSchema>;
export type TrainingConfigInput = z.input<typeof TrainingConfigSchema>;
export type DataSource = z.infer<typeof DataSourceSchema>;

/** What every run sets whatever its tasks: the model, training, evaluation and checkpoints. */
const RunSettingsSchema = TrainingConfigSchema.omit({ train: true, validation: true, test: true, task: true, purpose: true });
export type RunSettings = z.infer<typeof RunSettingsSchema>;

/** One task of a run: its data and how its examples become text. */
export const TaskSpecSchema = z.strictObject({
  name: z.string().min(1),
  train: DataSourceSchema,
  validation: DataSourceSchema.optional(),
  test: DataSourceSchema.optional(),
  task: TrainingConfigSchema.shape.task,
});
export type TaskSpec = z.infer<typeof TaskSpecSchema>;

/**
 * A mixture of tasks (the "multi-task mixture" SPoT trains source prompts on), with every setting a single task has.
 * A single-task run is trained as a mixture of one (toMixture).
 */
export const MixtureConfigSchema = RunSettingsSchema.extend({
  tasks: z.array(TaskSpecSchema).min(1),
  /** One prompt for the whole mixture instead of one per task. */
  sharedPrompt: z.boolean().default(false),
});
export type MixtureConfig = z.infer<typeof MixtureConfigSchema>;
export type MixtureConfigInput = z.input<typeof MixtureConfigSchema>;

function parseWith<T extends RunSettings>(schema: z.ZodType<T>, what: string, value: unknown, where?: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SproutError('bad-training-config', `${what} setting "${issue.path.join('.') || '(root)'}": ${issue.message}.`, {
      file: where,
    });
  }
  const c = parsed.data;
  if (c.microBatchSize !== undefined && c.microBatchSize > c.batchSize) {
    throw new SproutError('bad-training-config', `The micro-batch (${c.microBatchSize}) is larger than the batch (${c.batchSize}).`, {
      file: where,
    });
  }
  const late = c.evalSteps?.find((step) => step > c.steps);
  if (late !== undefined) {
    throw new SproutError('bad-training-config', `The evaluation step ${late} is after the last step (${c.steps}).`, {
      file: where,
      hint: 'Give evaluation steps up to the number of steps (the last step is evaluated anyway).',
    });
  }
  if (c.taskEmbeddingStep !== undefined && c.taskEmbeddingStep > c.steps) {
    throw new SproutError('bad-training-config', `The task-embedding step ${c.taskEmbeddingStep} is after the last step (${c.steps}).`, {
      file: where,
    });
  }
  return c;
}

export function parseTrainingConfig(value: unknown, where?: string): TrainingConfig {
  return parseWith(TrainingConfigSchema, 'Training', value, where);
}

export function parseMixtureConfig(value: unknown, where?: string): MixtureConfig {
  const c = parseWith(MixtureConfigSchema, 'Mixture', value, where);
  const names = c.tasks.map((t) => t.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined)
    throw new SproutError('bad-training-config', `Two tasks of the mixture are both named "${twice}".`, { file: where });
  return c;
}

/** A single-task run as the mixture of one it trains as; `name` names its task. */
export function toMixture(c: TrainingConfig, name: string): MixtureConfig {
  const { train, validation, test, task, purpose: _purpose, ...settings } = c;
  return { ...settings, tasks: [{ name, train, validation, test, task }], sharedPrompt: false };
}

/**
 * A task embedding is taken after at least this many steps (or at the last step of a shorter run). Earlier, the
 * prompt's change from its start says more about the recipe than the task: on mini-t5-instruct, with topic and
 * sst2 prompts trained alike, a sports-vs-business probe ranked sst2 first at step 3 and topic first at step 30
 * and at step 100 (README, "Transfer, measured").
 */
export const MIN_TASK_EMBEDDING_STEP = 100;

/** The step a run keeps its task embedding at: the one asked for, else 10% of the steps but at least MIN_TASK_EMBEDDING_STEP. */
export function taskEmbeddingStep(c: Pick<RunSettings, 'taskEmbeddingStep' | 'steps'>): number {
  return c.taskEmbeddingStep ?? Math.min(c.steps, Math.max(MIN_TASK_EMBEDDING_STEP, Math.round(c.steps / 10)));
}
