import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeRandomT5Checkpoint } from '../../main/checkpoint/checkpoint.js';
import type { T5Config } from '../../main/checkpoint/config.js';
import { loadPromptModel } from '../../main/runtime/model.js';
import { rng } from '../graph/gradcheck.js';

const tokenizerFrom = resolve(__dirname, '../../../shared/fixtures/tiny-t5-v1_0');

/** Shapes unlike either fixture: odd head sizes, num_heads*d_kv != d_model, few buckets, short max distance. */
const shapes: [string, Partial<T5Config>][] = [
  [
    'gated-gelu, untied, 3 heads of 5',
    {
      vocabSize: 300,
      dModel: 24,
      dKv: 5,
      numHeads: 3,
      dFf: 40,
      numLayers: 2,
      numDecoderLayers: 3,
      feedForward: 'gated-gelu',
      tieWordEmbeddings: false,
      relativeAttentionNumBuckets: 8,
      relativeAttentionMaxDistance: 20,
    },
  ],
  [
    'relu, tied, 2 heads of 16',
    {
      vocabSize: 257,
      dModel: 20,
      dKv: 16,
      numHeads: 2,
      dFf: 36,
      numLayers: 3,
      numDecoderLayers: 1,
      feedForward: 'relu',
      tieWordEmbeddings: true,
      relativeAttentionNumBuckets: 16,
      relativeAttentionMaxDistance: 12,
    },
  ],
];

describe('the prompt gradient through the whole model matches finite differences for other T5 shapes', () => {
  for (const [name, config] of shapes) {
    it(name, async () => {
      process.env.SPROUT_HOME = mkdtempSync(join(tmpdir(), 'sprout-any-'));
      const dir = mkdtempSync(join(tmpdir(), 'sprout-ckpt-'));
      await writeRandomT5Checkpoint(dir, { ...config, tokenizerFrom }, 7);
      const model = await loadPromptModel(dir, { device: 'cpu' });
      const d = model.config.dModel;
      const rand = rng(3);
      const P = 4;
      const base = Float32Array.from({ length: P * d }, () => rand() - 0.5);
      const ids = (n: number) => Array.from({ length: n }, () => 2 + Math.floor(rand() * 250)).concat(1);
      // Ragged lengths exercise padding masks on both sides; lengths past max_distance exercise the log buckets.
      const batch = { inputs: [ids(30), ids(7), ids(18)], targets: [ids(3), ids(1), ids(5)] };
      const step = await model.trainStep({ length: P, data: base }, batch);
      expect(step.gradPrompt).toHaveLength(P * d);

      // Directional derivatives along unit directions mixing the gradient's own direction (so the change in a
      // float32 loss stands well above its rounding noise) with a random one (so every component is checked).
      const unit = (v: Float32Array) => {
        const n = Math.hypot(...v);
        return Float32Array.from(v, (x) => x / n);
      };
      const gDir = unit(step.gradPrompt);
      for (let k = 0; k < 3; k++) {
        const r = unit(Float32Array.from({ length: P * d }, () => rand() - 0.5));
        const u = Float32Array.from(gDir, (v, i) => v + r[i]);
        // Central differences at h and h/2 combined by Richardson extrapolation: truncation error O(h^4).
        const central = async (h: number) => {
          const at = (sign: number) => Float32Array.from(base, (v, i) => v + sign * h * u[i]);
          const plus = await model.trainStep({ length: P, data: at(1) }, batch);
          const minus = await model.trainStep({ length: P, data: at(-1) }, batch);
          return (plus.loss - minus.loss) / (2 * h);
        };
        const h = 1e-2;
        const numeric = (4 * (await central(h / 2)) - (await central(h))) / 3;
        const analytic = step.gradPrompt.reduce((s, g, i) => s + g * u[i], 0);
        expect(Math.abs(numeric - analytic)).toBeLessThan(1e-2 * Math.abs(analytic));
      }
      await model.dispose();
    });
  }
});

describe('a plain model (P = 0)', () => {
  it('gives losses and greedy ids without any prompt', async () => {
    process.env.SPROUT_HOME = mkdtempSync(join(tmpdir(), 'sprout-p0-'));
    const model = await loadPromptModel(resolve(__dirname, '../../../shared/fixtures/tiny-t5-v1_1'), { device: 'cpu' });
    const empty = { length: 0, data: new Float32Array(0) };
    const step = await model.trainStep(empty, {
      inputs: [
        [37, 1],
        [5, 6, 7, 1],
      ],
      targets: [[9961, 1], [1]],
    });
    expect(Number.isFinite(step.loss)).toBe(true);
    expect(step.gradPrompt).toHaveLength(0);
    const scores = await model.score(
      empty,
      [[37, 1]],
      [
        [9961, 1],
        [29452, 1],
      ],
    );
    expect(scores).toHaveLength(2);
    expect((await model.generate(empty, [[37, 1]], 3))[0]).toHaveLength(3);
    await model.dispose();
  });
});
