/**
 * Ctrl-C during `sprout evaluate` ends it as Ctrl-C ends train, label and transfer rank: one line and exit code 130,
 * where it printed "internal error: AbortError" with a stack trace and exited 1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { shared } from '../train/fixtures.js';
import { headOf } from '../data/helpers.js';
import { quickPrompt, sprout } from './spawn.js';

const dir = mkdtempSync(join(tmpdir(), 'sprout-evaluate-interrupt-'));
const home = join(dir, 'home');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('Ctrl-C during evaluate: one line, exit code 130', { timeout: 120_000 }, async () => {
  const rows = headOf('sst2/train.tsv', 25, join(dir, 'sst2-24.tsv'));
  const columns = ['--text-column', 'sentence', '--label-column', 'label'];
  await quickPrompt(home, ['--data', rows, ...columns, '--verbalizer', '0=negative,1=positive']);
  // All 67,349 rows of SST-2's training file: the signal comes as the model loads, long before the scoring ends.
  let sent = false;
  const stopped = await sprout(
    ['evaluate', '--prompt', '1', '--data', join(shared, 'data/sst2/train.tsv'), ...columns, '--device', 'cpu'],
    home,
    (line, kill) => {
      if (sent || !line.startsWith('scoring prompt')) return;
      sent = true;
      kill('SIGINT');
    },
  );
  expect([stopped.code, stopped.stderr.trim().split('\n').at(-1), stopped.stdout]).toEqual([
    130,
    'sprout: The evaluation was stopped before its end; it printed no scores.',
    '',
  ]);
});
