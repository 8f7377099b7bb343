/**
 * The JSON files benchmarks read (recorded reference runs, PyTorch's replays) and the fields every recorded Hugging
 * Face prompt-tuning run has, on mini-t5-pretrained and mini-t5-instruct alike.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** `file` parsed and checked by `schema`; one that does not pass fails naming the file and the first field at fault. */
export function readCheckedJson<T extends z.ZodTypeAny>(file: string, schema: T): z.infer<T> {
  const parsed = schema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`);
  return parsed.data;
}

export const tokenIds = z.array(z.number().int().min(0));

/** A recorded run's recipe, data sizes, losses, speed and final prompt; each fixture's file adds its own fields. */
export const RecordedRunSchema = z.object({
  task: z.string(),
  seed: z.number().int(),
  batch_size: z.number().int(),
  prompt_len: z.number().int(),
  verbalizer: z.array(z.string()).min(2),
  candidate_ids: z.array(tokenIds),
  n_train: z.number().int(),
  n_dev: z.number().int(),
  threads: z.number().int().min(1),
  /** [step, mean training loss of the window of steps up to it]. */
  train_loss: z.array(z.tuple([z.number().int(), z.number()])).min(1),
  steps_done: z.number().int().min(1),
  train_seconds_per_step: z.number().positive(),
  /** The prompt the run ended with, [prompt_len, d_model]. */
  final_prompt: z.array(z.array(z.number())).min(1),
});
