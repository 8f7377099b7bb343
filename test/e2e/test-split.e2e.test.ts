/**
 * The headline is the test split (#25 item 1), in Chromium against `sprout serve` on mini-t5-instruct: AG News topics
 * (the published header-less, fully quoted CSV, sliced by whole lines from the rows the model never learned from)
 * imported through the Data step with its default shares held out for validation and for testing, a short run
 * warm-started from Hugging Face's topic prompt (so the prompt has learned), and what a person reads afterwards: the
 * Train step headlines the test score and names the validation score as what chose the step, Evaluate says it
 * scored the test split, the library and Home say "on test". What the library stored is read with Python's
 * sqlite3/json, the file's rows with Python's csv. The Train step's picture is the README's. Then SST-2's dev TSV
 * (with its header, as published) through the Data step with a fifth held out for testing, checked the same way.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { repoRoot } from '../serve/spawn-serve.js';
import { App } from './app.js';
import { hfReferencePrompt } from './hf-prompt.js';
import { percent, score } from '../../renderer/lib/format.js';

const shared = resolve(repoRoot, '../shared');
const model = join(shared, 'fixtures/mini-t5-instruct');
/** Topics as Hugging Face's reference run named them: class 1..4 of AG News. */
const TOPICS = { 1: 'world', 2: 'sports', 3: 'business', 4: 'science' };

let app: App;
let out: string;
let file: string;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'sprout-test-split-'));
  // 400 of the 1,600 rows held out of the model's instruction tuning and of Hugging Face's prompt tuning.
  file = join(out, 'ag-news-6000.csv');
  writeFileSync(
    file,
    readFileSync(join(shared, 'data/ag_news/test.csv'), 'utf8')
      .split(/(?<=\n)/)
      .slice(6000, 6400)
      .join(''),
  );
  app = await App.start('test-split');
  await app.call('settings.set', { defaultDevice: 'cpu', threads: 1 });
}, 60_000);
afterAll(async () => {
  await app?.stop();
});

/** Python's sqlite3/json: the prompt's stored test score and the labels of the dataset's test rows; csv: the file's rows. */
function python(
  promptId: number,
  datasetId: number,
): {
  test: { examples: number; rank_accuracy: number; step: number; majority: { share: number } };
  testLabels: Record<string, number>;
  rows: number;
} {
  const script = `
import csv, json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
metrics = json.loads(db.execute('SELECT metrics FROM prompts WHERE id = ?', (int(sys.argv[2]),)).fetchone()[0])
labels = dict(db.execute("SELECT label, COUNT(*) FROM dataset_rows WHERE dataset_id = ? AND split = 'test' GROUP BY label", (int(sys.argv[3]),)).fetchall())
with open(sys.argv[4], newline='', encoding='utf-8') as f:
    rows = sum(1 for r in csv.reader(f) if r)
print(json.dumps({'test': metrics['test'], 'testLabels': labels, 'rows': rows}))`;
  return JSON.parse(
    execFileSync('python3', ['-c', script, join(app.serve.home, 'library.sqlite'), String(promptId), String(datasetId), file], {
      encoding: 'utf8',
    }),
  ) as ReturnType<typeof python>;
}

