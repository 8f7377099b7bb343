/**
 * Reviewing a labelled file the way a person does it (#25 item 4), in Chromium against `sprout serve` on
 * mini-t5-instruct: AG News topics (the published, header-less, fully quoted CSV, sliced by whole lines), a prompt
 * warm-started from the one Hugging Face trained on those topics (so labels look sensible), labelled from the
 * Labelling screen; the keyboard queue (number keys, Enter, S, Backspace, the progress line), the table (review
 * filter, highlighted corrections, every input column, filtering as you type), and the export read by Python.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { debianPython, openpyxlRows } from '../data/helpers.js';
import { checkExport } from '../label/python-export.js';
import { checkVersion } from '../label/python-version.js';
import { repoRoot } from '../serve/spawn-serve.js';
import type { App } from './app.js';
import { shots } from './app.js';
import { startFromHfPrompt } from './hf-prompt.js';
import { percent, score } from '../../renderer/lib/format.js';

const shared = resolve(repoRoot, '../shared');
const model = join(shared, 'fixtures/mini-t5-instruct');
const agNewsLines = readFileSync(join(shared, 'data/ag_news/test.csv'), 'utf8').split(/(?<=\n)/);
/** Topics as Hugging Face's reference run named them: class 1..4 of AG News. */
const TOPICS = { 1: 'world', 2: 'sports', 3: 'business', 4: 'science' };

let app: App;
let out: string;
let runId: number;
/** The file to label: 60 of AG News' held-out rows (6000 on were never training rows of the model or HF's prompt), 40 of them in the dataset. */
let toLabel: string;
let datasetId: number;
let jobId: string;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'sprout-review-'));
  const slice = (from: number, to: number, name: string) => {
    const file = join(out, name);
    writeFileSync(file, agNewsLines.slice(from, to).join(''));
    return file;
  };
  const training = slice(6000, 6240, 'ag-news-6000.csv');
  toLabel = slice(6200, 6260, 'ag-news-6200.csv');
  // Two steps from Hugging Face's prompt: a library prompt with the topic task, labelling as that prompt does.
  ({ app, runId, datasetId } = await startFromHfPrompt({
    shots: 'review',
    model,
    dir: out,
    run: 'topic',
    data: {
      file: training,
      header: false,
      textColumns: ['1', '2'],
      labelColumn: '0',
      template: '{1} {2}',
      split: 0.2,
      testSplit: 0.25,
      name: 'ag news',
    },
    name: 'topics',
    verbalizer: TOPICS,
  }));
}, 120_000);
afterAll(async () => {
  await app?.stop();
});

/** Once the prompt has trained: the Labelling screen, with that prompt and `file`, its columns read. */
async function openInLabelling(file: string): Promise<void> {
  const page = app.page;
  await expect.poll(async () => (await app.call('train.status', { runId })).status, { timeout: 120_000, interval: 250 }).toBe('done');
  const promptId = (await app.call('train.status', { runId })).promptId!;
  await page.getByRole('link', { name: 'Labelling' }).click();
  await page.getByRole('combobox', { name: /^Prompt/ }).selectOption(String(promptId));
  await page.getByLabel('File to label').fill(file);
  await page.getByRole('button', { name: 'Read columns' }).click();
}

