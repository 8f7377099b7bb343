import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { importDataset } from '../../main/library/import-dataset.js';
import type { LibraryDb } from '../../main/library/db.js';
import { dataFile, freshLibrary } from './helpers.js';

/** Rows per class of a headerless CSV/TSV, read by Python's csv module. */
function pythonClasses(file: string, delimiter: string, label: number): { counts: Record<string, number>; rows: number } {
  const script = `
import csv, json, sys
path, delim, label = sys.argv[1], sys.argv[2], int(sys.argv[3])
quoting = csv.QUOTE_NONE if delim == '\\t' else csv.QUOTE_MINIMAL
rows = list(csv.reader(open(path, newline='', encoding='utf-8'), delimiter=delim, quoting=quoting))
counts = {}
for r in rows: counts[r[label]] = counts.get(r[label], 0) + 1
print(json.dumps({'counts': counts, 'rows': len(rows)}))`;
  return JSON.parse(execFileSync('python3', ['-c', script, file, delimiter, String(label)], { encoding: 'utf8' }));
}

function stored(db: LibraryDb, id: number): { split: string; label: string; n: number }[] {
  return db
    .prepare('SELECT split, label, COUNT(*) AS n FROM dataset_rows WHERE dataset_id = ? GROUP BY split, label ORDER BY split, label')
    .all(id) as { split: string; label: string; n: number }[];
}

const rowsOf = (db: LibraryDb, id: number, split: string) =>
  (
    db.prepare('SELECT row_index FROM dataset_rows WHERE dataset_id = ? AND split = ? ORDER BY row_index').all(id, split) as {
      row_index: number;
    }[]
  ).map((r) => r.row_index);

describe('a test split held out at import', () => {
  it("AG News' headerless CSV: a tenth of each class to test beside validation, by unique text, validation unmoved", async () => {
    const db = freshLibrary();
    const file = dataFile('ag_news', 'test.csv');
    const options = { header: false, textColumns: ['1', '2'], labelColumn: '0', seed: 5 };
    const plain = await importDataset(db, file, { ...options, name: 'plain' });
    const report = await importDataset(db, file, { ...options, testSplit: 0.1 });
    const python = pythonClasses(file, ',', 0);
    expect(python.counts).toEqual({ 1: 1900, 2: 1900, 3: 1900, 4: 1900 });
    expect(report.rows).toBe(python.rows);
    expect(report.testFraction).toBe(0.1);
    expect(report.splitBy).toBe('unique text');
    expect(report.splits.train + report.splits.validation + report.splits.test).toBe(python.rows);
    // Every class gives about a tenth (190 rows) to test; the report's counts are the stored ones.
    const counts = stored(db, report.id);
    for (const label of ['1', '2', '3', '4']) {
      const test = counts.find((r) => r.split === 'test' && r.label === label)!.n;
      expect(Math.abs(test - 190), label).toBeLessThanOrEqual(3);
      expect(report.splitLabels.test[label]).toBe(test);
      expect(report.labels[label]).toBe(python.counts[label]);
    }
    expect(report.splits.test).toBe(Object.values(report.splitLabels.test).reduce((a, b) => a + b, 0));
    // No text on two sides, and adding a test share moved no validation row.
    const straddling = db
      .prepare('SELECT texts FROM dataset_rows WHERE dataset_id = ? GROUP BY texts HAVING COUNT(DISTINCT split) > 1')
      .all(report.id);
    expect(straddling).toEqual([]);
    expect(rowsOf(db, report.id, 'validation')).toEqual(rowsOf(db, plain.id, 'validation'));
    expect(plain.splits.test).toBe(0);
    expect(plain.testFraction).toBeNull();
    db.close();
  });

  it('CoLA with its own validation file: the test split comes from the training file, the dev file stays validation', async () => {
    const db = freshLibrary();
    const train = dataFile('cola', 'in_domain_train.tsv');
    const dev = dataFile('cola', 'in_domain_dev.tsv');
    const report = await importDataset(db, train, { textColumns: ['3'], labelColumn: '1', validationFile: dev, testSplit: 0.1, seed: 2 });
    const python = pythonClasses(train, '\t', 1);
    const devPython = pythonClasses(dev, '\t', 1);
    expect(report.splits.validation).toBe(devPython.rows);
    expect(report.splitLabels.validation).toEqual(devPython.counts);
    expect(report.splits.train + report.splits.test).toBe(python.rows);
    expect(Math.abs(report.splitLabels.test['0'] - 253)).toBeLessThanOrEqual(3);
    expect(Math.abs(report.splitLabels.test['1'] - 602)).toBeLessThanOrEqual(8);
    expect(report.seed).toBe(2);
    expect(report.splitFraction).toBeNull();
    // Every validation row is a dev-file row (their row indexes are the dev file's 527 records).
    expect(rowsOf(db, report.id, 'validation')).toEqual(Array.from({ length: devPython.rows }, (_, i) => i));
    const straddling = db
      .prepare(
        "SELECT texts FROM dataset_rows WHERE dataset_id = ? AND split IN ('train', 'test') GROUP BY texts HAVING COUNT(DISTINCT split) > 1",
      )
      .all(report.id);
    expect(straddling).toEqual([]);
    db.close();
  });

  it('refuses shares that leave nothing to train on', async () => {
    const db = freshLibrary();
    await expect(importDataset(db, dataFile('cola', 'in_domain_dev.tsv'), { split: 0.5, testSplit: 0.5 })).rejects.toThrow(
      /validation 0\.5 \+ test 0\.5 is not below 1/,
    );
    // Each share within MAX_HELD_OUT, as the app's contract and the CLI's flags hold it: 0.6 for testing used to pass.
    await expect(importDataset(db, dataFile('cola', 'in_domain_dev.tsv'), { split: 0.1, testSplit: 0.6 })).rejects.toThrow(
      'The test fraction must be from 0 to 0.5, not 0.6.',
    );
    await expect(importDataset(db, dataFile('cola', 'in_domain_dev.tsv'), { split: 0.95 })).rejects.toThrow(
      'The validation fraction must be from 0 to 0.9, not 0.95.',
    );
    db.close();
  });
});
