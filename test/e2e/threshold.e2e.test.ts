/**
 * Must show for #25 item 3, in Chromium against `sprout serve`: SST-2's dev TSV as published (header, sliced by whole
 * lines), a prompt two steps on from Hugging Face's SST-2 prompt on mini-t5-instruct. The Evaluate step draws
 * precision and recall of "0" against the threshold, previews and keeps the threshold for a target recall, and then
 * scores with it and names it; a labelling job answers by it, its page names it, and its export (read by python3)
 * carries it in threshold_0 with every row answered by it. The stored threshold is read from library.sqlite.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadTokenizer } from '../../main/tokenizer/index.js';
import { checkExport } from '../label/python-export.js';
import { repoRoot } from '../serve/spawn-serve.js';
import type { App } from './app.js';
import {} from './app.js';
import { startFromHfPrompt } from './hf-prompt.js';
import { percent } from '../../renderer/lib/format.js';

const shared = resolve(repoRoot, '../shared');
const model = join(shared, 'fixtures/mini-t5-instruct');
const sst2 = readFileSync(join(shared, 'data/sst2/dev.tsv'), 'utf8').split(/(?<=\n)/);

let app: App;
let out: string;
let runId: number;
let datasetId: number;
let toLabel: string;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'sprout-threshold-'));
  const slice = (from: number, to: number, name: string) => {
    const file = join(out, name);
    writeFileSync(file, [sst2[0], ...sst2.slice(from, to)].join(''));
    return file;
  };
  const training = slice(1, 241, 'sst2-dev-240.tsv');
  toLabel = slice(241, 281, 'sst2-dev-241.tsv');
  ({ app, runId, datasetId } = await startFromHfPrompt({
    shots: 'threshold',
    model,
    dir: out,
    run: 'sst2',
    data: {
      file: training,
      textColumns: ['sentence'],
      labelColumn: 'label',
      template: '{sentence}',
      split: 0.4,
      testSplit: 0.2,
      name: 'sst2',
    },
    name: 'sentiment',
    verbalizer: { 0: 'negative', 1: 'positive' },
  }));
}, 120_000);
afterAll(async () => {
  await app?.stop();
});

it(
  'the Evaluate step: the curve, a threshold for a target recall kept with the prompt, the evaluation and a labelling job answering by it',
  { timeout: 300_000 },
  async () => {
    const page = app.page;
    app.shotOnFailure('threshold-failure.png');
    await expect.poll(async () => (await app.call('train.status', { runId })).status, { timeout: 120_000, interval: 250 }).toBe('done');
    const promptId = (await app.call('train.status', { runId })).promptId!;
    await page.goto(app.serve.url);
    await page.getByRole('button', { name: 'Open run sentiment' }).click();
    await page.getByRole('button', { name: 'Next: Evaluate' }).click();
    await page.getByRole('table', { name: /Confusion matrix/ }).waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('eval-decision').count()).resolves.toBe(0);

    await page.getByRole('button', { name: 'Show precision and recall against the threshold' }).click();
    const panel = page.getByRole('region', { name: 'Decision threshold' });
    await panel.getByRole('combobox', { name: 'Label to find' }).selectOption('0');
    await panel.getByRole('img', { name: /^Precision and recall of "0" against the threshold/ }).waitFor({ timeout: 60_000 });
    await expect.poll(() => panel.getByRole('combobox', { name: 'Label to find' }).inputValue()).toBe('0');
    const view = await app.call('prompt.thresholdCurve', { promptId, positive: '0' });
    await expect(panel.getByTestId('threshold-at-half').innerText()).resolves.toBe(
      `${view.curve.examples} validation rows, ${view.curve.positives} of them "0". The more probable label (threshold 0.5): precision ${percent(view.atHalf.precision)}, recall ${percent(view.atHalf.recall)}.`,
    );
    await panel.getByRole('combobox', { name: 'Choose by' }).selectOption('recall');
    await panel.getByRole('spinbutton', { name: 'Target recall' }).fill('90');
    // The preview follows the engine's rule: the highest threshold whose recall of "0" reaches 90 %.
    const point = view.curve.points.find((p) => p.recall >= 0.9)!;
    await expect
      .poll(() => panel.getByTestId('threshold-preview').innerText())
      .toBe(
        `Threshold ${Number(point.threshold.toPrecision(4))}: precision ${percent(point.precision)}, recall ${percent(point.recall)}, ${point.predicted} of ${view.curve.examples} rows answered "0".`,
      );
    // The chart marks the previewed threshold; its legend gives no "last value", which means nothing over a threshold.
    const chart = panel.locator('figure.chart');
    await expect(chart.locator('text.rule-label').textContent()).resolves.toBe(String(Number(point.threshold.toPrecision(4))));
    await expect(chart.locator('figcaption').innerText()).resolves.toMatch(/^Precision \(left axis\)\s+Recall \(right axis\)$/);
    await panel.getByRole('button', { name: 'Use this threshold' }).click();
    const rule = `"0" when p(0) ≥ ${Number(point.threshold.toPrecision(4))}, else "1"`;
    await expect
      .poll(() => panel.getByTestId('threshold-stored').innerText(), { timeout: 60_000 })
      .toBe(
        `Kept with the prompt: ${rule} (a target recall: ${percent(0.9)}); on ${view.curve.examples} validation rows precision ${percent(point.precision)}, recall ${percent(point.recall)}.`,
      );
    const stored = JSON.parse(
      execFileSync(
        'python3',
        [
          '-c',
          'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT decision FROM prompts WHERE id = ?", (int(sys.argv[2]),)).fetchone()[0])',
          join(app.serve.home, 'library.sqlite'),
          String(promptId),
        ],
        { encoding: 'utf8' },
      ),
    ) as { positive: string; threshold: number; chosenBy: string; target: number };
    expect(stored).toMatchObject({ positive: '0', threshold: point.threshold, chosenBy: 'recall', target: 0.9 });
    // The evaluation is scored again with the threshold, and says so.
    await expect
      .poll(() => page.getByTestId('eval-decision').innerText(), { timeout: 60_000 })
      .toBe(`Answered by the prompt's decision threshold: ${rule}.`);
    await app.accessible('threshold');
    await app.shot('chart', page.getByRole('heading', { name: 'Decision threshold' }));

    // Labelling with the prompt answers by the threshold; the page and the exported file name it.
    await page.getByRole('link', { name: 'Labelling' }).click();
    await page.getByRole('combobox', { name: /^Prompt/ }).selectOption(String(promptId));
    await page.getByLabel('File to label').fill(toLabel);
    await page.getByRole('button', { name: 'Read columns' }).click();
    await page.getByRole('checkbox', { name: 'sentence', exact: true }).check();
    await page.getByRole('button', { name: 'Label the file' }).click();
    await expect
      .poll(() => page.getByTestId('job-decision').innerText(), { timeout: 90_000 })
      .toBe(`Decision threshold: ${rule} (the threshold_… column of the labelled file).`);
    await page.getByRole('region', { name: 'Review queue' }).waitFor({ timeout: 90_000 });
    const exported = join(out, 'sst2-dev-241.exported.csv');
    await page.getByLabel('Export the reviewed file to').fill(exported);
    await page.getByRole('button', { name: 'Export', exact: true }).click();
    await page.getByText(`Exported 40 rows (all as the model labelled them) to ${exported}.`).waitFor({ timeout: 30_000 });
    // python3 checks every row against its threshold_0 column; the column holds the stored threshold. The input's own
    // gold column is `label`, so the final label is `label_1`.
    const rows = await checkExport(exported, 'csv', { text: 'sentence', labels: ['0', '1'], label: 'label_1', source: 'label_source' });
    expect(rows.length).toBe(40);
    const column = execFileSync(
      'python3',
      [
        '-c',
        'import csv, sys; print(sorted({r["threshold_0"] for r in csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8"))}))',
        exported,
      ],
      { encoding: 'utf8' },
    ).trim();
    expect(column).toBe(`['${point.threshold}']`);
    // SST-2's labels are digits: each is picked by its own digit, where by place the key 1 picked the label 0.
    const queue = page.getByRole('region', { name: 'Review queue' });
    await expect(queue.getByRole('group', { name: 'Your label' }).locator('kbd').allInnerTexts()).resolves.toEqual(['0', '1']);
    await expect(queue.innerText()).resolves.toContain('Keys: a label’s own digit picks it');
    const [job] = await app.call('label.list', {});
    const [first] = (await app.call('label.review', { jobId: job.jobId, state: 'unreviewed', limit: 1 })).rows;
    await queue.press('1');
    await expect
      .poll(async () => (await app.call('label.review', { jobId: job.jobId, state: 'reviewed' })).rows.map((r) => [r.row, r.corrected]))
      .toEqual([[first.row, '1']]);
    expect(app.problems).toEqual([]);
  },
);

it(
  'a prompt trained on inputs cut to 12 tokens: the Evaluate step and the finished labelling job say how many rows were cut there',
  { timeout: 300_000 },
  async () => {
    const page = app.page;
    app.shotOnFailure('threshold-cut-failure.png');
    const LIMIT = 12;
    const from = (await app.call('train.status', { runId })).promptId!;
    const { runId: short } = await app.call('train.start', {
      name: 'sentiment cut',
      modelId: (await app.call('model.list', {}))[0].id,
      datasetId,
      verbalizer: { 0: 'negative', 1: 'positive' },
      init: `prompt:${from}`,
      promptLength: 20,
      batchSize: 4,
      steps: 2,
      evalEvery: 2,
      evalLimit: 8,
      maxInputLength: LIMIT,
      seed: 1,
    });
    await expect
      .poll(async () => (await app.call('train.status', { runId: short })).status, { timeout: 120_000, interval: 250 })
      .toBe('done');
    // Rows over the limit, eos included as the limit counts it, with the model's tokenizer: the test split's texts, then the file's.
    const tokenizer = await loadTokenizer(model);
    const over = (texts: string[]) => texts.filter((t) => tokenizer.encode(t).length > LIMIT).length;
    const testTexts = app
      .library<{ texts: string }>("SELECT texts FROM dataset_rows WHERE dataset_id = ? AND split = 'test'", datasetId)
      .map((r) => (JSON.parse(r.texts) as string[])[0]);
    const fileTexts = readFileSync(toLabel, 'utf8')
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((line) => line.split('\t')[0]);
    const [cutInTest, cutInFile] = [over(testTexts), over(fileTexts)];
    expect([cutInTest, cutInFile].every((n) => n > 0)).toBe(true);
    const rows = (n: number) => (n === 1 ? '1 row was' : `${n} rows were`);

    await page.goto(app.serve.url);
    await page.getByRole('button', { name: 'Open run sentiment cut' }).click();
    await page.getByRole('button', { name: 'Next: Evaluate' }).click();
    await expect
      .poll(() => page.getByTestId('input-note').innerText(), { timeout: 60_000 })
      .toBe(`${rows(cutInTest)} longer than ${LIMIT} tokens: each was scored on its first ${LIMIT - 1} tokens and the end-of-text token.`);

    const promptId = (await app.call('train.status', { runId: short })).promptId!;
    await page.getByRole('link', { name: 'Labelling' }).click();
    await page.getByRole('combobox', { name: /^Prompt/ }).selectOption(String(promptId));
    await page.getByLabel('File to label').fill(toLabel);
    await page.getByRole('button', { name: 'Read columns' }).click();
    await page.getByRole('checkbox', { name: 'sentence', exact: true }).check();
    await page.getByLabel('Write the labelled copy to').fill(join(out, 'sst2-dev-241.cut.csv'));
    await page.getByRole('button', { name: 'Label the file' }).click();
    await expect
      .poll(() => page.getByTestId('rows-note').innerText(), { timeout: 90_000 })
      .toBe(
        `${rows(cutInFile)} longer than ${LIMIT} tokens: each was labelled on its first ${LIMIT - 1} tokens and the end-of-text token.`,
      );
    expect(app.problems).toEqual([]);
  },
);
