import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Graph } from '../../main/graph/builder.js';
import { Dropout } from '../../main/graph/dropout.js';
import { loadPromptModel } from '../../main/runtime/model.js';
import { createSession, floatTensor, ort } from '../../main/runtime/session.js';

describe('dropout masks made inside the graph', () => {
  it('drop about `rate` of the elements, scale the rest by 1/(1-rate), and depend only on the seed', async () => {
    const g = new Graph('drop');
    const x = g.input('x', 'float32', [400, 250]);
    const d = new Dropout(g, g.input('rate', 'float32', []), g.input('seed', 'int64', []));
    g.output(d.apply(x), 'a');
    g.output(d.apply(x), 'b'); // a second call site draws another mask
    const s = await createSession(g.encode(), { threads: 1 });
    const run = (seed: number) =>
      s.run({
        x: floatTensor(new Float32Array(100_000).fill(1), [400, 250]),
        rate: floatTensor(new Float32Array([0.1]), []),
        seed: new ort.Tensor('int64', BigInt64Array.of(BigInt(seed)), []),
      });
    const first = await run(5);
    const a = first.a.data as Float32Array;
    const zeros = a.filter((v) => v === 0).length / a.length;
    expect(zeros).toBeGreaterThan(0.095);
    expect(zeros).toBeLessThan(0.105);
    expect(new Set(a)).toEqual(new Set([0, Math.fround(1 / Math.fround(0.9))]));
    expect(Array.from(a)).not.toEqual(Array.from(first.b.data as Float32Array));
    expect(Array.from((await run(5)).a.data as Float32Array)).toEqual(Array.from(a));
    expect(Array.from((await run(6)).a.data as Float32Array)).not.toEqual(Array.from(a));
  });
});

describe('training with dropout in the frozen model', () => {
  it('is reproducible per seed, and its prompt gradient is the gradient of the dropped-out loss', async () => {
    process.env.SPROUT_HOME = mkdtempSync(join(tmpdir(), 'sprout-drop-'));
    const model = await loadPromptModel(resolve(__dirname, '../../../shared/fixtures/tiny-t5-v1_1'), { device: 'cpu' });
    const d = model.config.dModel;
    const base = Float32Array.from({ length: 4 * d }, (_, i) => Math.sin(i) * 0.3);
    const batch = {
      inputs: [
        [37, 423, 5, 8, 9, 1],
        [100, 1],
      ],
      targets: [
        [9961, 1],
        [1465, 5, 1],
      ],
    };
    const at = (data: Float32Array, seed: number) => model.trainStep({ length: 4, data }, batch, { dropout: 0.1, dropoutSeed: seed });
    const plain = await model.trainStep({ length: 4, data: base }, batch);
    const a = await at(base, 1);
    const again = await at(base, 1);
    const other = await at(base, 2);
    expect(a.loss).not.toBe(plain.loss);
    expect(again.loss).toBe(a.loss);
    expect(Array.from(again.gradPrompt)).toEqual(Array.from(a.gradPrompt));
    expect(other.loss).not.toBe(a.loss);

    const n = Math.hypot(...a.gradPrompt);
    const u = Float32Array.from(a.gradPrompt, (g) => g / n);
    const central = async (h: number) => {
      const plus = await at(
        Float32Array.from(base, (v, i) => v + h * u[i]),
        1,
      );
      const minus = await at(
        Float32Array.from(base, (v, i) => v - h * u[i]),
        1,
      );
      return (plus.loss - minus.loss) / (2 * h);
    };
    const numeric = (4 * (await central(5e-3)) - (await central(1e-2))) / 3;
    expect(Math.abs(numeric - n)).toBeLessThan(1e-2 * n);
    await model.dispose();
  });
});
