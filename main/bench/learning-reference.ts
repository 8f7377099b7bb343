/**
 * The Hugging Face prompt-tuning runs recorded on ../shared/fixtures/mini-t5-instruct (prompt_tuning_reference.json:
 * SST-2, and AG News topic on the held-out rows), read and checked, and the Sprout training config that replays
 * each one: the data files as distributed, the bare input (no instruction), 64 tokens + eos, the class-label init,
 * and everything else from the `lester-reference` preset (Adafactor as recorded, batch 32, torch.randperm order).
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { SoftPrompt } from '../runtime/types.js';
import type { DataSource, TrainingConfigInput } from '../train/config.js';
import { applyPreset, presetSettings } from '../train/presets.js';
import { readCheckedJson, RecordedRunSchema, tokenIds } from './checked-json.js';

/** Loss means over 25-step windows; greedy decoding evaluated at step 0 and the end only (null between). */
const InstructRunSchema = RecordedRunSchema.extend({
  /** The vocabulary ids of the rows after the label rows (named random_vocab_ids_rows_<k>_to_19). */
  init: z.record(z.string(), z.unknown()),
  majority_baseline: z.object({ class: z.number().int(), word: z.string(), dev_acc: z.number() }),
  evals: z
    .array(
      z.object({
        step: z.number().int().min(0),
        rank_acc: z.number(),
        greedy_exact_match: z.number().nullable(),
        greedy_first5: z.array(tokenIds),
      }),
    )
    .min(2),
});

export type InstructRun = z.infer<typeof InstructRunSchema>;
export const LEARNING_TASKS = ['sst2', 'topic'] as const;
export type LearningTask = (typeof LEARNING_TASKS)[number];

export function instructModel(shared: string): string {
  return join(shared, 'fixtures/mini-t5-instruct');
}

export function readInstructRuns(shared: string): Record<LearningTask, InstructRun> {
  const file = join(instructModel(shared), 'prompt_tuning_reference.json');
  const schema = z.object({ runs: z.object({ sst2: InstructRunSchema, topic: InstructRunSchema }) });
  return readCheckedJson(file, schema).runs;
}

/** The prompt a reference run ended with, as the engine takes a prompt. */
export function referencePrompt(run: InstructRun): SoftPrompt {
  return { length: run.final_prompt.length, data: Float32Array.from(run.final_prompt.flat()) };
}

/** The vocabulary ids the reference drew for the prompt rows after the label rows. */
export function referenceVocabIds(run: InstructRun): number[] {
  const entry = Object.entries(run.init).find(([key]) => key.startsWith('random_vocab_ids_rows_'));
  const parsed = tokenIds.safeParse(entry?.[1]);
  if (!parsed.success) throw new Error(`the ${run.task} reference records no vocabulary ids for its init`);
  return parsed.data;
}

/** AG News (../shared/data/ag_news/test.csv, header-less): rows 0..5999 train, 6000..7599 are held out (README). */
export const AG_NEWS_TRAIN_ROWS = 6000;

/**
 * The data and task of each replay, as the fixture README states them. Topic is title + " " + description from
 * the header-less AG News CSV (column 0: class 1..4); SentencePiece drops the surrounding whitespace that the
 * reference strip()ped, so the ids are the same.
 */
function taskData(
  shared: string,
  task: LearningTask,
): { train: DataSource; validation: DataSource; template: string; labelColumn: string; labels: string[] } {
  if (task === 'sst2') {
    const dir = join(shared, 'data/sst2');
    return {
      train: { file: join(dir, 'train.tsv') },
      validation: { file: join(dir, 'dev.tsv') },
      template: '{sentence}',
      labelColumn: 'label',
      labels: ['0', '1'],
    };
  }
  const file = join(shared, 'data/ag_news/test.csv');
  return {
    train: { file, header: false, limit: AG_NEWS_TRAIN_ROWS },
    validation: { file, header: false, skip: AG_NEWS_TRAIN_ROWS },
    template: '{1} {2}',
    labelColumn: '0',
    labels: ['1', '2', '3', '4'],
  };
}

/** Input ids are cut to 64 tokens, then eos: Sprout's limit counts the eos. */
export const REFERENCE_MAX_INPUT_LENGTH = 65;

/**
 * A Sprout training config that replays the reference run: its data, the verbaliser in label order, its steps and
 * evaluation steps, the input limit, and the rest from the `lester-reference` preset.
 */
export function learningConfig(
  shared: string,
  task: LearningTask,
  ref: InstructRun,
  overrides: Partial<TrainingConfigInput> = {},
): TrainingConfigInput {
  const data = taskData(shared, task);
  if (data.labels.length !== ref.verbalizer.length)
    throw new Error(`the ${task} reference has ${ref.verbalizer.length} labels, not ${data.labels.length}`);
  const given: TrainingConfigInput = {
    model: instructModel(shared),
    device: 'cpu',
    threads: ref.threads,
    train: data.train,
    validation: data.validation,
    task: {
      template: data.template,
      labelColumn: data.labelColumn,
      verbalizer: Object.fromEntries(data.labels.map((label, i) => [label, ref.verbalizer[i]])),
      maxInputLength: REFERENCE_MAX_INPUT_LENGTH,
    },
    steps: ref.steps_done,
    evalSteps: ref.evals.map((e) => e.step).filter((s) => s > 0),
    checkpointEvery: ref.steps_done,
    ...overrides,
  };
  return applyPreset(given, presetSettings('lester-reference'));
}
