/**
 * Export after review, for every output format, checked with python3's csv/json modules (Parquet read with hyparquet
 * into JSON Lines first: python3 here has no Parquet reader, no pyarrow): no exported row contradicts itself.
 * Inputs are real files: CoLA's headerless, quote-less in_domain_dev.tsv as it is, a CSV made from it whose text
 * column has another name and position, and CB's validation JSON Lines (three labels, its own `label` column).
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportCorrected } from '../../main/label/export.js';
import { startLabelJob, type LabelEngine } from '../../main/label/job.js';
import { getJob } from '../../main/label/jobs.js';
import { listReviewRows, recordCorrection } from '../../main/label/review.js';
import { outputFormatFromName, type OutputFormat } from '../../main/choices.js';
import type { LabelTask } from '../../main/label/types.js';
import { tsvLines } from '../data/helpers.js';
import { checkExport } from './python-export.js';
import { pythonRows } from './python-rows.js';
import { openLibrary, libraryPath } from '../../main/library/db.js';
import { cbTask, data, freshLibrary, repoRoot, tempDir, tinyEngine, tinyModel } from './helpers.js';
import { writePromptFiles } from './prompt-fixture.js';

/** A prompt trained on CoLA as Sprout imports it: headerless, the sentence in column "3". */
const colaTask: LabelTask = {
  kind: 'classification',
  labels: ['0', '1'],
  verbalisers: ['unacceptable', 'acceptable'],
  template: 'sentence: {3}',
};
const dev = data('cola/in_domain_dev.tsv');
const sentences = tsvLines(dev).map((f) => f[3]);

let engine: LabelEngine;
beforeAll(async () => {
  engine = await tinyEngine(colaTask);
});
afterAll(() => engine.model.dispose());

/** Labels `input`, corrects its three least confident rows to the other label, and returns what was corrected. */
async function labelAndCorrect(db: ReturnType<typeof freshLibrary>['db'], input: string, output: string, textColumns?: string[]) {
  const summary = await startLabelJob(db, engine, {
    input,
    output,
    format: outputFormatFromName(output),
    textColumns,
    overwrite: true,
    batchSize: 64,
  });
  const least = listReviewRows(db, summary.job_id, { limit: 3 }).rows;
  const corrected = new Map<number, string>();
  for (const r of least) {
    const other = r.predicted === '0' ? '1' : '0';
    recordCorrection(db, summary.job_id, r.row, other);
    corrected.set(r.row, other);
  }
  return { jobId: summary.job_id, corrected };
}

describe('label the column chosen for this file', () => {
  it('a CSV whose text column is named and placed differently: the training template keeps its words around it', async () => {
    const { db } = freshLibrary();
    const dir = tempDir();
    const csv = join(dir, 'cola-dev.csv');
    const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
    writeFileSync(
      csv,
      `id,sentence,source\n${tsvLines(dev)
        .map((f, i) => [i, quote(f[3]), f[0]].join(','))
        .join('\n')}\n`,
    );
    const chosen = await startLabelJob(db, engine, { input: csv, output: join(dir, 'a.csv'), textColumns: ['sentence'] });
    expect(getJob(db, chosen.job_id)!.spec.template).toBe('sentence: {sentence}');
    expect(chosen.labelled).toBe(527);
    // No column chosen: the file's "sentence" column is found, as the CLI's --text-column would name it.
    const guessed = await startLabelJob(db, engine, { input: csv, output: join(dir, 'b.csv') });
    expect(getJob(db, guessed.job_id)!.spec.template).toBe('sentence: {sentence}');
    // A file with neither the training columns nor an obvious text column: the question, in the app's words there.
    writeFileSync(join(dir, 'odd.csv'), 'id,words\n1,hello there\n');
    await expect(startLabelJob(db, engine, { input: join(dir, 'odd.csv'), output: join(dir, 'c.csv') })).rejects.toThrow(
      /trained on column\(s\) "3", which this file lacks; which column holds the text\?/,
    );
    db.close();
  });
});

