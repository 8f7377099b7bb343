/**
 * A prompt imported as a PEFT adapter has no task of its own: `label --labels … --verbalisers …` gives it one, as
 * for a prompt file, where the flags were dropped without a word and the job wrote free text. A prompt with its own
 * labels refuses them. Hugging Face's SST-2 reference prompt on mini-t5-instruct; the output read by Python's csv.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { hfReferencePrompt } from '../e2e/hf-prompt.js';
import { headOf, pythonCsvRows } from '../data/helpers.js';
import { lastJson, sprout } from '../fault/spawn.js';
import { shared } from '../train/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'sprout-peft-task-'));
const home = join(dir, 'home');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('--labels and --verbalisers give an imported adapter its task; a prompt with labels refuses them', { timeout: 120_000 }, async () => {
  const model = join(shared, 'fixtures/mini-t5-instruct');
  const input = headOf('sst2/dev.tsv', 41, join(dir, 'sst2-dev-40.tsv'));
  const imported = await sprout(['library', 'import', '--peft', hfReferencePrompt(model, dir, 'sst2'), '--model', model], home);
  expect(imported.code, imported.stderr).toBe(0);

  const output = join(dir, 'labelled.csv');
  const task = ['--labels', '0,1', '--verbalisers', 'negative,positive'];
  const run = await sprout(['label', '--prompt', '1', '--input', input, '--text-column', 'sentence', ...task, '--output', output], home);
  expect(run.code, run.stderr).toBe(0);
  const counts = (lastJson(run) as { label_counts: Record<string, number> }).label_counts;
  const rows = pythonCsvRows(output, { delimiter: ',' });
  const header = rows[0];
  // The label set's own columns, one probability per label, beside a prediction that is one of the labels.
  expect(header).toEqual(expect.arrayContaining(['predicted_label', 'confidence', 'p_0', 'p_1']));
  const predicted = rows.slice(1).map((r) => r[header.indexOf('predicted_label')]);
  expect(predicted).toHaveLength(40);
  expect(predicted.every((p) => p === '0' || p === '1')).toBe(true);
  expect(Object.fromEntries(['0', '1'].map((l) => [l, predicted.filter((p) => p === l).length]).filter(([, n]) => n))).toEqual(counts);

  // Trained in Sprout, a prompt labels with its own task: the same flags are refused, not dropped.
  const train = ['train', '--model', model, '--data', input, '--text-column', 'sentence', '--label-column', 'label'];
  const trained = await sprout(
    [...train, '--verbalizer', '0=negative,1=positive', '--steps', '1', '--device', 'cpu', '--name', 'sst2 quick'],
    home,
  );
  expect(trained.code, trained.stderr).toBe(0);
  const prompt = String((lastJson(trained) as { prompt_id: number }).prompt_id);
  const refused = await sprout(['label', '--prompt', prompt, '--input', input, '--text-column', 'sentence', ...task], home);
  expect([refused.code, refused.stderr.trim()]).toEqual([
    2,
    `sprout: --labels and --verbalisers give the task of a prompt that has none; "sst2 quick" labels with its own task (0, 1). Leave them out.`,
  ]);
});
