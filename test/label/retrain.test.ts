/**
 * "Train again with my corrections" builds a dataset version (#25 item 5): the original rows plus the reviewed rows,
 * the person's label winning; reviewed rows whose text is in the test split stay out of training; the test split
 * copied unchanged. The dataset is AG News' held-out rows as published (header-less, fully quoted CSV, sliced by
 * whole lines); the labelled file is a CSV Python writes from overlapping rows under other column names. The
 * version is checked by python3's sqlite3 against the rule recomputed in Python.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDataset } from '../../main/library/import-dataset.js';
import { startLabelJob, type LabelEngine } from '../../main/label/job.js';
import { buildCorrectionsVersion, retrainBlocker } from '../../main/label/retrain.js';
import { getJob } from '../../main/label/jobs.js';
import { listReviewRows, recordCorrection } from '../../main/label/review.js';
import type { LabelTask } from '../../main/label/types.js';
import { libraryPath } from '../../main/library/db.js';
import { loadDatasetRows } from '../../main/library/datasets.js';
import { insertPrompt } from '../../main/library/prompts.js';
import { insertTask } from '../../main/library/tasks.js';
import { checkVersion } from './python-version.js';
import { data, fixedPrompt, freshLibrary, tempDir, tinyEngine, tinyModel } from './helpers.js';

const topicTask: LabelTask = {
  kind: 'classification',
  labels: ['1', '2', '3', '4'],
  verbalisers: ['world', 'sports', 'business', 'science'],
  template: '{1} {2}',
};
const lines = readFileSync(data('ag_news/test.csv'), 'utf8').split(/(?<=\n)/);

let engine: LabelEngine;
beforeAll(async () => {
  engine = await tinyEngine(topicTask);
});
afterAll(() => engine.model.dispose());

describe("a dataset version from a job's reviewed rows", () => {
  it("keeps the original rows, lets the person's label win, adds new texts to training, leaves test texts out and copies the test split", async () => {
    const { home, db } = freshLibrary();
    const dir = tempDir();
    const original = join(dir, 'ag-news-6000.csv');
    writeFileSync(original, lines.slice(6000, 6120).join(''));
    const { id: datasetId } = await importDataset(db, original, {
      header: false,
      textColumns: ['1', '2'],
      labelColumn: '0',
      template: '{1} {2}',
      split: 0.2,
      testSplit: 0.2,
      name: 'ag news',
    });
    const task = insertTask(db, {
      name: 'topics',
      datasetId,
      template: '{1} {2}',
      verbalizer: { 1: 'world', 2: 'sports', 3: 'business', 4: 'science' },
      labelSet: topicTask.labels,
    });
    const prompt = engine.prompts[0].prompt;
    const promptId = insertPrompt(db, {
      name: 'topics',
      model: { id: null, path: tinyModel, summary: null },
      length: prompt.length,
      dModel: engine.model.config.dModel,
      embedding: fixedPrompt(engine.model, prompt.length, 1).data,
      init: 'vocab',
      taskId: task.id,
    });

    // The file to label: rows 6100–6139 (20 of them in the dataset, 20 new) as Python writes them, columns renamed.
    const file = join(dir, 'to-label.csv');
    execFileSync('python3', [
      '-c',
      'import csv, sys\nrows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))\nwith open(sys.argv[2], "w", newline="", encoding="utf-8") as f:\n    w = csv.writer(f)\n    w.writerow(["title", "body", "topic"])\n    for r in rows[6100:6140]: w.writerow([r[1], r[2], r[0]])',
      data('ag_news/test.csv'),
      file,
    ]);
    const job = await startLabelJob(
      db,
      { ...engine, prompts: [{ ...engine.prompts[0], ref: `prompt:${promptId}` }] },
      { input: file, output: join(dir, 'labelled.csv'), textColumns: ['title', 'body'] },
    );

    // Corrections: a row of each split and a new one, each to a label other than the dataset's (or the file's own).
    const texts = (split: 'train' | 'validation' | 'test') => new Map(loadDatasetRows(db, datasetId, split).map((r) => [r.text, r.label]));
    const bySplit = { train: texts('train'), validation: texts('validation'), test: texts('test') };
    const rows = listReviewRows(db, job.job_id, { limit: 100 }).rows;
    const pick = (where: (text: string) => boolean) => rows.find((r) => where(r.text))!;
    const inSplit = (s: keyof typeof bySplit) => pick((t) => bySplit[s].has(t));
    const fresh = pick((t) => !Object.values(bySplit).some((m) => m.has(t)));
    const chosen = [inSplit('train'), inSplit('validation'), inSplit('test'), fresh];
    for (const r of chosen)
      recordCorrection(
        db,
        job.job_id,
        r.row,
        topicTask.labels.find((l) => l !== r.fields.topic)!,
      );

    // Inserted here rather than trained, the prompt has no run whose settings a new one would take: the app says so
    // before the button is pressed. The version itself can be built all the same.
    expect(retrainBlocker(db, getJob(db, job.job_id)!)).toBe(
      'The prompt "topics" was not trained in Sprout, so there are no settings to train it again with. ' +
        'Start a run in the Train step on the new dataset, with this prompt as its start.',
    );
    const version = buildCorrectionsVersion(db, job.job_id);
    expect(version.report).toMatchObject({
      parent: datasetId,
      labelJob: job.job_id,
      promptId,
      reviewed: 4,
      relabelled: 2,
      unchanged: 0,
      added: 1,
      leftOut: 1,
    });
    db.close();

    // Python rebuilds the version from the parent's rows and the job's corrections, and compares it with the library's.
    expect(checkVersion(libraryPath(home), datasetId, version.datasetId, job.job_id, ['title', 'body'])).toEqual({
      testSame: true,
      added: 1,
      leftOut: 1,
      relabelled: 2,
      splits: version.report.splits,
    });
    expect(version.report.splits.train + version.report.splits.validation + version.report.splits.test).toBe(121);
  });
});
