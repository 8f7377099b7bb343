/**
 * A stranger's file, start to finish (issue #14), in Chromium against `sprout serve`: CoLA's headerless,
 * quote-less, imbalanced training TSV through the Data step with the header choice the detector proposes, a short
 * run on the tiny fixture model, then labelling a CSV made from CoLA's dev file whose text column has another name
 * and position, three corrections in review, and exports to CSV and JSON Lines checked with python3.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tsvLines } from '../data/helpers.js';
import { checkExport } from '../label/python-export.js';
import { pythonRows } from '../label/python-rows.js';
import { repoRoot } from '../serve/spawn-serve.js';
import { App } from './app.js';
import { percent } from '../../renderer/lib/format.js';

const shared = resolve(repoRoot, '../shared');
const model = join(shared, 'fixtures/tiny-t5-v1_1');
const train = join(shared, 'data/cola/in_domain_train.tsv');
const dev = tsvLines(join(shared, 'data/cola/in_domain_dev.tsv'));

let app: App;
let out: string;
beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'sprout-stranger-'));
  app = await App.start('stranger');
});
afterAll(async () => {
  await app?.stop();
});

it(
  'headerless CoLA → short run → label a differently shaped file → three corrections → CSV and JSON Lines exports',
  { timeout: 240_000 },
  async () => {
    const page = app.page;
    app.shotOnFailure('stranger-failure.png');
    const next = (step: string) => page.getByRole('button', { name: `Next: ${step}` }).click();

    await page.getByRole('button', { name: 'New task' }).click();
    await page.getByLabel(/Import a model folder from disk/).fill(model);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect(page.getByRole('radio', { name: /tiny-t5-v1_1/ }).isChecked({ timeout: 20_000 })).resolves.toBe(true);
    await next('Data');

    // Data: the detector's guess is shown, and the choice it proposes is the one picked.
    await page.getByLabel('Training file').fill(train);
    await page.getByLabel('Training file').press('Enter');
    await page.getByRole('table', { name: 'First rows' }).waitFor({ timeout: 30_000 });
    const proposed = await app.call('data.preview', { file: train, rows: 1 });
    expect(proposed.header).toBe(false);
    await expect(page.getByTestId('header-guess').innerText()).resolves.toMatch(
      /^First row read as an example \(no header\): row 1 looks like data: /,
    );
    await page.getByRole('combobox', { name: /^First row/ }).selectOption(proposed.header ? 'yes' : 'no');
    await expect
      .poll(() => page.getByRole('table', { name: 'First rows' }).locator('tbody tr').first().innerText())
      .toContain("Our friends won't buy this analysis");
    await expect(page.getByRole('checkbox', { name: '3' }).isChecked()).resolves.toBe(true);
    await expect(page.getByLabel('Label column').inputValue()).resolves.toBe('1');
    await expect(page.getByLabel(/Input template/).inputValue()).resolves.toBe('{3}');
    // CoLA's labels are numbers; the model learns words for them.
    await page.getByLabel('Target text for label 0').fill('unacceptable');
    await page.getByLabel('Target text for label 1').fill('acceptable');
    await page.getByLabel('Dataset name').fill('cola');
    await page.getByRole('button', { name: 'Import into the library' }).click();
    await page.getByRole('heading', { name: /Imported “cola”/ }).waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('imbalance-hint').innerText()).resolves.toBe(
      '70.4 % of rows are "1": accuracy will look high for a prompt that always says it; judge by macro-F1/MCC.',
    );
    await expect(page.getByTestId('split-note').innerText()).resolves.toMatch(/by unique text/);
    const [cola] = (await app.call('data.list', {})).filter((d) => d.name === 'cola');
    expect(cola.splits.train + cola.splits.validation + cola.splits.test).toBe(8551);
    expect(app.library<{ line: number }>('SELECT line FROM dataset_rows WHERE dataset_id = ? ORDER BY line LIMIT 1', cola.id)).toEqual([
      { line: 1 },
    ]);
    expect(
      app.library('SELECT texts FROM dataset_rows WHERE dataset_id = ? GROUP BY texts HAVING COUNT(DISTINCT split) > 1', cola.id),
    ).toEqual([]);
    await app.accessible('data');
    await app.shot('2-data', page.getByRole('heading', { name: /Imported “cola”/ }));
    await next('Prompt');

    // A short run: this journey is about the data and the labels, not the prompt's quality.
    await page.getByLabel(/Run name/).fill('cola-short');
    await page.getByLabel('Prompt length (tokens)').fill('4');
    await page.getByText('Advanced settings').click();
    await page.getByLabel('Training steps').fill('6');
    await page.getByLabel('Batch size').fill('4');
    await page.getByLabel('Evaluate every (steps)').fill('6');
    await page.getByLabel('Validation examples per evaluation').fill('16');
    await page.getByRole('button', { name: 'Start training' }).click();
    await page.getByText(/Done\. The prompt is in the library as #\d+/).waitFor({ timeout: 120_000 });
    // Six steps on the tiny random model say one label for every row: the step must not call that a success.
    await expect(page.getByTestId('baseline-majority').innerText()).resolves.toMatch(/% of the examples/);
    await page.getByTestId('baseline-zero-shot').waitFor();
    // Once the run has ended, the warning judges the kept prompt on the test split held out at import (the headline).
    await expect(page.getByTestId('collapse-warning').innerText()).resolves.toMatch(/Every test example was predicted/);
    await next('Evaluate');
    await page.getByRole('table', { name: /Confusion matrix/ }).waitFor({ timeout: 60_000 });
    await page.getByTestId('baseline-majority').waitFor();
    await page.getByTestId('collapse-warning').waitFor();
    await next('Label');

    // Label: another file, the text under another name and in another place, with gold labels.
    const csv = join(out, 'cola-dev.csv');
    const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
    writeFileSync(csv, `id,sentence,label,source\n${dev.map((f, i) => [`d${i}`, quote(f[3]), f[1], f[0]].join(',')).join('\n')}\n`);
    await page.getByLabel('File to label').fill(csv);
    await page.getByRole('button', { name: 'Read columns' }).click();
    await page.getByRole('group', { name: 'Text column(s)' }).waitFor();
    await expect(page.getByRole('checkbox', { name: 'sentence' }).isChecked()).resolves.toBe(true);
    await expect(page.getByRole('checkbox', { name: 'id' }).isChecked()).resolves.toBe(false);
    // The default output is named after the prompt, so another prompt's job on this file gets a file of its own.
    await expect.poll(() => page.getByLabel('Write the labelled copy to').inputValue()).toBe(join(out, 'cola-dev.cola-short.labelled.csv'));
    await page.getByLabel(/Column with known labels/).selectOption('label');
    await page.getByRole('button', { name: 'Label the file' }).click();
    // Review opens as the one-row-at-a-time queue; the table is one click away.
    await page.getByRole('button', { name: 'Table', exact: true }).click({ timeout: 90_000 });
    const reviewTable = page.getByRole('table', { name: 'Labelled rows' });
    await reviewTable.waitFor();
    const [job] = await app.call('label.list', {});
    expect(job.template).toBe('{sentence}');
    expect(job.status).toBe('done');
    await expect(page.getByTestId('gold-accuracy').innerText()).resolves.toContain(`accuracy ${percent(job.accuracy!.accuracy)}`);
    await expect(page.getByTestId('job-identity').innerText()).resolves.toMatch(
      /^Prompt cola-short · reads \{sentence\} · started .+ · writes cola-dev\.cola-short\.labelled\.csv$/,
    );

    // Three corrections, the least confident rows, each to the other label.
    const least = (await app.call('label.review', { jobId: job.jobId, limit: 3 })).rows;
    for (let i = 0; i < 3; i++) {
      const row = reviewTable.getByRole('row').nth(i + 1);
      await expect(row.getByRole('cell').nth(4).innerText()).resolves.toBe(dev[least[i].row][1]);
      await row.getByRole('combobox').selectOption(least[i].predicted === '0' ? '1' : '0');
    }
    await expect
      .poll(async () => (await app.call('label.review', { jobId: job.jobId, limit: 3 })).rows.map((r) => r.corrected))
      .toEqual(least.map((r) => (r.predicted === '0' ? '1' : '0')));
    const corrected = new Map(least.map((r) => [r.row, r.predicted === '0' ? '1' : '0']));
    const labelled = pythonRows(job.output, 'csv', 'sentence').map((r) => r[1]);

    for (const format of ['csv', 'jsonl'] as const) {
      const file = join(out, `cola-dev.reviewed.${format}`);
      await page.getByLabel('Export the reviewed file to').fill(file);
      await page.getByRole('button', { name: 'Export', exact: true }).click();
      await page
        .getByText(`Exported 527 rows (3 labelled by you, 3 of them changing the model's label) to ${file}.`)
        .waitFor({ timeout: 30_000 });
      // The file has its own gold "label" column, so the final label is label_1.
      const rows = await checkExport(file, format, { text: 'sentence', labels: ['0', '1'], label: 'label_1', source: 'label_source' });
      expect(rows.map((r) => r[0])).toEqual(dev.map((f) => f[3]));
      rows.forEach(([, predicted, label, source], i) => {
        expect(predicted).toBe(labelled[i]);
        expect(label).toBe(corrected.get(i) ?? labelled[i]);
        expect(source).toBe(corrected.has(i) ? 'person' : 'model');
      });
    }
    await app.accessible('label');
    await app.shot('6-label', page.getByRole('heading', { name: /^Labelling cola-dev\.csv/ }));
    expect(app.problems).toEqual([]);
  },
);
