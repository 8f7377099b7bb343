/**
 * The Hugging Face prompt-tuning runs recorded in ../shared/fixtures/mini-t5-pretrained/prompt_tuning_reference.json
 * (transformers 4.35.2 + PyTorch 1.13, CPU), read and checked, and how Sprout is told to follow each one: the
 * data files as distributed, the task's columns and verbaliser, and the `lester-reference` preset.
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { TrainingConfigInput } from '../train/config.js';
import { applyPreset, presetSettings } from '../train/presets.js';
import { readCheckedJson, RecordedRunSchema, tokenIds } from './checked-json.js';

const ReferenceEvalSchema = z.object({
  step: z.number().int().min(0),
  rank_acc: z.number(),
  greedy_exact_match: z.number(),
  greedy_valid_label_frac: z.number(),
  rank_mcc: z.number(),
  greedy_mcc_invalid_as_wrong: z.number(),
  greedy_first5: z.array(tokenIds).length(5),
});

/** Loss means over 50-step windows (LOSS_WINDOW). */
const ReferenceRunSchema = RecordedRunSchema.extend({
  init: z.object({ random_vocab_ids_rows_2_to_19: tokenIds }),
  evals: z.array(ReferenceEvalSchema).min(1),
});

export type ReferenceRun = z.infer<typeof ReferenceRunSchema>;
export type ReferenceEval = z.infer<typeof ReferenceEvalSchema>;
export type ReferenceTask = 'sst2' | 'cola';
export const REFERENCE_TASKS: ReferenceTask[] = ['sst2', 'cola'];

/** Training loss is recorded as means over windows of this many steps. */
export const LOSS_WINDOW = 50;

export function referenceModel(shared: string): string {
  return join(shared, 'fixtures/mini-t5-pretrained');
}

export function readReferenceRuns(shared: string): Record<ReferenceTask, ReferenceRun> {
  const file = join(referenceModel(shared), 'prompt_tuning_reference.json');
  return readCheckedJson(file, z.object({ sst2: ReferenceRunSchema, cola: ReferenceRunSchema }));
}

/**
 * A Sprout training config that follows the reference run: the files in their original form (SST-2 with its
 * header, CoLA's headerless 4-column TSV with quoting off), the text as is, the reference's verbaliser in label
 * order, its number of steps, and everything else from the `lester-reference` preset.
 */
export function referenceConfig(
  shared: string,
  task: ReferenceTask,
  ref: ReferenceRun,
  overrides: Partial<TrainingConfigInput> = {},
): TrainingConfigInput {
  const verbalizer = Object.fromEntries(ref.verbalizer.map((word, label) => [String(label), word]));
  const data =
    task === 'sst2'
      ? {
          train: { file: join(shared, 'data/sst2/train.tsv') },
          validation: { file: join(shared, 'data/sst2/dev.tsv') },
          template: '{sentence}',
          labelColumn: 'label',
        }
      : {
          train: { file: join(shared, 'data/cola/in_domain_train.tsv'), header: false, quoting: 'none' as const },
          validation: { file: join(shared, 'data/cola/in_domain_dev.tsv'), header: false, quoting: 'none' as const },
          template: '{3}',
          labelColumn: '1',
        };
  const given: TrainingConfigInput = {
    model: referenceModel(shared),
    device: 'cpu',
    threads: ref.threads,
    train: data.train,
    validation: data.validation,
    task: { template: data.template, labelColumn: data.labelColumn, verbalizer },
    steps: ref.steps_done,
    checkpointEvery: ref.steps_done,
    ...overrides,
  };
  return applyPreset(given, presetSettings('lester-reference'));
}

/**
 * prompt_tuning_reference_steps.json: the loss of each of the first 100 steps of both runs, re-run with the
 * reference's own code and environment (which reproduces the recorded runs exactly): [step, loss] pairs.
 */
export function readReferenceSteps(shared: string): Record<ReferenceTask, [number, number][]> {
  const file = join(referenceModel(shared), 'prompt_tuning_reference_steps.json');
  const run = z.object({ train_loss_per_step: z.array(z.tuple([z.number().int().min(1), z.number()])).min(1) });
  const steps = readCheckedJson(file, z.object({ sst2: run, cola: run }));
  return { sst2: steps.sst2.train_loss_per_step, cola: steps.cola.train_loss_per_step };
}
