/**
 * The stranger: a prompt trained on CoLA's real headerless TSV (70/30 labels) that answers one label for
 * every row. In Chromium against `sprout serve`: the Train step and the Evaluate step show both baselines and the
 * collapse warning, the Train pill is ticked once the run ended, the confusion matrix colours the all-wrong cell
 * differently from the correct one, and the library names the metric it was kept by.
 */
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { OperationName, RequestOf } from '../../preload/contract.js';
import { repoRoot, spawnServe, type RunningServe } from '../serve/spawn-serve.js';
import { callApi } from './api.js';
import { launchBrowser } from '../../main/bench/browser.js';

const shared = resolve(repoRoot, '../shared');
const cola = join(shared, 'data/cola');

let serve: RunningServe;
let browser: Browser;
let page: Page;
const problems: string[] = [];

const call = <K extends OperationName>(name: K, request: RequestOf<K>) => callApi(serve, name, request);

beforeAll(async () => {
  serve = await spawnServe();
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
});
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

/** The computed background of a cell as [r, g, b]. */
async function background(page: Page, selector: string): Promise<[number, number, number]> {
  const css = await page.locator(selector).evaluate((el) => getComputedStyle(el).backgroundColor);
  const [r, g, b] = css.match(/[\d.]+/g)!.map(Number);
  // color-mix() may be reported in the srgb colour space with channels from 0 to 1.
  return css.startsWith('color(') ? [r * 255, g * 255, b * 255] : [r, g, b];
}

it(
  'a collapsed prompt: baselines and the warning in Train and Evaluate, red for the wrong cell, the Train pill ticked',
  { timeout: 180_000 },
  async () => {
    await call('settings.set', { defaultDevice: 'cpu', threads: 1 });
    const model = await call('model.import', { path: join(shared, 'fixtures/tiny-t5-v1_1') });
    const dataset = await call('data.import', {
      file: join(cola, 'in_domain_train.tsv'),
      validationFile: join(cola, 'in_domain_dev.tsv'),
      header: false,
      quoting: 'none',
      textColumns: ['3'],
      labelColumn: '1',
      name: 'cola',
    });
    // A long verbaliser for "0" makes the random tiny model rank "1" first for every sentence.
    const started = await call('train.start', {
      name: 'cola-collapse',
      modelId: model.id,
      datasetId: dataset.datasetId,
      verbalizer: { 0: 'unacceptable because the sentence is not good English at all', 1: 'fine' },
      promptLength: 4,
      batchSize: 4,
      steps: 4,
      evalEvery: 2,
      evalLimit: 30,
      metric: 'auto',
      seed: 1,
    });
    await expect
      .poll(async () => (await call('train.status', { runId: started.runId })).status, { timeout: 120_000, interval: 250 })
      .toBe('done');
    const status = await call('train.status', { runId: started.runId });
    expect(status.judgement.metric?.metric).toBe('mcc');
    expect(status.judgement.warnings[0]).toMatch(/^Every validation example was predicted "1"/);

    await page.goto(serve.url);
    await page.getByRole('button', { name: 'Open run cola-collapse' }).click();
    await page.getByRole('heading', { name: '4. Train' }).waitFor();
    await expect(page.getByTestId('baseline-majority').innerText()).resolves.toMatch(/always “1” \(\d+\.\d\u00a0% of the examples\)/);
    await expect(page.getByTestId('baseline-zero-shot').innerText()).resolves.toMatch(/^accuracy \d+\.\d\u00a0%/);
    await expect(page.getByTestId('collapse-warning').innerText()).resolves.toContain('Every validation example was predicted "1"');
    // Said once: the run's notes under the chart no longer repeat the judgement's warnings.
    await expect(page.getByText(/^Every validation example was predicted "1"/).count()).resolves.toBe(1);
    await expect(page.getByTestId('headline-metric').innerText()).resolves.toBe('0.000');
    // The chart's legend writes the metric as the tile does (a share as a percentage, a score to three decimals).
    await expect(page.locator('figure.chart figcaption').innerText()).resolves.toContain('validation MCC (right axis): 0.000');
    // Imported without a test split: the headline is the validation score that chose the step, and the page says so.
    await expect(page.getByTestId('optimistic-note').innerText()).resolves.toMatch(
      /^This is the best of the validation evaluations, and validation also chose which step to keep, so the number is optimistic\./,
    );
    await expect(page.getByTestId('eval-split').count()).resolves.toBe(0);
    await expect(page.locator('.stepper li.done', { hasText: 'Train' }).count()).resolves.toBe(1);

    await page.getByRole('button', { name: 'Next: Evaluate' }).click();
    const matrix = page.getByRole('table', { name: /Confusion matrix/ });
    await matrix.waitFor({ timeout: 60_000 });
    await page.getByTestId('collapse-warning').waitFor();
    await page.getByTestId('baseline-majority').waitFor();
    await expect(page.getByTestId('eval-split').innerText()).resolves.toMatch(
      /^Scored on the \d+ validation examples, which also chose the training step, so this score is optimistic\./,
    );
    const report = await call('eval.report', { promptId: status.promptId! });
    // Every row went to "1": gold 0 → predicted 1 is the wrong cell holding all of row 0, gold 1 → 1 the right one.
    expect(report.confusion.map((row) => row[0])).toEqual([0, 0]);
    const wrong = await background(page, 'table.confusion tbody tr:nth-child(1) td[data-kind="wrong"]');
    const right = await background(page, 'table.confusion tbody tr:nth-child(2) td[data-kind="correct"]');
    expect(wrong[0]).toBeGreaterThan(wrong[1]); // red
    expect(right[1]).toBeGreaterThan(right[0]); // green
    await expect(page.locator('table.confusion td[data-kind="correct"]').count()).resolves.toBe(2);
    await expect(page.locator('[data-metric="mcc"]').locator('xpath=..').getAttribute('class')).resolves.toContain('headline');

    await page.goto(`${serve.base}/#/library`);
    await page
      .getByText(/cola-collapse|run \d+/)
      .first()
      .waitFor();
    await page
      .getByText(/MCC 0\.000 on validation \(optimistic\) ⚠/)
      .first()
      .waitFor();
    expect(problems).toEqual([]);
  },
);
