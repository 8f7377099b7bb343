/** Train step time versus batch size and input length on the t5-small shape: where cost grows as expected and where it bends. */
import { join } from 'node:path';
import { loadPromptModel } from '../runtime/model.js';
import { ensureCheckpoint, T5_SMALL } from './engine.js';
import { randomIds, time } from './measure.js';

export async function benchScaling(o: { workDir: string; tokenizerFrom: string; batches?: number[]; lengths?: number[] }) {
  const dir = await ensureCheckpoint(join(o.workDir, 't5-small-random'), T5_SMALL, o.tokenizerFrom);
  const model = await loadPromptModel(dir, { device: 'cpu' });
  const P = 20;
  const prompt = { length: P, data: model.embeddings(randomIds(P, 5000, 3)) };
  const rows: { batch: number; input_tokens: number; step_ms: number; ms_per_example_token: number }[] = [];
  for (const L of o.lengths ?? [32, 128, 512]) {
    for (const B of o.batches ?? [1, 4, 16, 32]) {
      const batch = {
        inputs: Array.from({ length: B }, (_, b) => randomIds(L - 1, 32000, b).concat(1)),
        targets: Array.from({ length: B }, () => [5, 6, 7, 1]),
      };
      await model.trainStep(prompt, batch);
      const ms = await time(() => model.trainStep(prompt, batch));
      rows.push({ batch: B, input_tokens: L, step_ms: Math.round(ms), ms_per_example_token: Number((ms / (B * (L + P))).toFixed(4)) });
    }
  }
  await model.dispose();
  return { benchmark: 'scaling', prompt_length: P, target_tokens: 4, rows };
}