it(
  'AG News with a test split: the Train step, Evaluate, the library and Home headline the kept prompt on the test rows',
  { timeout: 240_000 },
  async () => {
    const page = app.page;
    app.shotOnFailure('test-split-failure.png');
    const modelId = (await app.call('model.import', { path: model })).id;
    const hf = await app.call('library.importPeft', { dir: hfReferencePrompt(model, out, 'topic'), name: 'hf topic', modelId });

    // Data: the file as published, the Data step's default shares (10 % for validation, 10 % for testing).
    await page.reload();
    await page.getByRole('button', { name: 'New task' }).click();
    await page.getByRole('radio', { name: /mini-t5-instruct/ }).check();
    await page.getByRole('button', { name: 'Next: Data' }).click();
    await page.getByLabel('Training file').fill(file);
    await page.getByLabel('Training file').press('Enter');
    await page.getByRole('table', { name: 'First rows' }).waitFor({ timeout: 30_000 });
    await page.getByRole('combobox', { name: /^First row/ }).selectOption('no');
    await page.getByLabel('Label column').selectOption('0');
    await page.getByLabel('Target text for label 4').waitFor();
    for (const c of ['1', '2']) await page.getByRole('checkbox', { name: c, exact: true }).check();
    await page.getByLabel(/Input template/).fill('{1} {2}');
    for (const [label, word] of Object.entries(TOPICS)) await page.getByLabel(`Target text for label ${label}`).fill(word);
    await expect(page.getByText(`Held out for testing: ${percent(0.1, 0)}`).count()).resolves.toBe(1);
    await page.getByLabel('Dataset name').fill('ag news');
    await page.getByRole('button', { name: 'Import into the library' }).click();
    await page.getByRole('heading', { name: /Imported “ag news”/ }).waitFor({ timeout: 60_000 });
    const [dataset] = (await app.call('data.list', {})).filter((d) => d.name === 'ag news');
    expect(dataset.splits.test).toBeGreaterThan(30);

    // A short run from Hugging Face's prompt, opened from Home once it has ended.
    const { runId } = await app.call('train.start', {
      name: 'topics',
      modelId,
      datasetId: dataset.id,
      verbalizer: TOPICS,
      init: `prompt:${hf.id}`,
      promptLength: 20,
      batchSize: 4,
      steps: 2,
      evalEvery: 2,
      lr: 0.01,
      seed: 1,
    });
    await expect.poll(async () => (await app.call('train.status', { runId })).status, { timeout: 150_000, interval: 250 }).toBe('done');
    const status = await app.call('train.status', { runId });
    const promptId = status.promptId!;
    const test = status.test!;
    expect(test.examples).toBe(dataset.splits.test);
    expect(status.best!.examples).toBe(dataset.splits.validation);

    await page.getByRole('link', { name: 'Home' }).click();
    const homeRow = page.getByRole('row', { name: /topics/ });
    const shown = percent(test.rank_accuracy!);
    await expect(homeRow.innerText()).resolves.toContain(`accuracy ${shown} on test`);
    await page.getByRole('button', { name: 'Open run topics' }).click();
    await page.getByRole('heading', { name: '4. Train' }).waitFor();
    await expect(page.getByTestId('headline-metric').innerText()).resolves.toBe(shown);
    await expect(page.getByText(`test accuracy (${test.examples} held-out examples, prompt of step ${test.step})`).count()).resolves.toBe(
      1,
    );
    await expect(page.getByTestId('validation-metric').innerText()).resolves.toBe(percent(status.best!.rank_accuracy!));
    await expect(page.getByTestId('test-note').innerText()).resolves.toBe(
      'The headline is the kept prompt scored once on the test split, which neither trained it nor chose its step.',
    );
    await expect(page.getByTestId('optimistic-note').count()).resolves.toBe(0);
    // The baselines beside it are the test rows' own: their majority class, and the run's initial prompt on them.
    await expect(page.getByTestId('baseline-majority').innerText()).resolves.toContain(
      `(${percent(test.majority!.share)} of the examples)`,
    );
    const zeroShot = test.zero_shot!;
    expect(zeroShot).toMatchObject({ step: 0, examples: test.examples });
    const zeroShotLine = `accuracy ${percent(zeroShot.rank_accuracy)}, macro-F1 ${score(zeroShot.macro_f1)}, MCC ${score(zeroShot.mcc)}`;
    await expect(page.getByTestId('baseline-zero-shot').innerText()).resolves.toBe(zeroShotLine);
    // The run's two steps are whole steps on the chart's axis: 0, 1, 2, not 0, 0.5, … 2.
    await expect(page.locator('figure.chart text.tick.x').allTextContents()).resolves.toEqual(['0', '1', '2']);
    // Accuracy's axis reads in percent, as its legend and the headline do, not 0.2 … 1.0.
    await expect(page.locator('figure.chart text.tick.y-right').allTextContents()).resolves.toEqual(
      [0, 20, 40, 60, 80, 100].map((p) => `${p}\u00a0%`),
    );
    await app.accessible('train with a test split');
    await app.shot('headline', page.getByRole('heading', { name: '4. Train' }));

    // Evaluate: the test split, the same figures.
    await page.getByRole('button', { name: 'Next: Evaluate' }).click();
    await expect(page.getByTestId('eval-split').innerText({ timeout: 90_000 })).resolves.toBe(
      `Scored on the ${test.examples} test examples held out at import: they neither trained the prompt nor chose its step, so this is the score to report.`,
    );
    await expect(page.locator('[data-metric="accuracy"]').innerText()).resolves.toBe(shown);
    // The dataset's own test split: the run's zero-shot baseline of these rows, as the Train step gave it.
    await expect(page.getByTestId('baseline-zero-shot').innerText()).resolves.toBe(zeroShotLine);
    const report = await app.call('eval.report', { promptId });
    expect([report.split, report.examples, report.accuracy]).toEqual(['test', test.examples, expect.closeTo(test.rank_accuracy!, 6)]);

    // The library: the prompt's headline is its test score.
    await page.getByRole('link', { name: 'Library' }).click();
    await page.getByText(`accuracy ${shown} on test`).first().waitFor();

    // On disk, by Python: the stored test score counts the dataset's test rows; the three splits hold every row.
    const stored = python(promptId, dataset.id);
    expect(stored.test.examples).toBe(test.examples);
    expect(stored.test.rank_accuracy).toBe(test.rank_accuracy);
    expect(Object.values(stored.testLabels).reduce((a, b) => a + b, 0)).toBe(test.examples);
    expect(stored.test.majority.share).toBeCloseTo(Math.max(...Object.values(stored.testLabels)) / test.examples, 6);
    expect(dataset.splits.train + dataset.splits.validation + dataset.splits.test).toBe(stored.rows);
    expect(app.problems).toEqual([]);
  },
);

