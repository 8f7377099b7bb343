import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { halfBits } from '../../main/graph/builder.js';
import { referenceBatch, type HfReference } from '../../main/bench/device-check/reference.js';
import { loadPromptModel, type T5PromptModel } from '../../main/runtime/model.js';
import { lastJson, sprout } from '../fault/spawn.js';
import { shared } from '../train/fixtures.js';

const relative = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(b));

describe('float16 constants', () => {
  it('are the bits numpy gives, rounded to nearest even, with overflow to infinity', () => {
    const values = [
      0,
      1,
      -1,
      0.5,
      65504,
      65520,
      1e-8,
      6e-8,
      3e-5,
      0.1,
      1 / 3,
      -3.4e38,
      1e-6,
      0.044715,
      Math.sqrt(2 / Math.PI),
      2 ** -24 * 1.5,
    ];
    const numpy = JSON.parse(
      execFileSync(
        'python3',
        [
          '-c',
          'import json,sys,numpy as np; print(json.dumps([int(np.float16(np.float32(v)).view(np.uint16)) for v in json.loads(sys.argv[1])]))',
          JSON.stringify(values),
        ],
        { stdio: ['ignore', 'pipe', 'ignore'] },
      ).toString(),
    );
    expect(values.map(halfBits)).toEqual(numpy);
  });
});

// onnxruntime's CPU provider has float16 kernels for data movement (Gather, Concat, Reshape, Transpose, Cast) but
// not for MatMul, Gemm, Add, Mul, Softmax or the reductions: it wraps those nodes in Casts to float32 and back, so
// on the CPU every value is still rounded to float16 where the graph keeps it in half precision.
for (const name of ['tiny-t5-v1_0', 'tiny-t5-v1_1']) {
  describe(`${name}: fp16 compute agrees with fp32 and with Hugging Face`, () => {
    const dir = join(shared, 'fixtures', name);
    const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as HfReference;
    const { inputs, targets, prompt } = referenceBatch(ref);
    let half: T5PromptModel;
    let full: T5PromptModel;

    beforeAll(async () => {
      process.env.SPROUT_HOME = mkdtempSync(join(tmpdir(), 'sprout-fp16-'));
      half = await loadPromptModel(dir, { device: 'cpu', precision: 'fp16' });
      full = await loadPromptModel(dir, { device: 'cpu', precision: 'fp32' });
    });
    afterAll(async () => {
      await half?.dispose();
      await full?.dispose();
    });

    it('loss, per-example loss and rank scores within 1e-2 relative; the prompt gradient within 5e-2 relative L2', async () => {
      expect(half.precision).toBe('fp16');
      expect(half.providerDetail).toMatch(/ · fp16$/);
      const h = await half.trainStep(prompt, { inputs, targets });
      const f = await full.trainStep(prompt, { inputs, targets });
      // The half-precision graph really rounds: its loss is not the float32 one.
      expect(h.loss).not.toBe(f.loss);
      for (const target of [f.loss, ref.loss]) expect(relative(h.loss, target)).toBeLessThan(1e-2);
      ref.per_example_loss.forEach((v, i) => {
        expect(relative(h.perExampleLoss[i], v)).toBeLessThan(1e-2);
        expect(relative(h.perExampleLoss[i], f.perExampleLoss[i])).toBeLessThan(1e-2);
      });
      const g = ref.grad_prompt.flat();
      const l2 = (a: ArrayLike<number>, b: ArrayLike<number>) =>
        Math.sqrt(g.reduce((s, _, i) => s + (a[i] - b[i]) ** 2, 0) / g.reduce((s, _, i) => s + b[i] ** 2, 0));
      expect(h.gradPrompt.every(Number.isFinite)).toBe(true);
      expect(l2(h.gradPrompt, g)).toBeLessThan(5e-2);
      expect(l2(h.gradPrompt, f.gradPrompt)).toBeLessThan(5e-2);

      const hs = await half.score(prompt, inputs, ref.rank_scores.candidate_ids);
      const fs = await full.score(prompt, inputs, ref.rank_scores.candidate_ids);
      ref.rank_scores.scores.flat().forEach((v, i) => {
        expect(relative(hs[i], v)).toBeLessThan(1e-2);
        expect(relative(hs[i], fs[i])).toBeLessThan(1e-2);
      });
      expect(await half.generate(prompt, inputs, 8)).toEqual(ref.greedy.ids);
    });
  });
}

describe('fp16 training on a pretrained model (spawned)', () => {
  // float16 runs on the CPU by casting, a quarter of a second a step here: 60 steps (where the loss has clearly
  // fallen) keep the run a small part of the timeout on a busy machine; 200 took 48 s of CPU.
  it('mini-t5-pretrained: 60 steps without NaN or inf, and the run record says fp16 with its loss scale', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sprout-fp16-train-'));
    const run = await sprout(
      [
        'train',
        '--model',
        join(shared, 'fixtures/mini-t5-pretrained'),
        '--device',
        'cpu',
        '--precision',
        'fp16',
        '--threads',
        '1',
        '--data',
        join(shared, 'data/cola/in_domain_train.tsv'),
        '--no-header',
        '--quoting',
        'none',
        '--limit',
        '400',
        '--text-column',
        '3',
        '--label-column',
        '1',
        '--verbalizer',
        '0=unacceptable,1=acceptable',
        '--prompt-length',
        '8',
        '--batch-size',
        '2',
        '--steps',
        '60',
        '--seed',
        '2',
        // No held-out rows: scoring them in float16 at the end would cost as much again, and training is what this checks.
        '--split',
        '0',
        '--test-split',
        '0',
      ],
      home,
    );
    expect(run.code).toBe(0);
    const result = lastJson(run) as {
      run_id: number;
      status: string;
      steps: number;
      precision: string;
      first_loss: number;
      last_loss: number;
      provider_detail: string;
    };
    expect([result.status, result.steps, result.precision]).toEqual(['completed', 60, 'fp16']);
    // Every step's loss as the library keeps it, read with Python's sqlite3.
    const losses = JSON.parse(
      execFileSync('python3', [
        '-c',
        'import json,sqlite3,sys; db=sqlite3.connect(sys.argv[1]); print(json.dumps([r[0] for r in db.execute("select loss from run_metrics where run_id=? and loss is not null order by step", (int(sys.argv[2]),))]))',
        join(home, 'library.sqlite'),
        String(result.run_id),
      ]).toString(),
    ) as (number | null)[];
    expect(losses.length).toBeGreaterThan(0);
    expect(losses.every((l) => l !== null && Number.isFinite(l))).toBe(true);
    expect(Number.isFinite(result.first_loss) && Number.isFinite(result.last_loss)).toBe(true);
    expect(result.last_loss).toBeLessThan(result.first_loss);
    const provider = execFileSync('python3', [
      '-c',
      'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select provider from runs where id=?", (int(sys.argv[2]),)).fetchone()[0])',
      join(home, 'library.sqlite'),
      String(result.run_id),
    ])
      .toString()
      .trim();
    expect(provider).toMatch(/^CPU · 1 thread · fp16/);
  }, 300_000);
});
