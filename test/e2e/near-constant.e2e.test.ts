/**
 * A near-constant classifier does not pass silently (#25 item 2), in Chromium against `sprout serve`: CoLA's
 * in-domain dev file (headerless TSV, as published; 70/30 labels) with 10 % held out for validation and 10 % for
 * testing, two steps on mini-t5-instruct. The kept prompt answers "1" for all but one test sentence, so it finds
 * almost none of the "0" class, and it is not all one label (the old warning fired only then). The Train step keeps
 * the warning after the run ends, Evaluate shows it, the library marks the prompt and shows the warnings stored with
 * it. The predictions per class are counted by Python from what the library stored.
 */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { repoRoot } from '../serve/spawn-serve.js';
import { App } from './app.js';

const shared = resolve(repoRoot, '../shared');
const model = join(shared, 'fixtures/mini-t5-instruct');

let app: App;
beforeAll(async () => {
  app = await App.start('near-constant');
  await app.call('settings.set', { defaultDevice: 'cpu', threads: 1 });
}, 60_000);
afterAll(async () => {
  await app?.stop();
});

/** Python's sqlite3/json: the warnings stored with the prompt and its test score's confusion-free figures. */
function storedMetrics(promptId: number): { warnings: string[]; test: { examples: number; rank_accuracy: number } } {
  const script = `
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute('SELECT metrics FROM prompts WHERE id = ?', (int(sys.argv[2]),)).fetchone()[0])`;
  return JSON.parse(
    execFileSync('python3', ['-c', script, join(app.serve.home, 'library.sqlite'), String(promptId)], { encoding: 'utf8' }),
  ) as ReturnType<typeof storedMetrics>;
}

it(
  'a prompt that almost always answers "1": warned on Train after the run, on Evaluate and in the library',
  { timeout: 240_000 },
  async () => {
    const page = app.page;
    app.shotOnFailure('near-constant-failure.png');
    const modelId = (await app.call('model.import', { path: model })).id;
    const dataset = await app.call('data.import', {
      file: join(shared, 'data/cola/in_domain_dev.tsv'),
      header: false,
      quoting: 'none',
      textColumns: ['3'],
      labelColumn: '1',
      split: 0.1,
      testSplit: 0.1,
      name: 'cola dev',
    });
    const { runId } = await app.call('train.start', {
      name: 'cola-lean',
      modelId,
      datasetId: dataset.datasetId,
      verbalizer: { 0: 'unacceptable', 1: 'acceptable' },
      promptLength: 20,
      batchSize: 4,
      steps: 2,
      evalEvery: 2,
      seed: 0,
    });
    await expect.poll(async () => (await app.call('train.status', { runId })).status, { timeout: 180_000, interval: 250 }).toBe('done');
    const status = await app.call('train.status', { runId });
    const report = await app.call('eval.report', { promptId: status.promptId! });
    expect(report.split).toBe('test');
    // Gold "0" (row 0): found at most once in ten; the prompt still answers "0" somewhere, so it is not all one label.
    const [zeros, ones] = report.confusion;
    const predicted0 = zeros[0] + ones[0];
    expect(zeros[0] / (zeros[0] + zeros[1])).toBeLessThan(0.1);
    expect(predicted0).toBeGreaterThan(0);
    const recall = `recall ${((100 * zeros[0]) / (zeros[0] + zeros[1])).toFixed(1)} %`;
    const missed = `"0" is ${((100 * (zeros[0] + zeros[1])) / report.examples).toFixed(1)} % of the test examples, but the prompt found ${zeros[0]} of its ${zeros[0] + zeros[1]} (${recall}): it almost never answers "0".`;
    expect(status.judgement.warnings).toContain(missed);
    expect(status.test!.warnings).toContain(missed);

    // Train: the run has ended, and the warning about the headline (the test split) is still there.
    await page.reload();
    await page.getByRole('button', { name: 'Open run cola-lean' }).click();
    await page.getByRole('heading', { name: '4. Train' }).waitFor();
    await expect(page.getByTestId('collapse-warning').innerText()).resolves.toContain(missed);

    // Evaluate: the same words about the same rows.
    await page.getByRole('button', { name: 'Next: Evaluate' }).click();
    await page.getByRole('table', { name: /Confusion matrix/ }).waitFor({ timeout: 90_000 });
    await expect(page.getByTestId('collapse-warning').innerText()).resolves.toContain(missed);

    // The library: marked in the list, the warnings beside the prompt; stored with it, as Python reads them.
    await page.getByRole('link', { name: 'Library' }).click();
    const item = page.getByRole('button', { name: /cola-lean/ });
    await expect(item.innerText()).resolves.toMatch(/on test ⚠/);
    await item.click();
    await expect(page.getByTestId('collapse-warning').innerText()).resolves.toContain(missed);
    const stored = storedMetrics(status.promptId!);
    expect(stored.warnings).toContain(missed);
    expect(stored.test.examples).toBe(report.examples);
    expect(app.problems).toEqual([]);
  },
);