/** Python's csv and sqlite3: each label's rows in the file, and each split's rows per label and texts on two sides. */
function pythonSplits(
  file: string,
  datasetId: number,
): { file: Record<string, number>; splits: Record<string, Record<string, number>>; crossing: number } {
  const script = `
import csv, json, sqlite3, sys
with open(sys.argv[1], newline='', encoding='utf-8') as f:
    rows = list(csv.DictReader(f, delimiter='\\t', quoting=csv.QUOTE_NONE))
counts = {}
for r in rows: counts[r['label']] = counts.get(r['label'], 0) + 1
db = sqlite3.connect(sys.argv[2])
splits = {}
for split, label, n in db.execute('SELECT split, label, COUNT(*) FROM dataset_rows WHERE dataset_id = ? GROUP BY split, label', (int(sys.argv[3]),)):
    splits.setdefault(split, {})[label] = n
crossing = db.execute('SELECT COUNT(*) FROM (SELECT texts FROM dataset_rows WHERE dataset_id = ? GROUP BY texts HAVING COUNT(DISTINCT split) > 1)', (int(sys.argv[3]),)).fetchone()[0]
print(json.dumps({'file': counts, 'splits': splits, 'crossing': crossing}))`;
  return JSON.parse(
    execFileSync('python3', ['-c', script, file, join(app.serve.home, 'library.sqlite'), String(datasetId)], { encoding: 'utf8' }),
  ) as ReturnType<typeof pythonSplits>;
}

it(
  'SST-2 in the Data step: a fifth of each class held out for testing by unique text, as the page says and Python counts',
  { timeout: 60_000 },
  async () => {
    const page = app.page;
    app.shotOnFailure('test-split-sst2-failure.png');
    const sst2 = join(shared, 'data/sst2/dev.tsv');
    await page.getByRole('link', { name: 'Home' }).click();
    // The model chosen for the first task is kept: a new task starts at its data.
    await page.getByRole('button', { name: 'New task' }).click();
    await page.getByRole('heading', { name: '2. Data' }).waitFor();
    await page.getByLabel('Training file').fill(sst2);
    await page.getByLabel('Training file').press('Enter');
    await page.getByRole('table', { name: 'First rows' }).waitFor({ timeout: 30_000 });
    await page.getByLabel('Label column').selectOption('label');
    await page.getByLabel('Target text for label 1').waitFor();
    await page.getByRole('checkbox', { name: 'sentence', exact: true }).check();
    await page.getByLabel(/^Held out for testing/).fill('0.2');
    await expect(page.getByText(`Held out for testing: ${percent(0.2, 0)}`).count()).resolves.toBe(1);
    await page.getByLabel('Dataset name').fill('sst2 dev');
    await page.getByRole('button', { name: 'Import into the library' }).click();
    await page.getByRole('heading', { name: /Imported “sst2 dev”/ }).waitFor({ timeout: 60_000 });
    const [dataset] = (await app.call('data.list', {})).filter((d) => d.name === 'sst2 dev');
    await expect(page.getByTestId('test-rows').innerText()).resolves.toBe(String(dataset.splits.test));
    await expect(page.getByTestId('split-note').innerText()).resolves.toMatch(/ and 20\u00a0% for testing of each class, by unique text/);

    const counted = pythonSplits(sst2, dataset.id);
    expect(counted.crossing).toBe(0);
    for (const [label, n] of Object.entries(counted.file)) {
      const kept = ['train', 'validation', 'test'].map((s) => counted.splits[s]?.[label] ?? 0);
      expect(kept.reduce((a, b) => a + b, 0)).toBe(n);
      // A fifth of each class, give or take the copies of a repeated text that stay together.
      expect(Math.abs(kept[2] / n - 0.2)).toBeLessThan(0.02);
    }
    expect(Object.values(counted.splits.test).reduce((a, b) => a + b, 0)).toBe(dataset.splits.test);
    expect(app.problems).toEqual([]);
  },
);
