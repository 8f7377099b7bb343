/**
 * The whole task journey in Chromium against `sprout serve` with the real engine: import the fixture model by
 * path, import CB (train + validation files), train a prompt and watch its curve grow (pause,
 * reload the page, find the run again, resume), evaluate it, label CB's
 * test file and export it with a correction, then train RTE starting from the CB prompt chosen in the transfer
 * ranking. Every step is checked against what the engine stored (API and library.sqlite) and the files written,
 * screened by axe-core, and photographed into test-results/journey-*.png.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it, onTestFailed } from 'vitest';
import { repoRoot } from '../serve/spawn-serve.js';
import { App, shots } from './app.js';

const shared = resolve(repoRoot, '../shared');
const model = join(shared, 'fixtures/tiny-t5-v1_1');
const cb = join(shared, 'data/cb');
const rte = join(shared, 'data/rte');

let app: App;
let page: Page;
let out: string;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'sprout-journey-'));
  app = await App.start('journey');
  page = app.page;
});
afterAll(async () => {
  await app?.stop();
});

it('model → data → prompt → train → evaluate → label, then a second task from the first prompt', { timeout: 240_000 }, async () => {
  onTestFailed(() => page.screenshot({ path: join(shots, 'journey-failure.png'), fullPage: true }).then(() => undefined));
  const next = (step: string) => page.getByRole('button', { name: `Next: ${step}` }).click();

  // Home, then the wizard.
  await page.getByRole('heading', { name: 'Home', level: 1 }).waitFor();
  await page.getByRole('table', { name: 'Execution providers' }).waitFor();
  await expect(page.getByRole('contentinfo', { name: 'Status' }).innerText()).resolves.toMatch(/CPU · \d+ thread/);
  await app.accessible('home');
  await app.shot('0-home');
  await page.getByRole('button', { name: 'New task' }).click();

  // 1 Model: import the fixture folder by path; it becomes the chosen model.
  await page.getByRole('heading', { name: '1. Model' }).waitFor();
  await page.getByLabel(/Import a model folder from disk/).fill(model);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  const radio = page.getByRole('radio', { name: /tiny-t5-v1_1/ });
  await expect(radio.isChecked({ timeout: 20_000 })).resolves.toBe(true);
  const models = await app.call('model.list', {});
  expect(models.map((m) => m.path)).toContain(model);
  await expect(page.getByRole('contentinfo', { name: 'Status' }).innerText()).resolves.toContain('tiny-t5-v1_1');
  await app.accessible('model');
  await app.shot('1-model');
  await next('Data');

  // 2 Data: CB's train file and its own validation file.
  await page.getByLabel('Training file').fill(join(cb, 'train.jsonl'));
  await page.getByRole('button', { name: 'Preview' }).click();
  await page.getByRole('table', { name: 'First rows' }).waitFor();
  await expect(page.getByRole('checkbox', { name: 'premise' }).isChecked()).resolves.toBe(true);
  await expect(page.getByRole('checkbox', { name: 'hypothesis' }).isChecked()).resolves.toBe(true);
  await expect(page.getByLabel('Label column').inputValue()).resolves.toBe('label');
  await page.getByLabel(/Validation file/).fill(join(cb, 'val.jsonl'));
  await page.getByLabel('Dataset name').fill('cb');
  await page.getByRole('button', { name: 'Import into the library' }).click();
  await page.getByRole('heading', { name: /Imported “cb”/ }).waitFor({ timeout: 30_000 });
  const [cbSet] = (await app.call('data.list', {})).filter((d) => d.name === 'cb');
  // The Data step holds a tenth of each class out as the test split by default.
  expect(cbSet.splits).toEqual({ train: 224, validation: 56, test: 26 });
  expect([...cbSet.labelSet!].sort()).toEqual(['contradiction', 'entailment', 'neutral']);
  expect(app.library<{ n: number }>('SELECT count(*) AS n FROM dataset_rows WHERE dataset_id = ?', cbSet.id)[0].n).toBe(306);
  await app.accessible('data');
  await app.shot('2-data', page.getByRole('table', { name: 'First rows' }));
  await next('Prompt');

  // 3 Prompt: the library has nothing for this model yet, so "no transfer" is the only choice.
  await page.getByText('The library has no other prompts for this model yet').waitFor({ timeout: 20_000 });
  await expect(page.getByRole('radio', { name: /No transfer/ }).isChecked()).resolves.toBe(true);
  await page.getByLabel(/Run name/).fill('cb-first');
  await page.getByLabel('Prompt length (tokens)').fill('8');
  await page.getByText('Advanced settings').click();
  await page.getByLabel('Training steps').fill('120');
  await page.getByLabel('Batch size').fill('8');
  await page.getByLabel('Evaluate every (steps)').fill('40');
  await page.getByLabel('Validation examples per evaluation').fill('56');
  // The memory plan before Start: it fits at batch 8; a batch that cannot fit names a smaller one and holds Start.
  const plan = page.getByTestId('memory-plan');
  await expect.poll(() => plan.innerText(), { timeout: 30_000, interval: 250 }).toMatch(/^Memory plan \((bf16|fp16) weights, 8 examples .* available\s+fits$/s);
  await page.getByLabel('Batch size').fill('4096');
  await page.getByLabel('Prompt length (tokens)').fill('512');
  await expect.poll(() => plan.innerText(), { timeout: 30_000, interval: 250 }).toMatch(/does not fit\s+This run would not fit in memory\. Try a batch size of \d+/);
  await expect(page.getByRole('button', { name: 'Start training' }).isDisabled()).resolves.toBe(true);
  await page.getByLabel('Prompt length (tokens)').fill('8');
  await page.getByLabel('Batch size').fill('8');
  await expect.poll(() => plan.innerText(), { timeout: 30_000, interval: 250 }).toMatch(/ fits$/);
  await app.accessible('prompt');
  await app.shot('3-prompt');
  await page.getByRole('button', { name: 'Start training' }).click();

  // 4 Train: the curve grows while the run goes; paused, the page reloaded, the run is found again and resumed.
  await page.getByRole('heading', { name: '4. Train' }).waitFor();
  const chart = page.locator('svg[data-points]');
  const lossPoints = async () => Number((await chart.getAttribute('data-points'))!.split(',')[0]);
  const status = page.locator('.badge[aria-live]');
  await expect.poll(lossPoints, { timeout: 60_000 }).toBeGreaterThan(2);
  const early = await lossPoints();
  await expect.poll(lossPoints, { timeout: 60_000 }).toBeGreaterThan(early);
  await app.shot('4-train');
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect.poll(() => status.innerText(), { timeout: 30_000 }).toBe('paused');
  // The status says paused once the step in flight has finished; then the page and the engine agree on every point.
  const [running] = (await app.call('train.list', {})).filter((r) => r.name === 'cb-first');
  const pausedAt = (await app.call('train.status', { runId: running.runId })).losses.length;
  await expect.poll(lossPoints).toBe(pausedAt);
  expect(pausedAt).toBeLessThan(120);
  await page.reload();
  await page.getByRole('heading', { name: '4. Train' }).waitFor();
  await expect.poll(() => status.innerText(), { timeout: 30_000 }).toBe('paused');
  expect(await lossPoints()).toBe(pausedAt);
  await page.getByRole('button', { name: 'Resume' }).click();
  await page.getByText(/Done\. The prompt is in the library as #\d+/).waitFor({ timeout: 120_000 });
  const [firstRun] = (await app.call('train.list', {})).filter((r) => r.name === 'cb-first');
  const first = await app.call('train.status', { runId: firstRun.runId });
  expect(first.status).toBe('done');
  expect(first.losses.map((l) => l.step)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
  expect(first.evals.map((e) => e.step)).toEqual(expect.arrayContaining([40, 80, 120]));
  expect(await lossPoints()).toBe(120);
  const firstPromptId = first.promptId!;
  expect(app.library<{ name: string; length: number }>('SELECT name, length FROM prompts WHERE id = ?', firstPromptId)).toEqual([{ name: 'cb-first', length: 8 }]);
  await app.accessible('train');
  await next('Evaluate');

  // 5 Evaluate: the matrix covers every example of the test split held out at import (26 of CB's rows).
  const matrix = page.getByRole('table', { name: /Confusion matrix/ });
  await matrix.waitFor({ timeout: 60_000 });
  const totals = await matrix.locator('tbody tr td:last-child').allInnerTexts();
  expect(totals.map(Number).reduce((a, b) => a + b, 0)).toBe(26);
  await expect(page.getByTestId('eval-split').innerText()).resolves.toMatch(/^Scored on the 26 test examples held out at import/);
  const report = await app.call('eval.report', { promptId: firstPromptId });
  expect([report.split, report.examples]).toEqual(['test', 26]);
  await expect(page.locator('[data-metric="accuracy"]').innerText()).resolves.toBe(`${(report.accuracy * 100).toFixed(1)} %`);
  await app.accessible('evaluate');
  await app.shot('5-evaluate');
  await next('Label');

  // 6 Label: CB's unlabelled test file, one correction, then the export.
  await page.getByLabel('File to label').fill(join(cb, 'test.jsonl'));
  await page.getByRole('button', { name: 'Read columns' }).click();
  const output = join(out, 'cb-test.labelled.csv');
  await page.getByLabel('Write the labelled copy to').fill(output);
  await page.getByRole('button', { name: 'Label the file' }).click();
  // Review opens as the one-row-at-a-time queue; the table is one click away.
  await page.getByRole('button', { name: 'Table', exact: true }).click({ timeout: 90_000 });
  const reviewTable = page.getByRole('table', { name: 'Labelled rows' });
  await reviewTable.waitFor();
  const firstRow = reviewTable.getByRole('row').nth(1);
  const correction = firstRow.getByRole('combobox');
  const line = Number((await correction.getAttribute('aria-label'))!.replace(/\D+/g, ''));
  await correction.selectOption('neutral');
  await expect.poll(async () => (await app.call('label.review', { jobId: (await app.call('label.list', {}))[0].jobId, limit: 1 })).rows[0].corrected).toBe('neutral');
  const exportFile = join(out, 'cb-test.reviewed.csv');
  await page.getByLabel('Export the reviewed file to').fill(exportFile);
  await page.getByRole('button', { name: 'Export', exact: true }).click();
  await page.getByText(/Exported 250 rows \([01] corrected, 1 labelled by you\)/).waitFor({ timeout: 30_000 });
  // One header line and one line per row of CB's test file (its texts hold no line breaks).
  const labelled = readFileSync(output, 'utf8').trim().split('\n');
  const exported = readFileSync(exportFile, 'utf8').trim().split('\n');
  expect(labelled).toHaveLength(251);
  expect(exported).toHaveLength(251);
  expect(exported[0]).toBe(`${labelled[0]},label,label_source`);
  const byPerson = exported.filter((row) => row.endsWith(',person'));
  expect(byPerson).toHaveLength(1);
  expect(byPerson[0]).toMatch(/,neutral,person$/);
  expect(exported.filter((row) => row.endsWith(',model'))).toHaveLength(249);
  expect(line).toBeGreaterThan(0);
  await app.accessible('label');
  await app.shot('6-label', page.getByRole('heading', { name: /^Labelling test\.jsonl/ }));

  // A second task, RTE, starting from the CB prompt that the transfer ranking lists.
  await page.getByRole('button', { name: 'Start another task' }).click();
  await page.getByRole('heading', { name: '2. Data' }).waitFor();
  await page.getByLabel('Training file').fill(join(rte, 'dev.tsv'));
  await page.getByLabel('Quotes in CSV/TSV').selectOption('none');
  await page.getByRole('table', { name: 'First rows' }).waitFor();
  await expect.poll(() => page.getByText(/rows · TSV/).innerText()).toMatch(/^277 rows · TSV .* quoting none/);
  await page.getByLabel('Dataset name').fill('rte');
  await page.getByRole('button', { name: 'Import into the library' }).click();
  await page.getByRole('heading', { name: /Imported “rte”/ }).waitFor({ timeout: 30_000 });
  await next('Prompt');
  const source = page.getByRole('radio', { name: /cb-first/ });
  await source.waitFor({ timeout: 90_000 });
  await source.check();
  await page.getByLabel(/Run name/).fill('rte-from-cb');
  await page.getByText('Advanced settings').click();
  await page.getByLabel('Training steps').fill('10');
  await page.getByLabel('Batch size').fill('8');
  await page.getByLabel('Evaluate every (steps)').fill('10');
  await page.getByLabel('Validation examples per evaluation').fill('28');
  await app.accessible('transfer');
  await app.shot('3b-transfer', page.getByRole('group', { name: 'Transfer source' }));
  await page.getByRole('button', { name: 'Start training' }).click();
  await page.getByText(/Done\. The prompt is in the library as #\d+/).waitFor({ timeout: 120_000 });
  const [secondRun] = (await app.call('train.list', {})).filter((r) => r.name === 'rte-from-cb');
  const second = await app.call('library.show', { id: (await app.call('train.status', { runId: secondRun.runId })).promptId! });
  expect(second.init).toBe(`prompt:${firstPromptId}`);
  expect(second.lineage.map((p) => p.id)).toContain(firstPromptId);

  // Library: both prompts, the lineage drawn from CB to RTE.
  await page.getByRole('link', { name: 'Library' }).click();
  await page.getByRole('button', { name: /rte-from-cb/ }).click();
  await page.getByRole('img', { name: /Lineage: cb-first → rte-from-cb \(this prompt\)/ }).waitFor();
  await page.getByRole('button', { name: /Show map/ }).click();
  await page.getByRole('group', { name: /Similarity map of/ }).waitFor();
  const prompts = app.library<{ name: string; parent_id: number | null }>("SELECT name, parent_id FROM prompts WHERE name IN ('cb-first', 'rte-from-cb') ORDER BY id");
  expect(prompts).toEqual([{ name: 'cb-first', parent_id: null }, { name: 'rte-from-cb', parent_id: firstPromptId }]);
  await app.accessible('library');
  await app.shot('7-library');
  expect(app.problems).toEqual([]);
});