describe('export after corrections', () => {
  const formats: OutputFormat[] = ['csv', 'tsv', 'jsonl', 'parquet', 'xlsx'];
  const shape = { text: '3', labels: colaTask.labels, label: 'label', source: 'label_source' };
  it.each(formats)(
    "CoLA dev (headerless TSV, quoting off) labelled, corrected, exported as %s: the model's columns as labelled, the final label and its source, no row contradicting itself",
    async (format) => {
      const { db } = freshLibrary();
      const dir = tempDir();
      // The job's own output is CSV: the case that failed ("Expected 9 fields … found 10") when read back quote-less.
      const { jobId, corrected } = await labelAndCorrect(db, dev, join(dir, 'labelled.csv'));
      const file = join(dir, `reviewed.${format}`);
      const result = await exportCorrected(db, jobId, { file });
      expect(result).toEqual({ file, format, rows: 527, reviewed: 3, corrected: 3 });
      const labelled = pythonRows(join(dir, 'labelled.csv'), 'csv', '3').map((r) => r[1]);
      const rows = await checkExport(file, format, shape);
      expect(rows.map((r) => r[0])).toEqual(sentences);
      rows.forEach(([, predicted, label, source], i) => {
        expect(predicted).toBe(labelled[i]);
        expect(label).toBe(corrected.get(i) ?? labelled[i]);
        expect(source).toBe(corrected.has(i) ? 'person' : 'model');
      });
      db.close();
    },
  );

  it.each(formats)('CB validation (JSON Lines, three labels) and a confirmed row, exported as %s', async (format) => {
    const { db } = freshLibrary();
    const dir = tempDir();
    const cb = await tinyEngine(cbTask);
    try {
      const summary = await startLabelJob(db, cb, { input: data('cb/val.jsonl'), output: join(dir, 'labelled.jsonl'), batchSize: 16 });
      const [confirm, change] = listReviewRows(db, summary.job_id, { limit: 2 }).rows;
      recordCorrection(db, summary.job_id, confirm.row, confirm.predicted);
      const other = cbTask.labels.find((l) => l !== change.predicted)!;
      recordCorrection(db, summary.job_id, change.row, other);
      const file = join(dir, `reviewed.${format}`);
      expect(await exportCorrected(db, summary.job_id, { file })).toMatchObject({ rows: 56, reviewed: 2, corrected: 1 });
      const rows = await checkExport(file, format, { text: 'premise', labels: cbTask.labels, label: 'label_1', source: 'label_source' });
      expect(rows).toHaveLength(56);
      expect(rows[confirm.row].slice(1)).toEqual([confirm.predicted, confirm.predicted, 'person']);
      expect(rows[change.row].slice(1)).toEqual([change.predicted, other, 'person']);
      expect(rows.filter((r) => r[3] === 'model')).toHaveLength(54);
      if (format === 'jsonl') {
        // The input's own values keep their JSON types: CB's idx is a number.
        const first = JSON.parse(readFileSync(file, 'utf8').split('\n')[0]) as Record<string, unknown>;
        expect(typeof first.idx).toBe('number');
        expect(first.label).toBe(JSON.parse(readFileSync(data('cb/val.jsonl'), 'utf8').split('\n')[0]).label);
      }
    } finally {
      await cb.model.dispose();
      db.close();
    }
  });

  it('exports a TSV job (quoting kept off) and a JSON Lines job, and refuses to overwrite without being asked', async () => {
    const { db } = freshLibrary();
    const dir = tempDir();
    for (const own of ['tsv', 'jsonl'] as const) {
      const { jobId, corrected } = await labelAndCorrect(db, dev, join(dir, `labelled.${own}`));
      const file = join(dir, `reviewed-from-${own}.csv`);
      await exportCorrected(db, jobId, { file });
      const rows = await checkExport(file, 'csv', shape);
      expect(rows.map((r) => r[0])).toEqual(sentences);
      expect(rows.filter((r) => r[3] === 'person').map((r) => r[2])).toEqual([...corrected].sort((a, b) => a[0] - b[0]).map(([, l]) => l));
      await expect(exportCorrected(db, jobId, { file })).rejects.toMatchObject({ code: 'file-exists' });
      // To TSV: a job on a quote-less TSV writing TSV keeps quoting off in its export too.
      const tsv = join(dir, `reviewed-from-${own}.tsv`);
      await exportCorrected(db, jobId, { file: tsv });
      expect((await checkExport(tsv, own === 'tsv' ? 'tsv-none' : 'tsv', shape)).map((r) => r[0])).toEqual(sentences);
    }
    db.close();
  });
});

