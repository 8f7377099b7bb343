/**
 * PyTorch's own replays of the runs recorded on ../shared/fixtures/mini-t5-instruct, as
 * scripts/torch_replay_spread.py writes them (bench-results/learning-torch.json): the recorded recipe in PyTorch,
 * once as recorded (on this machine it gives the reference's evaluations exactly) and from inits moved by 1e-7.
 * Their spread is what float32 rounding alone does to the reference's own code, the yardstick for Sprout's.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { readCheckedJson } from './checked-json.js';
import { LEARNING_TASKS, type LearningTask } from './learning-reference.js';

export const LEARNING_TORCH_JSON = 'learning-torch.json';

const point = z.tuple([z.number().int().min(0), z.number()]);

const TorchSpreadSchema = z.object({
  replays: z.number().int().min(1),
  relative_noise: z.number(),
  final_accuracy: z.array(z.number()).min(1),
  min: z.number(),
  median: z.number(),
  max: z.number(),
  replay_0_equals_reference: z.boolean(),
  /** [step, dev rank accuracy] of each replay, the unperturbed one first. */
  curves: z.array(z.array(point).min(1)).min(1),
});

export type TorchSpread = z.infer<typeof TorchSpreadSchema>;

/** The tasks the file measures; none when it is absent. A file that does not parse fails: it is ours to fix. */
export function readTorchSpreads(outDir: string): Partial<Record<LearningTask, TorchSpread>> {
  const file = join(outDir, LEARNING_TORCH_JSON);
  if (!existsSync(file)) return {};
  const schema = z.object(Object.fromEntries(LEARNING_TASKS.map((t) => [t, TorchSpreadSchema.optional()])));
  return readCheckedJson(file, schema) as Partial<Record<LearningTask, TorchSpread>>;
}
