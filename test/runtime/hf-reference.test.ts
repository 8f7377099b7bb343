import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceBatch, type HfReference } from '../../main/bench/device-check/reference.js';
import { loadPromptModel, type T5PromptModel } from '../../main/runtime/model.js';
import { relativeL2 } from './relative-l2.js';

const fixtures = resolve(__dirname, '../../../shared/fixtures');

const close = (a: number, b: number, rel = 1e-4) => Math.abs(a - b) <= rel * Math.max(1, Math.abs(b));

for (const name of ['tiny-t5-v1_0', 'tiny-t5-v1_1']) {
  describe(`${name}: the engine reproduces Hugging Face transformers`, () => {
    const dir = join(fixtures, name);
    const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as HfReference;
    const { inputs, targets, prompt } = referenceBatch(ref);
    let model: T5PromptModel;

    beforeAll(async () => {
      process.env.SPROUT_HOME = mkdtempSync(join(tmpdir(), 'sprout-ref-'));
      model = await loadPromptModel(dir, { device: 'cpu' });
    });
    afterAll(() => model?.dispose());

    it('loss, per-example loss and the prompt gradient', async () => {
      const out = await model.trainStep(prompt, { inputs, targets });
      expect(close(out.loss, ref.loss)).toBe(true);
      out.perExampleLoss.forEach((v, i) => expect(close(v, ref.per_example_loss[i])).toBe(true));
      expect(relativeL2(out.gradPrompt, ref.grad_prompt.flat())).toBeLessThan(1e-3);
    });

    it('encoder hidden states', async () => {
      const { hidden, dims } = await model.encode(prompt, inputs);
      const refFlat = ref.encoder_last_hidden_state.flat(2);
      expect(dims).toEqual([4, 25, model.config.dModel]);
      const scale = Math.max(1, ...refFlat.map(Math.abs));
      const maxErr = Math.max(...refFlat.map((v, i) => Math.abs(hidden[i] - v)));
      expect(maxErr).toBeLessThan(1e-4 * scale);
    });

    it('rank scores and greedy decoding', async () => {
      const scores = await model.score(prompt, inputs, ref.rank_scores.candidate_ids);
      ref.rank_scores.scores.flat().forEach((v, i) => expect(close(scores[i], v)).toBe(true));
      expect(await model.generate(prompt, inputs, 8)).toEqual(ref.greedy.ids);
    });
  });
}
