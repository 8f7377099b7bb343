/**
 * Trainer benchmark: the real training loop (data order, micro-batching, Adafactor, progress events) on a
 * randomly initialised checkpoint with the t5-small shape, batch 8, 64 input tokens plus a 20-row prompt, 4
 * target tokens: steps/s, examples/s, and the share of each step spent outside onnxruntime's session.run (the
 * JavaScript overhead of the engine's feeds and of the trainer; target under 5%).
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCheckpoint, T5_SMALL, STEP, type EngineBenchOptions } from './engine.js';
import { peakRssMb, randomIds } from './measure.js';
import { withTempHome } from './temp-home.js';
import { loadPromptModel } from '../runtime/model.js';
import { ort } from '../runtime/session.js';
import { parseTrainingConfig } from '../train/config.js';
import { createOptimizer } from '../train/optim/index.js';
import { initialState, trainLoop } from '../train/trainer.js';

export async function benchTrain(o: EngineBenchOptions) {
  const dir = await ensureCheckpoint(join(o.workDir, 't5-small-random'), T5_SMALL, o.tokenizerFrom);
  const { B, L, P, T } = STEP;
  const steps = o.steps ?? 10;
  const model = await loadPromptModel(dir, { device: o.device ?? 'cpu' });
  const d = model.config.dModel;
  const train = Array.from({ length: 64 }, (_, i) => ({
    input: randomIds(L - 1, 32000, 10 + i).concat(1),
    target: randomIds(T - 1, 32000, 500 + i).concat(1),
    label: -1,
  }));
  const prompt = model.embeddings(randomIds(P, 5000, 1));

  const clock = ortClock();
  try {
    // The runs' checkpoint folders are measured, not kept.
    return await withTempHome('sprout-bench-train-', async (runs) => {
      const timed = async (n: number) => {
        const config = parseTrainingConfig({
          model: dir,
          train: { file: 'unused' },
          task: { template: '{x}', labelColumn: 'y' },
          promptLength: P,
          batchSize: B,
          steps: n,
          evalEvery: 10_000,
          checkpointEvery: 10_000,
        });
        const optimizers = [createOptimizer(config.optimizer, P, d)];
        const tasks = [
          { name: 'bench', train, validation: [], labels: [], labelTargets: [], metric: 'exact_match' as const, majority: null },
        ];
        const state = initialState(config, [prompt.slice()], optimizers, tasks);
        clock.reset();
        const t = performance.now();
        await trainLoop({ model, config, optimizers, tasks, state, runDir: mkdtempSync(join(runs, 'run-')) });
        return { ms: performance.now() - t, ortMs: clock.read() };
      };
      await timed(1); // session creation and first-run allocations
      const { ms, ortMs } = await timed(steps);
      return {
        benchmark: 'train',
        model: 't5-small-shaped random checkpoint',
        batch: B,
        input_tokens: L,
        prompt_length: P,
        target_tokens: T,
        steps,
        optimizer: 'adafactor',
        step_ms: round(ms / steps),
        steps_per_s: round(steps / (ms / 1000), 3),
        examples_per_s: round((steps * B) / (ms / 1000)),
        outside_onnxruntime_share: round((ms - ortMs) / ms, 4),
        outside_onnxruntime_ms_per_step: round((ms - ortMs) / steps, 2),
        peak_rss_mb: peakRssMb(),
        provider: model.providerDetail,
      };
    });
  } finally {
    clock.stop();
    await model.dispose();
  }
}

/** Milliseconds spent inside onnxruntime's session.run since the last reset, accumulated by wrapping it until `stop`. */
function ortClock(): { read: () => number; reset: () => void; stop: () => void } {
  const proto = (ort.InferenceSession as unknown as { prototype: { run: (...a: unknown[]) => Promise<unknown> } }).prototype;
  const run = proto.run;
  let inOrt = 0;
  proto.run = async function (this: unknown, ...args: unknown[]) {
    const t = performance.now();
    try {
      return await run.apply(this, args);
    } finally {
      inOrt += performance.now() - t;
    }
  };
  return { read: () => inOrt, reset: () => (inOrt = 0), stop: () => (proto.run = run) };
}

const round = (v: number, digits = 1) => Number(v.toFixed(digits));
