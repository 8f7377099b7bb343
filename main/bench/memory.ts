/**
 * Session creation time and peak RSS while training, for t5-small- and t5-base-shaped random checkpoints.
 * Run in a process of its own (the runner does), so that peak RSS belongs to this model alone.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { loadPromptModel } from '../runtime/model.js';
import { ensureCheckpoint, familyShape, T5_SMALL, STEP } from './engine.js';
import { median, peakRssMb, randomIds, time } from './measure.js';

export const T5_BASE = familyShape('t5-base');

export async function benchMemory(o: { workDir: string; tokenizerFrom: string; shape: 't5-small' | 't5-base' }) {
  const config = o.shape === 't5-base' ? T5_BASE : T5_SMALL;
  const dir = await ensureCheckpoint(join(o.workDir, `${o.shape}-random`), config, o.tokenizerFrom);
  const fileMb = statSync(join(dir, 'model.safetensors')).size / 2 ** 20;
  const baseRss = peakRssMb();
  const { B, L, P, T } = STEP;
  const t0 = performance.now();
  const model = await loadPromptModel(dir, { device: 'cpu' });
  const prompt = { length: P, data: model.embeddings(randomIds(P, 5000, 1)) };
  const batch = {
    inputs: Array.from({ length: B }, (_, b) => randomIds(L - 1, 32000, b).concat(1)),
    targets: Array.from({ length: B }, (_, b) => randomIds(T - 1, 32000, 99 + b).concat(1)),
  };
  // A one-token step creates the session (weights loaded) with next to no activations: what it adds to the
  // process is the frozen model's share; the full batch then adds activations and onnxruntime's workspace.
  await model.trainStep(prompt, { inputs: [[5, 1]], targets: [[1]] });
  const sessionCreateMs = performance.now() - t0;
  const afterLoadMb = Math.round(process.memoryUsage().rss / 2 ** 20);
  await model.trainStep(prompt, batch);
  const steps: number[] = [];
  for (let i = 0; i < 3; i++) steps.push(await time(() => model.trainStep(prompt, batch)));
  const peak = peakRssMb();
  await model.dispose();
  return {
    benchmark: `memory-${o.shape}`,
    checkpoint_mb: Math.round(fileMb),
    session_create_ms: Math.round(sessionCreateMs),
    train_step_ms_median: Math.round(median(steps)),
    process_baseline_rss_mb: baseRss,
    peak_rss_mb: peak,
    peak_rss_over_checkpoint: Number(((peak - baseRss) / fileMb).toFixed(2)),
    model_rss_mb: afterLoadMb - baseRss,
    model_rss_over_checkpoint: Number(((afterLoadMb - baseRss) / fileMb).toFixed(2)),
    activations_and_workspace_mb: peak - afterLoadMb,
  };
}