it(
  'the queue: one row at a time with every column, number keys, Enter, S and Backspace, a progress line; then the table and the export',
  { timeout: 300_000 },
  async () => {
    const page = app.page;
    app.shotOnFailure('review-failure.png');
    await openInLabelling(toLabel);
    await page.getByRole('checkbox', { name: '1', exact: true }).check();
    await page.getByRole('checkbox', { name: '2', exact: true }).check();
    // Named after the prompt, beside the file.
    await expect.poll(() => page.getByLabel('Write the labelled copy to').inputValue()).toBe(join(out, 'ag-news-6200.topics.labelled.csv'));
    await page.getByRole('button', { name: 'Label the file' }).click();

    const queue = page.getByRole('region', { name: 'Review queue' });
    const progress = queue.getByTestId('queue-progress');
    await expect.poll(() => progress.innerText(), { timeout: 90_000 }).toBe('Reviewed 0 · 60 left · 0 corrected');
    const [job] = await app.call('label.list', {});
    jobId = job.jobId;
    const { rows: order, labels } = await app.call('label.review', { jobId, state: 'unreviewed', limit: 60 });
    expect(labels).toEqual(['1', '2', '3', '4']);
    // The least confident row first, its whole text and every column of the file.
    await expect(queue.getByTestId('queue-text').innerText()).resolves.toBe(order[0].text);
    const columns = queue.getByRole('definition');
    await expect(columns.allInnerTexts()).resolves.toEqual(['0', '1', '2'].map((c) => order[0].fields[c] ?? '–'));
    await app.accessible('review queue');

    // A number key: a label that is not the model's (a correction).
    const key = (r: (typeof order)[number]) => String(labels.findIndex((l) => l !== r.predicted) + 1);
    await queue.press(key(order[0]));
    await expect(queue.getByTestId('queue-text').innerText()).resolves.toBe(order[1].text);
    await queue.press('Enter'); // accepts the model's label for row 2
    await queue.press('s'); // skips row 3
    await expect(queue.getByTestId('queue-text').innerText()).resolves.toBe(order[3].text);
    await queue.press('Backspace'); // takes the skip back
    await expect(queue.getByTestId('queue-text').innerText()).resolves.toBe(order[2].text);
    await queue.press(key(order[2]));
    await queue.press(key(order[3]));
    await queue.press('Backspace'); // takes row 4's label back
    await expect(queue.getByTestId('queue-text').innerText()).resolves.toBe(order[3].text);
    await expect.poll(() => progress.innerText()).toBe('Reviewed 3 · 57 left · 2 corrected');
    const other = (r: (typeof order)[number]) => labels[Number(key(r)) - 1];
    const expected = [
      [order[0].row, other(order[0])],
      [order[1].row, order[1].predicted],
      [order[2].row, other(order[2])],
    ].sort((a, b) => Number(a[0]) - Number(b[0]));
    await expect
      .poll(() =>
        app
          .library<{ row: number; corrected: string }>(
            'SELECT row, corrected FROM label_rows WHERE job_id = ? AND corrected IS NOT NULL ORDER BY row',
            job.jobId,
          )
          .map((r) => [r.row, r.corrected]),
      )
      .toEqual(expected);
    // The README's picture of the queue: the screen scrolled (inside the window) to the review.
    await page.locator('main').evaluate((main) => {
      const head = main.querySelector('.review-head')!;
      main.scrollTop += head.getBoundingClientRect().top - main.getBoundingClientRect().top - 16;
    });
    await page.screenshot({ path: join(shots, 'review-queue.png') });

    // The table: corrected rows only, highlighted, with every input column, the text the model read (title and
    // description) first, where it sat past the right edge; the text filter acts as one types.
    await page.getByRole('button', { name: 'Table', exact: true }).click();
    const table = page.getByRole('table', { name: 'Labelled rows' });
    await expect(table.getByRole('columnheader').allInnerTexts()).resolves.toEqual([
      'Line',
      '1',
      '2',
      'Confidence',
      'Margin',
      'Predicted',
      'Your label',
      '0',
    ]);
    const [description, visible] = await Promise.all([
      table.getByRole('columnheader', { name: '2', exact: true }).boundingBox(),
      page.locator('main').boundingBox(),
    ]);
    expect(description!.x + description!.width).toBeLessThanOrEqual(visible!.x + visible!.width);
    await page.getByRole('combobox', { name: /^Show/ }).selectOption('corrected');
    const shown = page.getByText(/^\d+ rows, least confident first/);
    await expect.poll(() => shown.innerText()).toMatch(/^2 rows,/);
    await expect(table.locator('[data-corrected="true"]').count()).resolves.toBe(2);
    await page.getByRole('combobox', { name: /^Show/ }).selectOption('');
    await expect.poll(() => shown.innerText()).toMatch(/^60 rows,/);
    // Typed without Enter: the count follows the letters.
    const word = order[0].fields['2']!.split(/\s+/)
      .find((w) => /^[A-Za-z]{6,}$/.test(w))!
      .toLowerCase();
    await page.getByLabel('Text contains').pressSequentially(word);
    const matching = agNewsLines.slice(6200, 6260).filter((l) => l.toLowerCase().includes(word)).length;
    await expect.poll(() => shown.innerText()).toMatch(new RegExp(`^${matching} rows,`));
    await app.accessible('review table');

    // The export: the person's labels as `label`, the model's columns untouched, read by Python.
    const exported = join(out, 'ag-news-6200.reviewed.csv');
    await page.getByLabel('Export the reviewed file to').fill(exported);
    await page.getByRole('button', { name: 'Export', exact: true }).click();
    await page
      .getByText(`Exported 60 rows (3 labelled by you, 2 of them changing the model's label) to ${exported}.`)
      .waitFor({ timeout: 30_000 });
    const rows = await checkExport(exported, 'csv', { text: '1', labels, label: 'label', source: 'label_source' });
    expect(rows.flatMap((r, i) => (r[3] === 'person' ? [[i, r[2]]] : []))).toEqual(expected);
    expect(app.problems).toEqual([]);
  },
);