describe('sprout label review / label export (spawned)', () => {
  it('lists the least confident rows with filters and exports the corrected file', async () => {
    const { home, db } = freshLibrary();
    const dir = tempDir();
    const { jobId, corrected } = await labelAndCorrect(db, dev, join(dir, 'labelled.csv'));
    db.close();
    const cli = async (...args: string[]) => {
      const { stdout } = await promisify(execFile)(process.execPath, [join(repoRoot, 'out/cli.js'), ...args], {
        env: { ...process.env, SPROUT_HOME: home },
        maxBuffer: 1 << 26,
      });
      return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, any>;
    };
    const page = await cli('label', 'review', jobId, '--limit', '5');
    expect(page.total).toBe(527);
    expect(page.rows).toHaveLength(5);
    expect(page.rows.map((r: { confidence: number }) => r.confidence)).toEqual(
      [...page.rows.map((r: { confidence: number }) => r.confidence)].sort((a, b) => a - b),
    );
    expect(page.rows.slice(0, 3).map((r: { row: number; corrected: string }) => [r.row, r.corrected])).toEqual([...corrected]);
    const ones = await cli(
      'label',
      'review',
      jobId,
      '--predicted',
      '1',
      '--min-confidence',
      '0',
      '--max-confidence',
      '1',
      '--limit',
      '1000',
    );
    expect(ones.rows.every((r: { predicted: string }) => r.predicted === '1')).toBe(true);
    // Filters no row can pass are mistakes, said as such, not an empty page.
    const refused = (...args: string[]) =>
      promisify(execFile)(process.execPath, [join(repoRoot, 'out/cli.js'), 'label', 'review', jobId, ...args], {
        env: { ...process.env, SPROUT_HOME: home },
      }).then(
        () => 'listed',
        (e: { code: number; stderr: string }) => [e.code, e.stderr.trim()],
      );
    // One page size everywhere (REVIEW_PAGE), and a page may start at any row: a large job is walked page by page.
    expect((await cli('label', 'review', jobId)).rows).toHaveLength(50);
    expect(await cli('label', 'review', jobId, '--offset', '20000')).toMatchObject({ total: 527, offset: 20000, rows: [] });
    await expect(refused('--limit', '1001')).resolves.toEqual([2, 'sprout: --limit must be a whole number from 1 to 1000, not "1001".']);
    await expect(refused('--predicted', 'nope')).resolves.toEqual([2, `sprout: The job's labels are 0 or 1; "nope" is none of them.`]);
    await expect(refused('--min-confidence', '0.9', '--max-confidence', '0.1')).resolves.toEqual([
      2,
      'sprout: The lowest confidence (0.9) is above the highest (0.1): no row can be in between.',
    ]);
    const search = await cli('label', 'review', jobId, '--search', 'SAILORS');
    expect(search.rows.map((r: { line: number }) => r.line)).toEqual([1]);
    const file = join(dir, 'reviewed.jsonl');
    expect(await cli('label', 'export', jobId, '--output', file)).toEqual({ file, format: 'jsonl', rows: 527, reviewed: 3, corrected: 3 });
    expect(
      (await checkExport(file, 'jsonl', { text: '3', labels: colaTask.labels, label: 'label', source: 'label_source' })).filter(
        (r) => r[3] === 'person',
      ),
    ).toHaveLength(3);
  });

  it('sprout label --text-column names this file\'s column; the task template (trained on "{3}") keeps its words', async () => {
    const { home } = freshLibrary();
    const dir = tempDir();
    const [promptFile] = await writePromptFiles(dir, [1]);
    const csv = join(dir, 'texts.csv');
    writeFileSync(
      csv,
      `text,id\n${sentences
        .slice(0, 20)
        .map((t, i) => `"${t.replaceAll('"', '""')}",${i}`)
        .join('\n')}\n`,
    );
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        join(repoRoot, 'out/cli.js'),
        'label',
        '--prompt-file',
        promptFile,
        '--model',
        tinyModel,
        '--labels',
        '0,1',
        '--task-template',
        'sentence: {3}',
        '--device',
        'cpu',
        '--input',
        csv,
        '--text-column',
        'text',
        '--output',
        join(dir, 'out.csv'),
      ],
      { env: { ...process.env, SPROUT_HOME: home } },
    );
    const summary = JSON.parse(stdout.trim().split('\n').pop()!) as { status: string; labelled: number; job_id: string };
    expect(summary).toMatchObject({ status: 'done', labelled: 20 });
    const db = openLibrary(libraryPath(home));
    expect(getJob(db, summary.job_id)!.spec.template).toBe('sentence: {text}');
    db.close();
  });
});
