import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importDataset } from '../../main/library/import-dataset.js';
import type { LibraryDb } from '../../main/library/db.js';
import { getDataset, loadDatasetRows, type DatasetRow } from '../../main/library/datasets.js';
import { SproutError } from '../../main/errors.js';
import { dataFile, freshLibrary, tableCounts, tsvLines } from './helpers.js';

let db: LibraryDb;
beforeEach(() => {
  db = freshLibrary();
});
afterEach(() => db.close());

function bySourceIndex(rows: DatasetRow[]): Map<number, DatasetRow> {
  return new Map(rows.map((r) => [r.index, r]));
}

function allRows(id: number): DatasetRow[] {
  return [...loadDatasetRows(db, id, 'train'), ...loadDatasetRows(db, id, 'validation'), ...loadDatasetRows(db, id, 'test')];
}

describe('CoLA (headerless TSV, columns by index)', () => {
  it('imports in_domain_train.tsv with its counts, duplicates and byte-identical sentences', async () => {
    const file = dataFile('cola', 'in_domain_train.tsv');
    const report = await importDataset(db, file, { header: false, textColumns: ['3'], labelColumn: '1' });
    expect(report.rows).toBe(8551);
    expect(report.labels).toEqual({ '0': 2528, '1': 6023 });
    expect(report.columns).toEqual(['0', '1', '2', '3']);
    expect(report.quoting).toBe('none');
    expect(report.duplicates).toBe(19);
    expect(report.conflictingDuplicates).toBe(11);
    expect(report.dropped).toEqual({ empty_text: 0, missing_text: 0, missing_label: 0 });
    // Stratified 90/10 per class by unique text: round(10 %) of each class's distinct sentences go to validation,
    // and the copies of a drawn sentence go with it (one extra row per class here).
    expect(report.splitLabels.validation).toEqual({ '0': 254, '1': 603 });
    expect(report.splits).toEqual({ train: 8551 - 857, validation: 857, test: 0 });
    expect(report.sha256).toBe('f320a10f92d3bce6b29152fde322a362eac39238e50d8de0c8815457fdf4fc12');

    const lines = tsvLines(file);
    const rows = bySourceIndex(allRows(report.id));
    expect(rows.size).toBe(8551);
    for (const [i, fields] of lines.entries()) {
      const row = rows.get(i)!;
      expect(row.fields['3']).toBe(fields[3]);
      expect(row.label).toBe(fields[1]);
      expect(row.line).toBe(i + 1);
    }
    for (const line of [7130, 7131, 7132]) expect(rows.get(line - 1)!.text).toContain('\b');
  });

  it('reads out_of_domain_dev.tsv without a final newline, and uses a given validation file instead of a split', async () => {
    const ood = await importDataset(db, dataFile('cola', 'out_of_domain_dev.tsv'), {
      header: false,
      textColumns: ['3'],
      labelColumn: '1',
      split: 0,
    });
    expect(ood.rows).toBe(516);
    expect(ood.labels).toEqual({ '0': 162, '1': 354 });
    expect([ood.duplicates, ood.conflictingDuplicates]).toEqual([3, 3]);
    const last = tsvLines(dataFile('cola', 'out_of_domain_dev.tsv'))[515];
    expect(loadDatasetRows(db, ood.id, 'train')[515].text).toBe(last[3]);

    const withDev = await importDataset(db, dataFile('cola', 'in_domain_train.tsv'), {
      header: false,
      textColumns: ['3'],
      labelColumn: '1',
      validationFile: dataFile('cola', 'in_domain_dev.tsv'),
    });
    expect(withDev.splits).toEqual({ train: 8551, validation: 527, test: 0 });
    expect(withDev.splitLabels.validation).toEqual({ '0': 162, '1': 365 });
    const stored = getDataset(db, withDev.id)!;
    expect(stored.validation).toEqual({
      name: 'in_domain_dev.tsv',
      size: 25957,
      sha256: '77176f6a03faa5a1c4f23c69971fc1bff565931112fb65af47b2d6e24b7f42f7',
    });
    expect(stored.labelSet).toEqual(['0', '1']);
  });

  it('suggests column 3 as text and column 1 as label when none are given', async () => {
    const report = await importDataset(db, dataFile('cola', 'in_domain_dev.tsv'), { header: false });
    expect([report.textColumns, report.labelColumn, report.rows]).toEqual([['3'], '1', 527]);
  });
});

