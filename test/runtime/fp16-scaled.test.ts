/**
 * float16 on checkpoints whose activations are as large as real ones. The fixtures have small weights, so their
 * residual streams never come near float16's largest value (65,504); t5-large, the t5-v1_1 family and flan-t5 pass
 * 1e5. scale_checkpoint.py writes a copy whose residual streams are F times larger while RMS norms keep the function
 * unchanged (checked here in float32), and fp16 must then still agree with float32.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceBatch, type HfReference } from '../../main/bench/device-check/reference.js';
import { loadPromptModel, type T5PromptModel } from '../../main/runtime/model.js';
import type { SoftPrompt } from '../../main/runtime/types.js';
import { sprout } from '../fault/spawn.js';
import { repoRoot, shared } from '../train/fixtures.js';
import { relativeL2 } from './relative-l2.js';

const F = 1000;
const relative = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(b));
/** A copy of fixture `name` written by scale_checkpoint.py with `args`, in a fresh temporary folder. */
function scaledCopy(name: string, args: string[]): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'sprout-scaled-')), name);
  execFileSync('python3', [join(repoRoot, 'test/runtime/scale_checkpoint.py'), join(shared, 'fixtures', name), dir, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return dir;
}

// The fixtures' reference batch (T5's vocabulary, which every fixture shares) and its two candidates.
const reference = JSON.parse(readFileSync(join(shared, 'fixtures/tiny-t5-v1_1/reference.json'), 'utf8')) as HfReference;
const batch = referenceBatch(reference);
const candidates = reference.rank_scores.candidate_ids;
const promptIds = [100, 200, 300, 400, 500];

interface Outputs {
  loss: number;
  perExample: Float32Array;
  grad: Float32Array;
  scores: Float32Array;
  greedy: number[][];
}

/** One training step, rank scores and greedy ids; the prompt is embedding rows, so it scales with the checkpoint. */
async function outputs(model: T5PromptModel): Promise<Outputs> {
  const prompt: SoftPrompt = { length: promptIds.length, data: model.embeddings(promptIds) };
  const step = await model.trainStep(prompt, batch);
  return {
    loss: step.loss,
    perExample: step.perExampleLoss,
    grad: step.gradPrompt,
    scores: await model.score(prompt, batch.inputs, candidates),
    greedy: await model.generate(prompt, batch.inputs, 8),
  };
}

beforeAll(() => {
  process.env.SPROUT_HOME = mkdtempSync(join(tmpdir(), 'sprout-fp16-scaled-'));
});

// tiny-t5-v1_0: T5 v1.0's shape (ReLU, tied embeddings); mini-t5-pretrained, a trained model: v1.1's (gated GELU,
// untied LM head). At F = 1000 the old graph gave mini-t5-pretrained a NaN loss, NaN scores and greedy ids all 0,
// and tiny-t5-v1_0 a NaN gradient.
for (const name of ['tiny-t5-v1_0', 'mini-t5-pretrained']) {
  describe(`${name} with residual streams ${F}× larger`, () => {
    const results: Record<'plain' | 'scaled' | 'half' | 'plainHalf', Outputs> = {} as never;
    const models: T5PromptModel[] = [];

    beforeAll(async () => {
      const dir = scaledCopy(name, ['--stream', String(F)]);
      const plain = join(shared, 'fixtures', name);
      const runs = { plain: [plain, 'fp32'], scaled: [dir, 'fp32'], half: [dir, 'fp16'], plainHalf: [plain, 'fp16'] } as const;
      for (const [key, [model, precision]] of Object.entries(runs)) {
        const loaded = await loadPromptModel(model, { device: 'cpu', precision });
        models.push(loaded);
        results[key as keyof typeof runs] = await outputs(loaded);
      }
    });
    afterAll(async () => {
      await Promise.all(models.map((m) => m.dispose()));
    });

    it('float32: the scaled checkpoint computes the same function (the prompt gradient 1/F as large)', () => {
      const { plain, scaled } = results;
      expect(relative(scaled.loss, plain.loss)).toBeLessThan(1e-5);
      plain.perExample.forEach((v, i) => expect(relative(scaled.perExample[i], v)).toBeLessThan(1e-5));
      plain.scores.forEach((v, i) => expect(relative(scaled.scores[i], v)).toBeLessThan(1e-5));
      expect(scaled.greedy).toEqual(plain.greedy);
      expect(relativeL2(scaled.grad, plain.grad, F)).toBeLessThan(1e-4);
    });

    it('fp16: loss, rank scores and greedy ids are finite and within 1e-2 of float32; the gradient as close as unscaled', () => {
      const { scaled, half, plain, plainHalf } = results;
      expect([half.loss, ...half.perExample, ...half.scores, ...half.grad].every(Number.isFinite)).toBe(true);
      // It really ran in half precision: its numbers are not float32's.
      expect(half.loss).not.toBe(scaled.loss);
      expect(relative(half.loss, scaled.loss)).toBeLessThan(1e-2);
      scaled.perExample.forEach((v, i) => expect(relative(half.perExample[i], v)).toBeLessThan(1e-2));
      scaled.scores.forEach((v, i) => expect(relative(half.scores[i], v)).toBeLessThan(1e-2));
      expect(half.greedy).toEqual(scaled.greedy);
      // float16's rounding of the q, k, v and wi products alone puts the prompt gradient 1–2.6 % from float32's on
      // this batch, scaled or not (those products in float32 bring it to 0.1–0.4 %): the scale must cost nothing on
      // top, and the gradient stay within test/runtime/fp16.test.ts's 5e-2.
      const error = relativeL2(half.grad, scaled.grad);
      expect(error).toBeLessThan(5e-2);
      expect(error).toBeLessThan(1.5 * relativeL2(plainHalf.grad, plain.grad));
    });
  });
}

describe('a number float16 cannot hold is an error naming the precision, never a null or a NaN trained on', () => {
  // The feed-forward's inner activation 1e5× larger (its output unchanged): past float16's range at its first product.
  let dir: string;
  let half: T5PromptModel;
  let full: T5PromptModel;
  const prompt = () => ({ length: promptIds.length, data: full.embeddings(promptIds) });

  beforeAll(async () => {
    dir = scaledCopy('tiny-t5-v1_1', ['--ff', '1e5']);
    half = await loadPromptModel(dir, { device: 'cpu', precision: 'fp16' });
    full = await loadPromptModel(dir, { device: 'cpu', precision: 'fp32' });
  });
  afterAll(async () => {
    await half?.dispose();
    await full?.dispose();
  });

  it('the engine refuses the loss (at any loss scale), the rank scores and greedy decoding', async () => {
    expect(Number.isFinite((await full.trainStep(prompt(), batch)).loss)).toBe(true);
    const named = {
      name: 'SproutError',
      code: 'non-finite',
      message: expect.stringMatching(/not finite .* at fp16 compute.*--precision fp32, or --precision bf16/),
    };
    await expect(half.trainStep(prompt(), batch)).rejects.toMatchObject(named);
    await expect(half.trainStep(prompt(), batch, { lossScale: 1 })).rejects.toMatchObject(named);
    await expect(half.score(prompt(), batch.inputs, candidates)).rejects.toMatchObject(named);
    await expect(half.generate(prompt(), batch.inputs, 4)).rejects.toMatchObject(named);
  });

  it('sprout forward exits with the error instead of printing "loss": null', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sprout-fp16-forward-'));
    const request = join(home, 'request.json');
    writeFileSync(
      request,
      JSON.stringify({ texts: ['a good film', 'a dull one'], targets: ['positive', 'negative'], candidates: ['positive', 'negative'] }),
    );
    const run = await sprout(['forward', '--model', dir, '--request', request, '--device', 'cpu', '--precision', 'fp16'], home);
    expect(run.code).not.toBe(0);
    expect(run.stdout).not.toContain('null');
    expect(run.stderr).toMatch(/The training loss is not finite \(NaN or infinity\) at fp16 compute/);
    expect(run.stderr).toContain('Use --precision fp32');
  });
});

describe('a gradient that overflows at the loss scale the caller moves', () => {
  it('comes back as overflow, for the caller to skip the step', async () => {
    const model = await loadPromptModel(join(shared, 'fixtures/tiny-t5-v1_1'), { device: 'cpu', precision: 'fp16' });
    try {
      const prompt = { length: promptIds.length, data: model.embeddings(promptIds) };
      const fine = await model.trainStep(prompt, batch, { lossScale: 1024 });
      expect(fine.overflow).toBeUndefined();
      expect(fine.gradPrompt.every(Number.isFinite)).toBe(true);
      // 2^40 times any gradient of this model is past float16's range: the forward is fine, the backward is not.
      const over = await model.trainStep(prompt, batch, { lossScale: 2 ** 40 });
      expect(over.overflow).toBe(true);
      expect(Number.isFinite(over.loss)).toBe(true);
      expect(relative(over.loss, fine.loss)).toBeLessThan(1e-6);
    } finally {
      await model.dispose();
    }
  });
});
