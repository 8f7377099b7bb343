import { mkdtempSync } from 'node:fs';
import { inLibrary } from '../../main/library/run-records.js';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTrainingConfig } from '../../main/train/config.js';
import { applyPreset, presetSettings } from '../../main/train/presets.js';
import { loadCheckpoint } from '../../main/train/run-store.js';
import { runTraining } from '../../main/train/run.js';
import { sprout } from '../fault/spawn.js';
import { COLA_TSV_FLAGS, shared, tinyModel } from './fixtures.js';

const cola = (file: string, limit: number) => ({
  file: path.join(shared, 'data/cola', file),
  header: false,
  quoting: 'none' as const,
  limit,
});
const task = { template: '{3}', labelColumn: '1', verbalizer: { 0: 'unacceptable', 1: 'acceptable' } };
const home = () => mkdtempSync(path.join(os.tmpdir(), 'sprout-preset-'));

describe('training presets', () => {
  it('lester-reference fills what is not given with the reference recipe; what is given wins', () => {
    const filled = parseTrainingConfig(applyPreset({ model: 'm', train: { file: 'f' }, task }, presetSettings('lester-reference')));
    expect(filled).toMatchObject({
      promptLength: 20,
      init: 'labels',
      optimizer: { kind: 'adafactor', lr: 0.3, weightDecay: 1e-5 },
      batchSize: 32,
      seed: 0,
      bucketing: false,
      zLoss: 0,
      dropout: 0,
      evalAtStart: true,
      evalSteps: [100, 250, 500, 1000],
      maxNewTokens: 5,
    });
    const given = parseTrainingConfig(
      applyPreset(
        { model: 'm', train: { file: 'f' }, task, batchSize: 8, optimizer: { kind: 'adafactor', lr: 0.1 }, evalSteps: [7] },
        presetSettings('lester-reference'),
      ),
    );
    expect([given.batchSize, given.optimizer, given.evalSteps, given.init]).toEqual([
      8,
      { kind: 'adafactor', lr: 0.1, weightDecay: 1e-5 },
      [7],
      'labels',
    ]);
    // Another optimiser keeps its own defaults rather than Adafactor's lr.
    const adam = parseTrainingConfig(
      applyPreset({ model: 'm', train: { file: 'f' }, task, optimizer: { kind: 'adam' } }, presetSettings('lester-reference')),
    );
    expect(adam.optimizer).toEqual({ kind: 'adam' });
    // A shorter run keeps the preset's evaluation steps it reaches (its last is evaluated anyway).
    const short = parseTrainingConfig(
      applyPreset({ model: 'm', train: { file: 'f' }, task, steps: 300 }, presetSettings('lester-reference')),
    );
    expect(short.evalSteps).toEqual([100, 250]);
    const tiny = parseTrainingConfig(
      applyPreset({ model: 'm', train: { file: 'f' }, task, steps: 50 }, presetSettings('lester-reference')),
    );
    expect(tiny.evalSteps).toBeUndefined();
  });

  it('an unknown preset, a bad step list and a preset with --mixture are one-line errors with exit code 2', async () => {
    const dir = home();
    const base = ['train', '--model', tinyModel, '--data', cola('in_domain_train.tsv', 8).file, ...COLA_TSV_FLAGS];
    const unknown = await sprout([...base, '--preset', 'lester'], dir);
    expect([unknown.code, unknown.stderr.trim().split('\n').length]).toEqual([2, 1]);
    expect(unknown.stderr).toMatch(/no training preset "lester"\. Known presets: lester-reference/);
    const steps = await sprout([...base, '--eval-steps', '100,x'], dir);
    expect(steps.code).toBe(2);
    expect(steps.stderr).toMatch(/--eval-steps must be a whole number of at least 1, not "x"/);
    const mixture = await sprout(['train', '--model', tinyModel, '--mixture', 'dataset:1', '--preset', 'lester-reference'], dir);
    expect(mixture.code).toBe(2);
    expect(mixture.stderr).toMatch(/--preset applies to single-task training/);
  });

  it('evaluates at the given steps and the last, decoding at most maxNewTokens greedy tokens', async () => {
    const r = await runTraining(
      {
        config: {
          model: tinyModel,
          device: 'cpu',
          threads: 1,
          train: cola('in_domain_train.tsv', 64),
          validation: cola('in_domain_dev.tsv', 8),
          task,
          promptLength: 4,
          batchSize: 8,
          steps: 6,
          evalAtStart: true,
          evalSteps: [2, 5],
          maxNewTokens: 3,
          checkpointEvery: 100,
        },
      },
      { ...inLibrary(home()) },
    );
    const state = loadCheckpoint(path.dirname(r.prompt_file))!;
    expect(state.evals.map((e) => e.step)).toEqual([0, 2, 5, 6]);
    // The labels are 2 ids long (word + eos), the default limit; a random tiny model rarely says eos, so with a
    // limit of 3 its outputs run to 3 ids.
    const lengths = state.evals.flatMap((e) => e.metrics.firstOutputs.map((o) => o.length));
    expect(lengths).toHaveLength(4 * 5);
    expect(Math.max(...lengths)).toBe(3);
  });
});