describe('SST-2 (TSV with header)', () => {
  it('imports train.tsv keeping trailing spaces and number-only texts as text', async () => {
    const file = dataFile('sst2', 'train.tsv');
    const report = await importDataset(db, file, { validationFile: dataFile('sst2', 'dev.tsv') });
    expect([report.textColumns, report.labelColumn, report.template]).toEqual([['sentence'], 'label', '{sentence}']);
    expect(report.splits).toEqual({ train: 67349, validation: 872, test: 0 });
    expect(report.splitLabels).toEqual({ train: { '0': 29780, '1': 37569 }, validation: { '0': 428, '1': 444 }, test: {} });
    const train = bySourceIndex(loadDatasetRows(db, report.id, 'train'));
    const lines = tsvLines(file);
    for (let i = 1; i < lines.length; i++) expect(train.get(i - 1)!.text).toBe(lines[i][0]);
    expect(train.get(0)!.text).toBe('hide new secretions from the parental units ');
    const numbers = [17690, 48106, 48484, 52197, 55385].map((line) => train.get(line - 2)!);
    expect(numbers.map((r) => [r.line, r.text])).toEqual([
      [17690, '10'],
      [48106, '10000'],
      [48484, '1987'],
      [52197, '3000'],
      [55385, '98'],
    ]);
  });

  it('counts duplicates and conflicting labels in train alone', async () => {
    const report = await importDataset(db, dataFile('sst2', 'train.tsv'), { textColumns: ['sentence'], labelColumn: 'label' });
    expect([report.rows, report.duplicates, report.conflictingDuplicates]).toEqual([67349, 371, 5]);
  });

  it('refuses the label column ticked as text too, which would put each answer in its input', async () => {
    for (const mapping of [{ textColumns: ['sentence', 'label'] }, { template: 'review: {sentence} ({label})' }]) {
      await expect(importDataset(db, dataFile('sst2', 'dev.tsv'), { ...mapping, labelColumn: 'label' })).rejects.toMatchObject({
        code: 'data-label-in-text',
        message: expect.stringContaining('The label column "label" is also a text column'),
      });
    }
  });

  it('imports the unlabelled test.tsv for labelling', async () => {
    const report = await importDataset(db, dataFile('sst2', 'test.tsv'));
    expect([report.textColumns, report.labelColumn]).toEqual([['sentence'], null]);
    expect(report.splits).toEqual({ train: 0, validation: 0, test: 1821 });
    const rows = loadDatasetRows(db, report.id, 'test');
    expect(rows.every((r) => r.label === null)).toBe(true);
    expect(rows[0].text).toBe(tsvLines(dataFile('sst2', 'test.tsv'))[1][1]);
  });
});

