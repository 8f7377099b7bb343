import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUN_LIMITS, type RunLimited } from '../../main/choices.js';
import { parseTrainingConfig } from '../../main/train/config.js';
import { sprout } from '../fault/spawn.js';
import { COLA_TSV_FLAGS, shared, tinyModel } from '../train/fixtures.js';

/** train's flag for each bounded run setting; transfer rank takes the first two as well. */
const FLAGS: Record<RunLimited, string> = {
  promptLength: 'prompt-length',
  batchSize: 'batch-size',
  steps: 'steps',
  evalEvery: 'eval-every',
  evalLimit: 'eval-limit',
  patience: 'patience',
  seed: 'seed',
  maxInputLength: 'max-input-length',
  threads: 'threads',
};
const settings = Object.keys(RUN_LIMITS) as RunLimited[];

/** The value just past a setting's bounds: above its maximum where it has one, else below its minimum. */
function outside(setting: RunLimited): number {
  const { min, max } = RUN_LIMITS[setting];
  return max === undefined ? min - 1 : max + 1;
}

function bounds(setting: RunLimited): string {
  const { min, max } = RUN_LIMITS[setting];
  return max === undefined ? `of at least ${min}` : `from ${min} to ${max}`;
}

describe('run settings outside the bounds the app holds them to', () => {
  const home = () => mkdtempSync(path.join(os.tmpdir(), 'sprout-limits-'));
  const data = ['--data', path.join(shared, 'data/cola/in_domain_dev.tsv'), ...COLA_TSV_FLAGS];

  it('are refused by `sprout train` with exit 2, naming the flag and its bounds, before any data is read', async () => {
    const dir = home();
    const runs = await Promise.all(
      settings.map((s) => sprout(['train', '--model', tinyModel, ...data, `--${FLAGS[s]}=${outside(s)}`], dir)),
    );
    runs.forEach((run, i) => {
      const s = settings[i];
      expect([s, run.code, run.stderr.trim()]).toEqual([
        s,
        2,
        expect.stringContaining(`--${FLAGS[s]} must be a whole number ${bounds(s)}, not "${outside(s)}".`),
      ]);
    });
  });

  it('are refused by `sprout transfer rank` for its probe, with or without sources to rank', async () => {
    const dir = home();
    for (const s of ['promptLength', 'batchSize'] as const) {
      const run = await sprout(['transfer', 'rank', '--model', tinyModel, ...data, `--${FLAGS[s]}`, String(outside(s))], dir);
      expect([run.code, run.stderr]).toEqual([2, expect.stringContaining(`--${FLAGS[s]} must be a whole number ${bounds(s)}`)]);
    }
  });

  it('are read by every command the way train reads them, before the library is opened', async () => {
    const dir = home();
    const file = path.join(shared, 'data/cola/in_domain_dev.tsv');
    const refusals: [string[], string][] = [
      [
        ['label', '--prompt', '1', '--input', file, '--batch-size', '5000'],
        '--batch-size must be a whole number from 1 to 4096, not "5000".',
      ],
      [['evaluate', '--prompt', '1', '--data', file, '--threads', '300'], '--threads must be a whole number from 1 to 256, not "300".'],
      [['data', 'import', file, '--seed', '-1'], '--seed must be a whole number of at least 0, not "-1".'],
      [['data', 'import', file, '--max-chars', '0'], '--max-chars must be a whole number of at least 1, not "0".'],
      [['data', 'preview', file, '--rows', '201'], '--rows must be a whole number from 1 to 200, not "201".'],
      [
        ['train', '--model', tinyModel, ...data, '--checkpoint-every', '0'],
        '--checkpoint-every must be a whole number of at least 1, not "0".',
      ],
    ];
    const runs = await Promise.all(refusals.map(([args]) => sprout(args, dir)));
    runs.forEach((run, i) => expect([run.code, run.stderr]).toEqual([2, `sprout: ${refusals[i][1]}\n`]));
    // --skip 0 leaves nothing out, as its help says it may: the flag took 0 and the training config refused it.
    const skipNone = await sprout(['train', '--model', tinyModel, ...data, '--verbalizer', '0=no,1=yes', '--skip', '0', '--dry-run'], dir);
    expect(skipNone.code, skipNone.stderr).toBe(0);
  });

  it('are refused in a stored or hand-written config, as the app refuses them', () => {
    const base = { model: 'm', train: { file: 'f' }, task: { template: '{0}', labelColumn: '1' } };
    for (const s of settings) {
      const config =
        s === 'maxInputLength' ? { ...base, task: { ...base.task, maxInputLength: outside(s) } } : { ...base, [s]: outside(s) };
      expect(() => parseTrainingConfig(config), s).toThrow(/Training setting "(task\.)?\w+": Too (big|small)/);
    }
    expect(parseTrainingConfig({ ...base, promptLength: RUN_LIMITS.promptLength.max }).promptLength).toBe(RUN_LIMITS.promptLength.max);
    // Steps that never come: an evaluation or a task embedding after the last step.
    expect(() => parseTrainingConfig({ ...base, steps: 60, evalSteps: [10, 70] })).toThrow(
      'The evaluation step 70 is after the last step (60).',
    );
    expect(() => parseTrainingConfig({ ...base, steps: 60, taskEmbeddingStep: 61 })).toThrow('after the last step (60)');
  });
});
