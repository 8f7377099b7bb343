/**
 * Corrections from the command line (#25 item 4): `sprout label correct JOB --row N --label L`, `--clear`, and
 * `--file` (a CSV written by Python's csv module, all-or-nothing with file:line errors); `sprout label review`'s
 * review-state filter, counts and search over every input column. Input: CoLA's dev file as it is.
 */
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REVIEW_PAGE } from '../../main/choices.js';
import { exportCorrected } from '../../main/label/export.js';
import { startLabelJob, type LabelEngine } from '../../main/label/job.js';
import { listReviewRows, recordCorrections } from '../../main/label/review.js';
import type { LabelTask } from '../../main/label/types.js';
import { checkExport } from './python-export.js';
import { data, freshLibrary, repoRoot, tempDir, tinyEngine } from './helpers.js';

const colaTask: LabelTask = {
  kind: 'classification',
  labels: ['0', '1'],
  verbalisers: ['unacceptable', 'acceptable'],
  template: 'sentence: {3}',
};

let engine: LabelEngine;
beforeAll(async () => {
  engine = await tinyEngine(colaTask);
});
afterAll(() => engine.model.dispose());

describe('sprout label correct / review --state (spawned)', () => {
  it(
    'records one label, withdraws it, records a file of them all or nothing, and review filters by state and by any column',
    { timeout: 120_000 },
    async () => {
      const { home, db } = freshLibrary();
      const dir = tempDir();
      const { job_id: job } = await startLabelJob(db, engine, {
        input: data('cola/in_domain_dev.tsv'),
        output: join(dir, 'labelled.csv'),
        batchSize: 64,
      });
      const predicted = new Map(listReviewRows(db, job, { limit: REVIEW_PAGE.most }).rows.map((r) => [r.row, r.predicted]));
      const other = (row: number) => (predicted.get(row) === '0' ? '1' : '0');
      const run = promisify(execFile);
      const cli = (...args: string[]) =>
        run(process.execPath, [join(repoRoot, 'out/cli.js'), 'label', ...args], {
          env: { ...process.env, SPROUT_HOME: home },
          maxBuffer: 1 << 26,
        }).then(({ stdout }) => JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, any>);

      expect(await cli('correct', job, '--row', '5', '--label', other(5))).toEqual({
        job_id: job,
        recorded: 1,
        labelled: 527,
        reviewed: 1,
        corrected: 1,
      });
      expect(await cli('correct', job, '--row', '5', '--clear')).toMatchObject({ reviewed: 0, corrected: 0 });

      // A spreadsheet of corrections as Python writes one: row 7 confirmed, 1 and 400 changed, 9 left without a label.
      const file = join(dir, 'corrections.csv');
      const write = (path: string, body: string[][]) =>
        execFileSync('python3', [
          '-c',
          'import csv, json, sys\nwith open(sys.argv[1], "w", newline="") as f:\n    w = csv.writer(f)\n    w.writerow(["row", "label", "note"])\n    for r in json.loads(sys.argv[2]): w.writerow(r + ["checked, by hand"])',
          path,
          JSON.stringify(body),
        ]);
      write(file, [
        ['7', predicted.get(7)!],
        ['1', other(1)],
        ['400', other(400)],
        ['9', ''],
      ]);
      expect(await cli('correct', job, '--file', file)).toEqual({ job_id: job, recorded: 4, labelled: 527, reviewed: 3, corrected: 2 });

      // The same sheet saved by Excel as "CSV" on Western Windows: cp1252, a note with accents. Refused as UTF-8 with
      // the way out, then read with --encoding (the same labels again: nothing changes).
      const excel = join(dir, 'corrections-excel.csv');
      execFileSync('python3', [
        '-c',
        'import sys; open(sys.argv[2], "wb").write(open(sys.argv[1], encoding="utf-8").read().replace("checked, by hand", "vérifié – à la main").encode("cp1252"))',
        file,
        excel,
      ]);
      await expect(cli('correct', job, '--file', excel)).rejects.toThrow(
        /not valid UTF-8\. Read as Windows-1252, the line says "7,.*vérifié – à la main/,
      );
      expect(await cli('correct', job, '--file', excel, '--encoding', 'windows-1252')).toMatchObject({
        recorded: 4,
        reviewed: 3,
        corrected: 2,
      });
      await expect(cli('correct', job, '--row', '5', '--label', '1', '--encoding', 'windows-1252')).rejects.toThrow(
        /--encoding goes with --file/,
      );

      // One wrong label stops the whole file, named by file and line; nothing of it is recorded.
      const bad = join(dir, 'bad.csv');
      write(bad, [
        ['10', other(10)],
        ['11', 'maybe'],
      ]);
      await expect(cli('correct', job, '--file', bad)).rejects.toThrow(
        new RegExp(`${bad}:3: "maybe" is not one of this task's labels \\(0, 1\\)`),
      );
      expect(() => recordCorrections(db, job, [{ row: 99_999, label: '1' }])).toThrow(/has no labelled row 99999/);
      expect(
        listReviewRows(db, job, { state: 'reviewed', limit: REVIEW_PAGE.most })
          .rows.map((r) => r.row)
          .sort((a, b) => a - b),
      ).toEqual([1, 7, 400]);
      expect(listReviewRows(db, job, { state: 'unreviewed' }).total).toBe(524);

      // Corrected rows whose columns hold "gj04", the source code in column 0 (not in the text the model read).
      const found = await cli('review', job, '--state', 'corrected', '--search', 'GJ04');
      expect(
        found.rows.map((r: { row: number; corrected: string; fields: Record<string, string> }) => [r.row, r.corrected, r.fields['0']]),
      ).toEqual([[1, other(1), 'gj04']]);
      expect(found.counts).toEqual({ labelled: 527, reviewed: 3, corrected: 2 });
      expect(
        listReviewRows(db, job, { search: 'gj04' })
          .rows.map((r) => r.line)
          .sort(),
      ).toEqual([1, 2, 3]);

      const exported = join(dir, 'reviewed.csv');
      expect(await exportCorrected(db, job, { file: exported })).toMatchObject({ rows: 527, reviewed: 3, corrected: 2 });
      const checked = await checkExport(exported, 'csv', { text: '3', labels: colaTask.labels, label: 'label', source: 'label_source' });
      expect(checked.flatMap((r, i) => (r[3] === 'person' ? [[i, r[2]]] : []))).toEqual([
        [1, other(1)],
        [7, predicted.get(7)],
        [400, other(400)],
      ]);
      db.close();
    },
  );
});
