/**
 * The wizard after a finished run, in Chromium against `sprout serve`: another dataset, chosen or imported on the Data
 * step, starts the Prompt, Train and Evaluate steps afresh rather than offering the last run's; the Evaluate step's
 * threshold field refuses a value out of range in words, takes a target as a percentage, and gives no precision where
 * no row is answered; the words typed for a dataset are given back when it is chosen again. Data: CoLA's headerless
 * TSVs as published (labels 0 and 1); a two-step run of the tiny T5.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { repoRoot } from '../serve/spawn-serve.js';
import { App, tinyRun } from './app.js';
import { percent } from '../../renderer/lib/format.js';

const shared = resolve(repoRoot, '../shared');
const cola = (file: string) => join(shared, 'data/cola', file);
const runName = 'cola-first';

let app: App;
let runId: number;
let firstDataset: number;
let otherDataset: number;

beforeAll(async () => {
  app = await App.start('finished-run');
  await app.call('settings.set', { defaultDevice: 'cpu', threads: 1 });
  const model = await app.call('model.import', { path: join(shared, 'fixtures/tiny-t5-v1_1') });
  const colaTsv = { header: false, quoting: 'none' as const, textColumns: ['3'], labelColumn: '1' };
  firstDataset = (await app.call('data.import', { file: cola('in_domain_dev.tsv'), ...colaTsv, name: 'cola-first' })).datasetId;
  otherDataset = (await app.call('data.import', { file: cola('out_of_domain_dev.tsv'), ...colaTsv, name: 'cola-other' })).datasetId;
  runId = (await app.call('train.start', tinyRun(runName, model.id, firstDataset, 'cpu'))).runId;
});
afterAll(async () => {
  await app?.stop();
});

const stepButton = (name: string) =>
  app.page.getByRole('navigation', { name: 'Wizard steps' }).getByRole('button', { name: new RegExp(`^${name}`) });

/** The finished run opened from Home (a fresh page's, which lists it). */
async function openFinishedRun(): Promise<void> {
  const page = app.page;
  await expect.poll(async () => (await app.call('train.status', { runId })).status, { timeout: 60_000, interval: 200 }).toBe('done');
  await page.goto(app.serve.url);
  await page.getByRole('button', { name: `Open run ${runName}` }).click();
  await expect.poll(() => stepButton('Evaluate').isEnabled()).toBe(true);
}

async function dataStepOfFinishedRun(): Promise<void> {
  await openFinishedRun();
  await stepButton('Data').click();
}

/** On the Prompt step: a fresh start, with nothing of the finished run to train again, follow or score. */
async function expectFreshPromptStep(): Promise<void> {
  const page = app.page;
  await page.getByRole('button', { name: 'Next: Prompt' }).click();
  await page.getByRole('button', { name: 'Start training' }).waitFor();
  await expect(page.getByRole('button', { name: 'Train again with these settings' }).count()).resolves.toBe(0);
  await expect(page.getByRole('button', { name: 'Next: Train' }).isDisabled()).resolves.toBe(true);
  await expect(stepButton('Evaluate').isDisabled()).resolves.toBe(true);
}

it('another dataset, chosen from the library or imported, starts the steps after Data afresh', { timeout: 90_000 }, async () => {
  const page = app.page;
  app.shotOnFailure('finished-run-failure.png');
  await dataStepOfFinishedRun();
  await page.getByLabel('Or use a dataset already in the library').selectOption(String(otherDataset));
  await page.getByLabel('Target text for label 0').fill('no');
  await page.getByLabel('Target text for label 1').fill('yes');
  await expectFreshPromptStep();

  await dataStepOfFinishedRun();
  await page.getByLabel('Or use a dataset already in the library').selectOption('');
  await page.getByLabel('Training file').fill(cola('out_of_domain_dev.tsv'));
  await page.getByLabel('Training file').press('Enter');
  await page.getByRole('button', { name: 'Import into the library' }).click();
  await page.getByRole('button', { name: 'Import into the library' }).waitFor({ state: 'detached', timeout: 30_000 });
  await page.getByLabel('Target text for label 0').fill('bad');
  await page.getByLabel('Target text for label 1').fill('good');
  await expectFreshPromptStep();
});