describe('RTE (TSV whose quotes are text)', () => {
  it('detects that quoting must be off and imports train.tsv as pairs through a template', async () => {
    const file = dataFile('rte', 'train.tsv');
    const report = await importDataset(db, file, {
      template: 'premise: {sentence1} hypothesis: {sentence2}',
      labelColumn: 'label',
      validationFile: dataFile('rte', 'dev.tsv'),
    });
    expect(report.quoting).toBe('none');
    expect(report.quotingReason).toMatch(/double quotes are text/);
    expect(report.validation!.quoting).toBe('none');
    expect(report.textColumns).toEqual(['sentence1', 'sentence2']);
    expect(report.splitLabels).toEqual({
      train: { entailment: 1249, not_entailment: 1241 },
      validation: { entailment: 146, not_entailment: 131 },
      test: {},
    });
    expect(report.duplicates).toBe(2);
    const train = bySourceIndex(loadDatasetRows(db, report.id, 'train'));
    const lines = tsvLines(file);
    expect(train.size).toBe(2490);
    for (let i = 1; i < lines.length; i++) {
      const row = train.get(i - 1)!;
      expect([row.fields.sentence1, row.fields.sentence2, row.label]).toEqual([lines[i][1], lines[i][2], lines[i][3]]);
    }
    const odd = train.get(2164)!;
    expect(odd.line).toBe(2166);
    expect(odd.fields.sentence1.startsWith('"That film')).toBe(true);
    expect(odd.fields.sentence2).toBe('The film "WarGames" was shot in 1983.');
    expect(odd.text).toBe(`premise: ${odd.fields.sentence1} hypothesis: ${odd.fields.sentence2}`);
    expect(train.get(287)!.fields.sentence1).toContain('Iraq\u00e2\u0080\u0099s');
  });

  it('reads all 3,000 test rows with quoting off', async () => {
    const report = await importDataset(db, dataFile('rte', 'test.tsv'), { textColumns: ['sentence1', 'sentence2'], labelColumn: null });
    expect(report.splits.test).toBe(3000);
    expect(report.quoting).toBe('none');
  });

  it('refuses RFC 4180 quoting on train.tsv with the line of the problem and stores nothing', async () => {
    const error = await importDataset(db, dataFile('rte', 'train.tsv'), {
      quoting: 'rfc4180',
      textColumns: ['sentence1', 'sentence2'],
      labelColumn: 'label',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SproutError);
    expect((error as SproutError).message).toMatch(/--quoting none/);
    expect((error as SproutError).details.line).toBeGreaterThan(1);
    expect(tableCounts(db)).toEqual({ datasets: 0, rows: 0 });
  });
});

describe('AG News (headerless CSV, every field quoted)', () => {
  it('imports test.csv with 1,900 rows per class and literal backslashes', async () => {
    const file = dataFile('ag_news', 'test.csv');
    const report = await importDataset(db, file, { header: false, textColumns: ['1', '2'], labelColumn: '0', template: '{1}\n{2}' });
    expect(report.rows).toBe(7600);
    expect(report.labels).toEqual({ '1': 1900, '2': 1900, '3': 1900, '4': 1900 });
    expect(report.duplicates).toBe(0);
    expect(report.quoting).toBe('rfc4180');
    const rows = bySourceIndex(allRows(report.id));
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const unquote = (s: string) => s.replace(/""/g, '"');
    for (const [i, line] of lines.entries()) {
      const m = /^"(.*)","(.*)","(.*)"$/.exec(line)!;
      const row = rows.get(i)!;
      expect([row.label, row.fields['1'], row.fields['2']]).toEqual([m[1], unquote(m[2]), unquote(m[3])]);
    }
    expect(rows.get(25)!.fields['2'].endsWith('power grid.\\')).toBe(true);
    expect(report.long.overChars).toBe(0);
  });
});

describe('CB (JSON Lines)', () => {
  it('imports train.jsonl keeping the rare class in both splits', async () => {
    const report = await importDataset(db, dataFile('cb', 'train.jsonl'), {
      template: 'premise: {premise} hypothesis: {hypothesis}',
      labelColumn: 'label',
    });
    expect(report.labels).toEqual({ entailment: 115, contradiction: 119, neutral: 16 });
    expect(report.splitLabels.validation).toEqual({ entailment: 12, contradiction: 12, neutral: 2 });
    expect(report.columns).toEqual(['premise', 'hypothesis', 'label', 'idx']);
    const lines = readFileSync(dataFile('cb', 'train.jsonl'), 'utf8').trimEnd().split('\n');
    const rows = bySourceIndex(allRows(report.id));
    for (const [i, line] of lines.entries()) {
      const o = JSON.parse(line) as Record<string, string>;
      expect([rows.get(i)!.fields.premise, rows.get(i)!.fields.hypothesis, rows.get(i)!.label]).toEqual([o.premise, o.hypothesis, o.label]);
    }
  });

  it('keeps every class in both splits for any seed', async () => {
    for (const seed of [1, 2, 3]) {
      const report = await importDataset(db, dataFile('cb', 'train.jsonl'), {
        textColumns: ['premise', 'hypothesis'],
        labelColumn: 'label',
        seed,
        split: 0.02,
      });
      expect(Object.keys(report.splitLabels.validation).sort()).toEqual(['contradiction', 'entailment', 'neutral']);
      expect(Object.values(report.splitLabels.train).every((n) => n > 0)).toBe(true);
    }
  });

  it('imports val.jsonl as the validation file and test.jsonl (no labels, no final newline) unlabelled', async () => {
    const withVal = await importDataset(db, dataFile('cb', 'train.jsonl'), {
      textColumns: ['premise', 'hypothesis'],
      labelColumn: 'label',
      validationFile: dataFile('cb', 'val.jsonl'),
    });
    expect(withVal.splitLabels.validation).toEqual({ entailment: 23, contradiction: 28, neutral: 5 });
    const test = await importDataset(db, dataFile('cb', 'test.jsonl'), { textColumns: ['premise', 'hypothesis'] });
    expect([test.labelColumn, test.splits.test]).toEqual([null, 250]);
    const last = JSON.parse(readFileSync(dataFile('cb', 'test.jsonl'), 'utf8').split('\n')[249]) as { premise: string };
    expect(loadDatasetRows(db, test.id, 'test')[249].fields.premise).toBe(last.premise);
  });

  it('names the columns there are when the label key is absent', async () => {
    const error = await importDataset(db, dataFile('cb', 'test.jsonl'), { textColumns: ['premise'], labelColumn: 'label' }).catch(
      (e: unknown) => e,
    );
    expect((error as SproutError).code).toBe('data-missing-column');
    expect((error as SproutError).message).toMatch(/"premise", "hypothesis", "idx"/);
  });
});
