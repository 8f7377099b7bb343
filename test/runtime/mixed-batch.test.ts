import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPromptModel, type T5PromptModel } from '../../main/runtime/model.js';
import type { SoftPrompt } from '../../main/runtime/types.js';
import { rng } from '../graph/gradcheck.js';

const relClose = (a: number, b: number, tol = 1e-5) => Math.abs(a - b) <= tol * Math.max(1e-3, Math.abs(b));

describe('mixed-task batches: a prompt per example equals running each example alone', () => {
  let model: T5PromptModel;
  const rand = rng(11);
  let prompts: SoftPrompt[];
  // Three tasks; prompt lengths differ so that padding is exercised.
  const examples = [
    {
      input: [37, 423, 5, 1],
      target: [9961, 1],
      task: 0,
      candidates: [
        [9961, 1],
        [29452, 1],
      ],
    },
    {
      input: [100, 200, 300, 400, 500, 1],
      target: [1465, 1],
      task: 1,
      candidates: [
        [1465, 1],
        [2841, 1],
        [7163, 1],
      ],
    },
    {
      input: [8, 1],
      target: [2841, 1],
      task: 2,
      candidates: [
        [2841, 1],
        [1465, 1],
      ],
    },
    {
      input: [61, 62, 63, 1],
      target: [29452, 1],
      task: 0,
      candidates: [
        [9961, 1],
        [29452, 1],
      ],
    },
    {
      input: [9, 10, 11, 12, 13, 14, 15, 16, 1],
      target: [7163, 5, 1],
      task: 1,
      candidates: [
        [1465, 1],
        [2841, 1],
        [7163, 1],
      ],
    },
  ];

  beforeAll(async () => {
    process.env.SPROUT_HOME = mkdtempSync(join(tmpdir(), 'sprout-mixed-'));
    model = await loadPromptModel(resolve(__dirname, '../../../shared/fixtures/tiny-t5-v1_1'), { device: 'cpu' });
    const d = model.config.dModel;
    prompts = [5, 3, 7].map((P) => ({ length: P, data: Float32Array.from({ length: P * d }, () => rand() - 0.5) }));
  });
  afterAll(() => model?.dispose());

  it('gives the same per-example loss and prompt gradients', async () => {
    const mixed = { prompts, promptIndex: examples.map((e) => e.task) };
    const out = await model.trainStepMixed(mixed, { inputs: examples.map((e) => e.input), targets: examples.map((e) => e.target) });
    const totalTokens = examples.reduce((n, e) => n + e.target.length, 0);
    const expectedGrads = prompts.map((p) => new Float64Array(p.data.length));
    let expectedLossSum = 0;
    for (const [i, e] of examples.entries()) {
      const alone = await model.trainStep(prompts[e.task], { inputs: [e.input], targets: [e.target] });
      expect(relClose(out.perExampleLoss[i], alone.perExampleLoss[0])).toBe(true);
      // Alone, the loss is this example's token mean; in the batch it is the mean over all tokens.
      const weight = e.target.length / totalTokens;
      alone.gradPrompt.forEach((g, j) => (expectedGrads[e.task][j] += g * weight));
      expectedLossSum += alone.loss * e.target.length;
    }
    expect(relClose(out.loss, expectedLossSum / totalTokens)).toBe(true);
    out.gradPrompts.forEach((grad, k) => {
      const ref = expectedGrads[k];
      const norm = Math.hypot(...ref);
      const err = Math.hypot(...Array.from(grad, (g, j) => g - ref[j]));
      expect(err / norm).toBeLessThan(1e-5);
    });
  });

  it('gives the same rank scores, each example with its own label set', async () => {
    const mixed = { prompts, promptIndex: examples.map((e) => e.task) };
    const scores = await model.scoreMixed(
      mixed,
      examples.map((e) => e.input),
      examples.map((e) => e.candidates),
    );
    for (const [i, e] of examples.entries()) {
      const alone = await model.score(prompts[e.task], [e.input], e.candidates);
      expect(scores[i]).toHaveLength(e.candidates.length);
      alone.forEach((v, c) => expect(relClose(scores[i][c], v)).toBe(true));
    }
  });

  it('padding a shorter prompt changes nothing: a 3-row prompt alone equals it beside a 7-row one', async () => {
    const e = examples[1];
    const alone = await model.scoreMixed({ prompts: [prompts[1]], promptIndex: [0] }, [e.input], [e.candidates]);
    const padded = await model.scoreMixed(
      { prompts: [prompts[1], prompts[2]], promptIndex: [0, 1] },
      [e.input, e.input],
      [e.candidates, e.candidates],
    );
    alone[0].forEach((v, c) => expect(relClose(padded[0][c], v)).toBe(true));
  });
});