it(
  'train again with the corrections: a dataset version (test texts left out, test split unchanged), a run from the prompt, both prompts on the same test split',
  { timeout: 300_000 },
  async () => {
    const page = app.page;
    app.shotOnFailure('review-retrain-failure.png');
    // Two more labels in the table, as a person finds rows by their words: one whose text is in the dataset's test
    // split (it must stay out of training) and one the dataset lacks (it joins training).
    const texts = (sql: string, ...params: unknown[]) =>
      app.library<{ texts: string }>(sql, ...params).map((r) => (JSON.parse(r.texts) as string[]).join(' '));
    const testTexts = new Set(texts("SELECT texts FROM dataset_rows WHERE dataset_id = ? AND split = 'test'", datasetId));
    const known = new Set(texts('SELECT texts FROM dataset_rows WHERE dataset_id = ?', datasetId));
    const rows = app
      .library<{ row: number; line: number; fields: string; predicted: string; corrected: string | null }>(
        'SELECT row, line, fields, predicted, corrected FROM label_rows WHERE job_id = ? ORDER BY row',
        jobId,
      )
      .map((r) => ({ ...r, fields: JSON.parse(r.fields) as Record<string, string> }))
      .map((r) => ({ ...r, text: `${r.fields['1']} ${r.fields['2']}` }));
    const inTest = rows.find((r) => r.corrected === null && testTexts.has(r.text))!;
    const unknown = rows.find((r) => r.corrected === null && !known.has(r.text))!;
    const search = page.getByLabel('Text contains');
    for (const r of [inTest, unknown]) {
      await search.fill(r.fields['1']);
      const select = page.getByRole('combobox', { name: `Label for line ${r.line}` });
      await select.selectOption(r.fields['0'] === '1' ? '2' : '1');
      await expect
        .poll(
          () =>
            app.library<{ corrected: string }>('SELECT corrected FROM label_rows WHERE job_id = ? AND row = ?', jobId, r.row)[0].corrected,
        )
        .not.toBeNull();
    }

    await page.getByRole('button', { name: 'Train again with my corrections' }).click();
    const version = page.getByTestId('retrain-version');
    await version.waitFor({ timeout: 60_000 });
    const [newSet] = (await app.call('data.list', {})).filter((d) => d.name === 'ag news + corrections');
    const check = checkVersion(join(app.serve.home, 'library.sqlite'), datasetId, newSet.id, jobId, ['1', '2']);
    expect(check.testSame).toBe(true);
    expect(check.leftOut).toBeGreaterThanOrEqual(1);
    expect(check.added).toBeGreaterThanOrEqual(1);
    expect(check.splits).toEqual(newSet.splits);
    await expect(version.innerText()).resolves.toBe(
      `Dataset “ag news + corrections”: 5 texts you labelled — ${check.relabelled} changed an existing row's label, ${5 - check.relabelled - check.added - check.leftOut} agreed with it, ${check.added} added to training, ${check.leftOut} left out (their text is in the test split). Splits: ${check.splits.train} training, ${check.splits.validation} validation, ${check.splits.test} test.`,
    );

    // The run starts from the prompt the job labelled with; its result stands beside that prompt on the same rows.
    const table = page.getByTestId('retrain-comparison');
    await table.waitFor({ timeout: 240_000 });
    const [run] = (await app.call('train.list', {})).filter((r) => r.name === 'topics + corrections');
    const [first] = (await app.call('train.list', {})).filter((r) => r.name === 'topics');
    expect(run.datasetId).toBe(newSet.id);
    expect((await app.call('library.show', { id: run.promptId! })).init).toBe(`prompt:${first.promptId}`);
    await expect(table.locator('caption').innerText()).resolves.toBe(`On the same test split (${newSet.splits.test} rows)`);
    for (const [promptId, column] of [
      [first.promptId!, 1],
      [run.promptId!, 2],
    ] as const) {
      const report = await app.call('eval.report', { promptId, datasetId: newSet.id, split: 'test' });
      expect(report.examples).toBe(newSet.splits.test);
      await expect(
        table
          .locator('tr[data-metric="accuracy"] td')
          .nth(column - 1)
          .innerText(),
      ).resolves.toBe(percent(report.accuracy));
      // Macro-F1 is a score, not a share: a plain number, as the Evaluate step shows it.
      const f1 = table.locator('tr[data-metric="macroF1"] td');
      await expect(f1.nth(column - 1).innerText()).resolves.toBe(score(report.macroF1));
    }
    await app.accessible('train again');
    await app.shot('retrain', page.getByRole('heading', { name: 'Train again with my corrections' }));
    expect(app.problems).toEqual([]);
  },
);

