/**
 * A session's threads stop spinning when its run returns. A model takes turns between sessions (greedy decoding
 * alternates the encoder and the decoder step; an evaluation round adds scoring), and each session has its own
 * pool: left spinning, the idle pools took the cores the working session needed (an evaluation round on
 * mini-t5-instruct's shape took 1.8× as long; `npm run bench -- evaluation`). Measured here as the CPU time this
 * process spends in the 200 ms after a run returns, the least of three windows (a garbage collection can fall in
 * one): about 25 ms with onnxruntime's default, under 1 ms with spinning stopped. A limit on CPU time, not on wall
 * time: a busy machine stretches the window but adds no CPU time to this process.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuAfterRunMs } from '../../main/bench/measure.js';
import { loadPromptModel } from '../../main/runtime/model.js';

const dir = resolve(__dirname, '../../../shared/fixtures/mini-t5-instruct');

describe('thread pools between runs', () => {
  it('spend no CPU once a run has returned (2 threads)', async () => {
    const model = await loadPromptModel(dir, { device: 'cpu', threads: 2 });
    try {
      const prompt = { length: 20, data: model.embeddings(Array.from({ length: 20 }, (_, i) => 100 + i)) };
      const inputs = Array.from({ length: 32 }, (_, b) => Array.from({ length: 63 }, (_, i) => 200 + ((b * 31 + i * 7) % 5000)).concat(1));
      const candidates = [
        [1465, 1],
        [2841, 1],
      ];
      expect(await cpuAfterRunMs(() => model.score(prompt, inputs, candidates), 200)).toBeLessThan(8);
    } finally {
      await model.dispose();
    }
  });
});