it(
  'the threshold field: out of range said in words, a target in percent, no precision where no row is answered',
  { timeout: 90_000 },
  async () => {
    const page = app.page;
    app.shotOnFailure('finished-run-failure.png');
    await openFinishedRun();
    await stepButton('Evaluate').click();
    await page.getByRole('button', { name: 'Show precision and recall against the threshold' }).click();
    const panel = page.getByRole('region', { name: 'Decision threshold' });
    const preview = panel.getByTestId('threshold-preview');
    const use = panel.getByRole('button', { name: 'Use this threshold' });
    const field = panel.getByRole('spinbutton', { name: 'Threshold' });
    await field.waitFor({ timeout: 60_000 });
    const promptId = (await app.call('train.status', { runId })).promptId!;
    const view = await app.call('prompt.thresholdCurve', { promptId });
    const { examples, positive } = view.curve;

    for (const typed of ['1.5', '-0.2']) {
      await field.fill(typed);
      await expect.poll(() => preview.innerText()).toBe('A threshold is a probability: type one from 0 to 1.');
      await expect(use.isDisabled()).resolves.toBe(true);
      await expect(field.getAttribute('aria-invalid')).resolves.toBe('true');
    }
    // Above every score no row is answered, so there is no precision to give (not 100 %).
    await field.fill('1');
    await expect
      .poll(() => preview.innerText())
      .toBe(`Threshold 1: precision —, recall ${percent(0)}, 0 of ${examples} rows answered "${positive}".`);

    await panel.getByRole('combobox', { name: 'Choose by' }).selectOption('recall');
    const target = panel.getByRole('spinbutton', { name: 'Target recall (%)' });
    await target.fill('150');
    await expect.poll(() => preview.innerText()).toBe('Type a target recall from 0 to 100 %.');
    await expect(use.isDisabled()).resolves.toBe(true);
    // 90 means 90 %, as every figure on the page: the highest threshold whose recall reaches it, kept as the share 0.9.
    await target.fill('90');
    const point = view.curve.points.find((p) => p.recall >= 0.9)!;
    await expect
      .poll(() => preview.innerText())
      .toBe(
        `Threshold ${Number(point.threshold.toPrecision(4))}: precision ${percent(point.precision)}, recall ${percent(point.recall)}, ${point.predicted} of ${examples} rows answered "${positive}".`,
      );
    await use.click();
    await expect
      .poll(async () => (await app.call('prompt.thresholdCurve', { promptId })).decision, { timeout: 30_000 })
      .toMatchObject({ chosenBy: 'recall', target: 0.9, threshold: point.threshold });
  },
);

it('words typed for an imported dataset of numeric labels are given back when it is chosen again', { timeout: 90_000 }, async () => {
  const page = app.page;
  app.shotOnFailure('finished-run-failure.png');
  await dataStepOfFinishedRun();
  const library = page.getByLabel('Or use a dataset already in the library');
  await library.selectOption('');
  // A file of its own: one the library holds already is not imported again.
  const file = join(mkdtempSync(join(tmpdir(), 'sprout-finished-run-')), 'cola-200.tsv');
  writeFileSync(
    file,
    readFileSync(cola('in_domain_dev.tsv'), 'utf8')
      .split(/(?<=\n)/)
      .slice(0, 200)
      .join(''),
  );
  await page.getByLabel('Training file').fill(file);
  await page.getByLabel('Training file').press('Enter');
  const before = await app.call('data.list', {});
  await page.getByRole('button', { name: 'Import into the library' }).click();
  await expect.poll(async () => (await app.call('data.list', {})).length, { timeout: 30_000 }).toBe(before.length + 1);
  const imported = (await app.call('data.list', {})).find((d) => !before.some((e) => e.id === d.id))!;
  const words = () => Promise.all(['0', '1'].map((label) => page.getByLabel(`Target text for label ${label}`).inputValue()));
  await page.getByLabel('Target text for label 0').fill('bad');
  await page.getByLabel('Target text for label 1').fill('good');
  // The first dataset shows its run's words; the imported one, chosen again, the words typed for it.
  await library.selectOption(String(firstDataset));
  await expect.poll(words).toEqual(['no', 'yes']);
  await library.selectOption(String(imported.id));
  await expect.poll(words).toEqual(['bad', 'good']);
  await expect(page.getByRole('button', { name: 'Next: Prompt' }).isEnabled()).resolves.toBe(true);
});
