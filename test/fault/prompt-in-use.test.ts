/**
 * A prompt a labelling job is using is not deleted under it; once the job has stopped it may be, and the job then
 * says which prompt is gone when asked to resume, instead of "There is no prompt 1 in the library".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { COLA_TSV_FLAGS, shared } from '../train/fixtures.js';
import { headOf } from '../data/helpers.js';
import { quickPrompt, sprout, type Exit } from './spawn.js';

const dir = mkdtempSync(join(tmpdir(), 'sprout-prompt-in-use-'));
const home = join(dir, 'home');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('a running job keeps its prompt; a stopped one names the prompt deleted since when asked to resume', { timeout: 120_000 }, async () => {
  const rows = headOf('cola/in_domain_dev.tsv', 24, join(dir, 'cola-24.tsv'));
  await quickPrompt(home, ['--data', rows, ...COLA_TSV_FLAGS, '--verbalizer', '0=no,1=yes', '--name', 'tiny cola']);

  // SST-2's 67,349 training rows: the job is still labelling when the deletion is asked for at its first progress line.
  let removing: Promise<Exit> | undefined;
  const input = join(shared, 'data/sst2/train.tsv');
  const labelling = await sprout(
    ['label', '--prompt', '1', '--input', input, '--text-column', 'sentence', '--output', join(dir, 'out.csv'), '--device', 'cpu'],
    home,
    (line, kill) => {
      if (removing || !/ rows \(/.test(line)) return;
      removing = sprout(['library', 'rm', '1'], home).finally(() => kill('SIGINT'));
    },
  );
  const refused = await removing!;
  expect(labelling.code, labelling.stderr).toBe(130);
  const jobId = (JSON.parse(labelling.stdout.trim().split('\n').at(-1)!) as { job_id: string }).job_id;
  expect([refused.code, refused.stderr.trim()]).toEqual([
    2,
    `sprout: Prompt 1 is labelling train.tsv right now (job ${jobId}); it was not deleted. ` +
      'Wait for the job to finish, or cancel it, then delete the prompt.',
  ]);

  const removed = await sprout(['library', 'rm', '1'], home);
  expect(removed.code, removed.stderr).toBe(0);
  const resumed = await sprout(['label', '--resume', jobId, '--device', 'cpu'], home);
  expect([resumed.code, resumed.stderr.trim().split('\n').at(-1)]).toEqual([
    2,
    'sprout: The prompt this job labelled with, “tiny cola” (prompt:1), was deleted from the library, so the job cannot resume. ' +
      'Its labelled rows stay with the job; label the file in a new job, with another prompt.',
  ]);
});
