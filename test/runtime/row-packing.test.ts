import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packedRowFeeds, PACK_MIN_PADDING } from '../../main/runtime/feeds.js';
import { loadPromptModel, type T5PromptModel } from '../../main/runtime/model.js';
import { ort } from '../../main/runtime/session.js';
import type { SoftPrompt } from '../../main/runtime/types.js';
import { rng } from '../graph/gradcheck.js';
import { relativeL2 } from './relative-l2.js';

const relClose = (a: number, b: number, tol = 1e-5) => Math.abs(a - b) <= tol * Math.max(1e-3, Math.abs(b));

/** An encoder mask [1, S] with `padding` trailing zeros. */
const maskOf = (S: number, padding: number) =>
  new ort.Tensor(
    'float32',
    Float32Array.from({ length: S }, (_, i) => (i < S - padding ? 1 : 0)),
    [1, S],
  );

describe('the train graph packs the encoder rows only where the batch has padding to drop', () => {
  it('a batch with less padding than PACK_MIN_PADDING runs unpacked; with more, packed', () => {
    const S = 100;
    const below = Math.ceil(PACK_MIN_PADDING * S) - 1;
    expect(packedRowFeeds(maskOf(S, 0))).toBeNull();
    expect(packedRowFeeds(maskOf(S, below))).toBeNull();
    const packed = packedRowFeeds(maskOf(S, below + 1))!;
    expect([...(packed.enc_keep.data as Int32Array)]).toEqual([...Array(S - below - 1).keys()]);
    expect(packed.enc_spread.dims).toEqual([S]);
    // Once a model has the packed graph it packs every batch (one train session, one copy of the weights).
    expect(packedRowFeeds(maskOf(S, 0), true)!.enc_keep.dims).toEqual([S]);
  });

  describe('both graphs compute the same step (tiny-t5-v1_1)', () => {
    let model: T5PromptModel;
    const rand = rng(5);
    const d = 64;
    const prompt: SoftPrompt = { length: 3, data: Float32Array.from({ length: 3 * d }, () => rand() - 0.5) };
    // Unequal inputs: together they are padded (packed graph); alone each has no padding (unpacked graph).
    const inputs = [
      [37, 423, 5, 1],
      [100, 200, 300, 400, 500, 600, 700, 800, 900, 1],
      [8, 1],
    ];
    const targets = [
      [9961, 1],
      [1465, 2841, 1],
      [2841, 1],
    ];

    beforeAll(async () => {
      process.env.SPROUT_HOME = mkdtempSync(join(tmpdir(), 'sprout-packing-'));
      model = await loadPromptModel(resolve(__dirname, '../../../shared/fixtures/tiny-t5-v1_1'), { device: 'cpu', threads: 1 });
      expect(model.config.dModel).toBe(d);
    });
    afterAll(() => model?.dispose());

    it('losses and the token-weighted prompt gradient of the padded batch equal those of each example alone', async () => {
      // Alone first: once the packed graph exists, the model packs every batch.
      const alone = [];
      for (const [b, input] of inputs.entries()) alone.push(await model.trainStep(prompt, { inputs: [input], targets: [targets[b]] }));
      const together = await model.trainStep(prompt, { inputs, targets });
      alone.forEach((r, b) => expect(relClose(together.perExampleLoss[b], r.loss)).toBe(true));
      // The batch loss is the mean over all target tokens: its gradient weighs each example's by its tokens.
      const tokens = targets.map((t) => t.length);
      const total = tokens.reduce((s, n) => s + n, 0);
      const summed = new Float64Array(prompt.data.length);
      alone.forEach((r, b) => r.gradPrompt.forEach((g, i) => (summed[i] += (tokens[b] * g) / total)));
      expect(relativeL2(together.gradPrompt, summed)).toBeLessThan(1e-5);
    });
  });
});
