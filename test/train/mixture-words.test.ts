/**
 * `train --mixture` of datasets whose labels are numbers (SST-2 and CoLA as published): each takes the label words
 * of its latest run, as the app's Data step does when a dataset is chosen again; one that has none is refused with
 * the way to give them, where the mixture was a dead end (the engine asked for --verbalizer, which --mixture refuses).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { lastJson, sprout } from '../fault/spawn.js';
import { COLA_TSV_FLAGS, shared, tinyModel } from './fixtures.js';

const home = mkdtempSync(join(tmpdir(), 'sprout-mixture-words-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

it('a mixture takes each dataset’s latest label words, and names a dataset that has none', { timeout: 120_000 }, async () => {
  const imported = async (args: string[]) => {
    const run = await sprout(['data', 'import', ...args], home);
    expect(run.code, run.stderr).toBe(0);
    return (lastJson(run) as { id: number }).id;
  };
  const sst2 = await imported([join(shared, 'data/sst2/dev.tsv'), '--text-column', 'sentence', '--label-column', 'label']);
  const cola = await imported([join(shared, 'data/cola/in_domain_dev.tsv'), ...COLA_TSV_FLAGS]);
  const common = ['--model', tinyModel, '--device', 'cpu', '--steps', '1', '--eval-limit', '4'];
  const mixture = ['train', '--mixture', `dataset:${sst2}`, '--mixture', `dataset:${cola}`, ...common];

  const refused = await sprout(mixture, home);
  expect([refused.code, refused.stderr.trim()]).toEqual([
    2,
    `sprout: Dataset ${sst2} ("sst2 dev") has labels that are numbers (0, 1) and no run has given them words yet. ` +
      `Train it once alone with --dataset ${sst2} --verbalizer '0=<words>,1=<words>' (one step will do), or choose its ` +
      'words in the app; --mixture then uses the words of its latest run.',
  ]);
  for (const [id, words] of [
    [sst2, '0=negative,1=positive'],
    [cola, '0=unacceptable,1=acceptable'],
  ] as const) {
    const alone = await sprout(['train', '--dataset', String(id), '--verbalizer', words, ...common], home);
    expect(alone.code, alone.stderr).toBe(0);
  }
  const trained = await sprout(mixture, home);
  expect(trained.code, trained.stderr).toBe(0);
  const runId = (lastJson(trained) as { run_id: number }).run_id;
  const stored = JSON.parse(readFileSync(join(home, 'runs', String(runId), 'config.json'), 'utf8')) as {
    tasks: { labelTexts: string[] }[];
  };
  expect(stored.tasks.map((t) => t.labelTexts)).toEqual([
    ['negative', 'positive'],
    ['unacceptable', 'acceptable'],
  ]);
});