it(
  'a workbook from the Labelling screen: the sheet found past a notes sheet, the later one chosen, labelled into a workbook on that sheet',
  { timeout: 120_000 },
  async () => {
    const page = app.page;
    app.shotOnFailure('review-workbook-failure.png');
    const book = join(out, 'news.xlsx');
    debianPython(
      `import csv, sys, openpyxl
rows = list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))
b = openpyxl.Workbook()
b.active.title = 'About'
b.active.append(['News to sort, from the wire'])
for name, part in (('news', rows[6300:6330]), ('later', rows[6330:6355])):
    s = b.create_sheet(name)
    s.append(['class', 'title', 'description'])
    for r in part: s.append([int(r[0]), r[1], r[2]])
b.save(sys.argv[2])`,
      join(shared, 'data/ag_news/test.csv'),
      book,
    );
    await openInLabelling(book);
    await expect
      .poll(() => page.getByRole('combobox', { name: 'Sheet' }).locator('option').allInnerTexts())
      .toEqual(['Detect (found: news)', 'About', 'news', 'later']);
    // The later sheet, chosen: the job must read it too (the request's reading options reach the worker).
    await page.getByRole('combobox', { name: 'Sheet' }).selectOption('later');
    await expect.poll(() => page.getByRole('combobox', { name: 'Sheet' }).locator('option').first().innerText()).toBe('Detect');
    for (const c of ['title', 'description']) await page.getByRole('checkbox', { name: c, exact: true }).check();
    // A workbook is labelled into a workbook, as the CLI does.
    const format = page.getByRole('combobox', { name: 'Output format' });
    await expect.poll(() => format.inputValue()).toBe('xlsx');
    const output = join(out, 'news.topics.labelled.xlsx');
    // A name typed with another format's extension sets the format it says.
    const typed = page.getByLabel('Write the labelled copy to');
    await expect.poll(() => typed.inputValue()).toBe(output);
    await typed.fill(join(out, 'news.csv'));
    await expect.poll(() => format.inputValue()).toBe('csv');
    await typed.fill(output);
    await expect.poll(() => format.inputValue()).toBe('xlsx');
    await expect.poll(() => page.getByLabel('Write the labelled copy to').inputValue()).toBe(output);
    const jobs = (await app.call('label.list', {})).length;
    await page.getByRole('button', { name: 'Label the file' }).click();
    await expect.poll(async () => (await app.call('label.list', {})).length, { timeout: 30_000 }).toBe(jobs + 1);
    const job = (await app.call('label.list', {})).find((j) => j.output === output)!;
    await expect.poll(async () => (await app.call('label.status', { jobId: job.jobId })).status, { timeout: 90_000 }).toBe('done');
    const [header, ...rows] = openpyxlRows(output, 'later').map((r) => r.cells);
    const labelled = rows.map((r) => [r[header.indexOf('title')], r[header.indexOf('predicted_label')]]);
    expect(labelled.map(([title]) => title)).toEqual(
      openpyxlRows(book, 'later')
        .slice(1)
        .map((r) => r.cells[1]),
    );
    expect(labelled.every(([, label]) => Object.keys(TOPICS).includes(label))).toBe(true);

    // Home lists each job with the file it wrote; its link opens that job, not just the Labelling screen.
    await page.getByRole('link', { name: 'Home' }).click();
    const first = page.getByRole('listitem').filter({ hasText: 'ag-news-6200.csv →' });
    await expect.poll(() => first.locator('code').innerText()).toBe('ag-news-6200.topics.labelled.csv');
    await first.getByRole('link', { name: 'ag-news-6200.csv' }).click();
    await page.getByRole('heading', { name: /^Labelling ag-news-6200\.csv/ }).waitFor();
    // Opening a job leaves the form as it was: it took the job's output, and labelling then offered to replace it.
    await expect(page.getByLabel('Write the labelled copy to').inputValue()).resolves.toBe(output);
    expect(app.problems).toEqual([]);
  },
);
