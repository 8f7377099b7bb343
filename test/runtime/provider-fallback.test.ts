/**
 * A GPU provider that passed its probe can still refuse a real graph. With `auto` the model then runs on the CPU:
 * it says why, gives the CPU's numbers, and keeps the CPU session it built for the refused graph (one build per
 * graph, released with the model). The refusal is real here: the CUDA provider's libraries are not installed
 * (`onnxruntime-node-install=skip`), so onnxruntime cannot load them; where they are installed the test skips.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { openCheckpoint } from '../../main/checkpoint/checkpoint.js';
import { T5PromptModel } from '../../main/runtime/model.js';
import { cudaLibraryPresent } from '../../main/runtime/providers-probe.js';
import * as session from '../../main/runtime/session.js';
import { prepareWeights } from '../../main/weights/store.js';

vi.mock('../../main/runtime/session.js', async (original) => {
  const real = await original<typeof import('../../main/runtime/session.js')>();
  return { ...real, createSession: vi.fn(real.createSession) };
});

const dir = resolve(__dirname, '../../../shared/fixtures/tiny-t5-v1_1');

async function model(provider: 'cuda' | 'cpu'): Promise<T5PromptModel> {
  const checkpoint = await openCheckpoint(dir, { keepDtypes: true });
  const store = prepareWeights(checkpoint, 'fp32', { cacheDir: mkdtempSync(join(tmpdir(), 'sprout-fallback-')) });
  return new T5PromptModel(checkpoint, store, provider, 1, { reason: null, forced: false });
}

describe.skipIf(cudaLibraryPresent())('a provider that refuses a graph, with device auto', () => {
  it('falls back to the CPU with the reason, gives the CPU numbers, and builds each graph once', async () => {
    const cpu = await model('cpu');
    const fallback = await model('cuda');
    const prompt = { length: 2, data: new Float32Array(2 * cpu.config.dModel).fill(0.1) };
    const inputs = [
      [5, 6, 1],
      [7, 1],
    ];
    const candidates = [
      [3, 1],
      [4, 1],
    ];
    const batch = {
      inputs,
      targets: [
        [3, 1],
        [4, 1],
      ],
    };
    const create = vi.mocked(session.createSession);

    create.mockClear();
    const scores = await fallback.score(prompt, inputs, candidates);
    expect(create).toHaveBeenCalledTimes(2);
    expect([fallback.provider, fallback.providerReason]).toEqual([
      'cpu',
      expect.stringMatching(/^CUDA could not create the score graph \(.+\); running on the CPU$/),
    ]);
    expect(fallback.providerDetail).toBe('CPU · 1 thread');
    expect(Array.from(scores)).toEqual(Array.from(await cpu.score(prompt, inputs, candidates)));

    create.mockClear();
    expect(Array.from(await fallback.score(prompt, inputs, candidates))).toEqual(Array.from(scores));
    expect(create).not.toHaveBeenCalled();
    const step = await fallback.trainStep(prompt, batch);
    expect(create).toHaveBeenCalledTimes(1);
    expect(Array.from(step.gradPrompt)).toEqual(Array.from((await cpu.trainStep(prompt, batch)).gradPrompt));

    await Promise.all([fallback.dispose(), cpu.dispose()]);
  });
});
