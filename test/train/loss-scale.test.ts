/**
 * float16 training's dynamic loss scale: halved on a step whose gradient overflows (the step skipped, never
 * trained on), doubled after a run of finite steps, and said in the run record.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { afterFiniteStep, afterOverflow, GROWTH_INTERVAL, lossScaleOn, type LossScaleState } from '../../main/train/loss-scale.js';
import { loadCheckpoint } from '../../main/train/run-store.js';
import { lastJson, sprout } from '../fault/spawn.js';
import { repoRoot, shared } from './fixtures.js';

describe('the loss scale', () => {
  it('starts at 1024 in fp16 only, halves on overflow, doubles after a run of finite steps, and gives up below 1', () => {
    expect(lossScaleOn('fp32', null)).toBeNull();
    expect(lossScaleOn('bf16', { scale: 8, finiteSteps: 0, skipped: [] })).toBeNull();
    const kept: LossScaleState = { scale: 64, finiteSteps: 3, skipped: [2] };
    expect(lossScaleOn('fp16', kept)).toBe(kept);
    const s = lossScaleOn('fp16', null)!;
    expect(s).toEqual({ scale: 1024, finiteSteps: 0, skipped: [] });
    afterOverflow(s, 1);
    afterOverflow(s, 2);
    expect(s).toEqual({ scale: 256, finiteSteps: 0, skipped: [1, 2] });
    for (let i = 1; i < GROWTH_INTERVAL; i++) expect(afterFiniteStep(s)).toBe(false);
    expect(afterFiniteStep(s)).toBe(true);
    expect(s).toEqual({ scale: 512, finiteSteps: 0, skipped: [1, 2] });
    // An overflow resets the run of finite steps.
    afterFiniteStep(s);
    afterOverflow(s, 300);
    expect(s).toEqual({ scale: 256, finiteSteps: 0, skipped: [1, 2, 300] });
    const low: LossScaleState = { scale: 1, finiteSteps: 0, skipped: [] };
    expect(() => afterOverflow(low, 7)).toThrow(
      expect.objectContaining({
        code: 'non-finite',
        message: expect.stringMatching(
          /prompt gradient \(at step 7, even with the loss unscaled\) is not finite .* at fp16 compute.*--precision fp32/,
        ),
      }),
    );
  });
});

describe('fp16 training on a checkpoint whose gradient overflows float16 at the starting scale (spawned)', () => {
  it('skips the overflowing steps, halving the scale until the gradient fits, and says so in the run record and its checkpoint', async () => {
    // mini-t5-pretrained with each feed-forward's wi_1 10^4× smaller and wo 10^4× larger: the same function, but
    // the gradient reaching wi_1's float16 product is 10^4× larger, past float16's range at loss scales 1024 to 64.
    const model = join(mkdtempSync(join(tmpdir(), 'sprout-overflow-')), 'mini');
    execFileSync(
      'python3',
      [join(repoRoot, 'test/runtime/scale_checkpoint.py'), join(shared, 'fixtures/mini-t5-pretrained'), model, '--ff', '1e-4'],
      { stdio: 'ignore' },
    );
    const home = mkdtempSync(join(tmpdir(), 'sprout-overflow-home-'));
    const run = await sprout(
      [
        'train',
        '--model',
        model,
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
        '64',
        '--text-column',
        '3',
        '--label-column',
        '1',
        '--verbalizer',
        '0=unacceptable,1=acceptable',
        '--prompt-length',
        '4',
        '--batch-size',
        '2',
        '--steps',
        '10',
        '--seed',
        '3',
      ],
      home,
    );
    expect(run.code, run.stderr).toBe(0);
    const result = lastJson(run) as {
      run_id: number;
      status: string;
      steps: number;
      loss_scale: { final: number; skipped_steps: number[] };
      last_loss: number;
    };
    expect([result.status, result.steps]).toEqual(['completed', 10]);
    // The first steps overflow one after another until the scale fits this data; later ones train.
    const { final, skipped_steps: skipped } = result.loss_scale;
    expect(skipped.length).toBeGreaterThanOrEqual(3);
    expect(skipped).toEqual(skipped.map((_, i) => i + 1));
    expect(final).toBe(1024 / 2 ** skipped.length);
    expect(Number.isFinite(result.last_loss)).toBe(true);
    for (const step of skipped)
      expect(run.stderr).toContain(
        `Step ${step} skipped: its gradient overflowed float16 at loss scale ${2048 / 2 ** step}; the loss scale is now ${1024 / 2 ** step}.`,
      );
    const provider = execFileSync('python3', [
      '-c',
      'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select provider from runs where id=?", (int(sys.argv[2]),)).fetchone()[0])',
      join(home, 'library.sqlite'),
      String(result.run_id),
    ])
      .toString()
      .trim();
    expect(provider).toBe(
      `CPU · 1 thread · fp16 · loss scale ${final}; ${skipped.length} steps skipped, gradient overflowed float16: ${skipped.join(', ')}`,
    );
    // A resumed run would go on from the same scale and the same run of finite steps.
    expect(loadCheckpoint(join(home, 'runs', String(result.run_id)))!.lossScale).toEqual({
      scale: final,
      finiteSteps: 10 - skipped.length,
      skipped,
    });
  }, 180_000);
});
