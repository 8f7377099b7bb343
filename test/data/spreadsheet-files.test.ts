/**
 * Files as spreadsheets save them: CSVs separated by semicolons (Excel's "CSV" where the comma is the decimal mark),
 * .txt files that are tab-separated tables ("Text (Tab delimited)", "Unicode Text"), and labels with a cell's stray
 * spaces. Python's csv module writes them from the real datasets and reads them back; Sprout must read what it reads.
 */
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CsvSeparator } from '../../main/choices.js';
import { detectSeparator, type SeparatorSample } from '../../main/data/detect-separator.js';
import type { SproutError } from '../../main/errors.js';
import { previewFile } from '../../main/data/preview.js';
import { openSource, readRecords } from '../../main/data/read.js';
import type { LibraryDb } from '../../main/library/db.js';
import { loadDatasetRows } from '../../main/library/datasets.js';
import { importDataset } from '../../main/library/import-dataset.js';
import { caseVariants } from '../../main/data/values.js';
import { dataFile, freshLibrary, python, pythonCsvRows, tempDir } from './helpers.js';

let db: LibraryDb;
beforeEach(() => {
  db = freshLibrary();
});
afterEach(() => db.close());

describe("AG News' test file saved as Excel saves CSV in German (semicolons, CRLF)", () => {
  const file = join(tempDir(), 'ag_news_de.csv');
  beforeAll(() => {
    python(
      'import csv, sys\nrows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))\nwith open(sys.argv[2], "w", newline="", encoding="utf-8") as f: csv.writer(f, delimiter=";").writerows(rows)',
      dataFile('ag_news', 'test.csv'),
      file,
    );
  });

  it('is read with semicolons, says why, and imports every row as Python reads it', async () => {
    const source = await openSource(file);
    expect(source.info).toMatchObject({ separator: 'semicolon', header: false, columns: ['0', '1', '2'] });
    expect(source.info.separatorReason).toBe(
      'each of the first 201 rows has 3 fields between semicolons; read with commas they do not parse',
    );
    await (source.records as AsyncGenerator).return(undefined);

    const report = await importDataset(db, file, { header: false, textColumns: ['1', '2'], labelColumn: '0' });
    expect(report).toMatchObject({ separator: 'semicolon', rows: 7600, labels: { 1: 1900, 2: 1900, 3: 1900, 4: 1900 } });
    const expected = pythonCsvRows(file, { delimiter: ';' });
    const rows = new Map(
      [...loadDatasetRows(db, report.id, 'train'), ...loadDatasetRows(db, report.id, 'validation')].map((r) => [r.index, r]),
    );
    expected.forEach((fields, i) => expect([rows.get(i)!.label, rows.get(i)!.fields['1'], rows.get(i)!.fields['2']]).toEqual(fields));
  });

  it('is read with commas when --separator says so, and the original with commas as before', async () => {
    const plain = join(tempDir(), 'plain.csv');
    python('import sys; open(sys.argv[1], "w").write("text;label\\nsehr gut;1\\nschlecht;0\\n")', plain);
    expect((await openSource(plain)).info).toMatchObject({ separator: 'semicolon', columns: ['text', 'label'] });
    const forced = await openSource(plain, { separator: 'comma' });
    expect(forced.info).toMatchObject({ separator: 'comma', columns: ['text;label'] });
    expect(forced.info.separatorReason).toBeUndefined();
    // Without an extension, a semicolon in the first line says CSV too.
    const bare = join(tempDir(), 'export');
    python('import sys; open(sys.argv[1], "w").write("text;label\\nsehr gut;1\\nschlecht;0\\n")', bare);
    expect((await openSource(bare)).info).toMatchObject({ format: 'csv', separator: 'semicolon', columns: ['text', 'label'] });
    // A quoted field followed by a semicolon, read with commas: the error says which choice reads it.
    const quoted = join(tempDir(), 'quoted.csv');
    python('import sys; open(sys.argv[1], "w").write("text;label\\n\\"gut; wirklich\\";1\\n")', quoted);
    const error = await openSource(quoted, { separator: 'comma' }).catch((e: unknown) => e as SproutError);
    expect(error).toMatchObject({
      code: 'data-bad-quote',
      details: { line: 2, hint: 'If the fields are separated by semicolons, import with --separator semicolon.' },
    });
    // The published file has a semicolon on 2,514 lines (HTML entities such as &lt;), and commas split it evenly.
    const original = await openSource(dataFile('ag_news', 'test.csv'));
    expect(original.info).toMatchObject({ separator: 'comma', columns: ['0', '1', '2'] });
    await (original.records as AsyncGenerator).return(undefined);
  });
});

describe('a German sheet with decimal commas, in Windows-1252', () => {
  it('is semicolon-separated; its prices keep their commas', async () => {
    const file = join(tempDir(), 'bewertungen.csv');
    python(
      'import csv, sys\nwith open(sys.argv[1], "w", newline="", encoding="cp1252") as f:\n    w = csv.writer(f, delimiter=";")\n    w.writerow(["Text", "Bewertung", "Preis"])\n    for i in range(30): w.writerow([f"Größe passt, Qualität „gut“ {i}", "positiv" if i % 3 else "negativ", f"{i},50"])',
      file,
    );
    const got: string[][] = [];
    for await (const r of readRecords(file, { encoding: 'windows-1252' })) got.push([r.fields.Text!, r.fields.Bewertung!, r.fields.Preis!]);
    expect(got).toEqual(pythonCsvRows(file, { delimiter: ';', encoding: 'cp1252' }).slice(1));
    expect(got[1]).toEqual(['Größe passt, Qualität „gut“ 1', 'positiv', '1,50']);
    // A decimal comma is a number to the header detection: the price column votes for row 1 as a header.
    const { info } = await openSource(file, { encoding: 'windows-1252' });
    expect(info.headerReason).toContain('"Preis" stands above numbers in column 2');
  });
});

describe('a sheet Excel saved as text: "Text (Tab delimited)" (cp1252) and "Unicode Text" (UTF-16LE), both .txt', () => {
  for (const [name, codec, encoding] of [
    ['tab-delimited', 'cp1252', 'windows-1252'],
    ['unicode', 'utf-16', undefined],
  ] as const) {
    it(`${name}: read as TSV, saying why, with SST-2's dev rows as Python's csv reads them`, async () => {
      const file = join(tempDir(), `${name}.txt`);
      python(
        'import csv, sys\nrows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8"), delimiter="\\t", quoting=csv.QUOTE_NONE))\nwith open(sys.argv[2], "w", newline="", encoding=sys.argv[3]) as f: csv.writer(f, delimiter="\\t").writerows(rows)',
        dataFile('sst2', 'dev.tsv'),
        file,
        codec,
      );
      const source = await openSource(file, { encoding });
      expect(source.info).toMatchObject({ format: 'tsv', header: true, columns: ['sentence', 'label'] });
      expect(source.info.formatReason).toBe(
        'each of the first 201 lines has a tab, as Excel saves a sheet as "Text (Tab delimited)" or "Unicode Text"',
      );
      const got: string[][] = [];
      for await (const r of source.records) got.push([r.fields.sentence!, r.fields.label!]);
      expect(got).toEqual(pythonCsvRows(file, { delimiter: '\t', encoding: codec }).slice(1));
      expect(got).toHaveLength(872);
    });
  }

  it('text stays text: lines without tabs (AG News classes.txt), or with tabs in some lines only', async () => {
    const classes = await openSource(dataFile('ag_news', 'classes.txt'));
    expect(classes.info).toMatchObject({ format: 'text' });
    expect(classes.info.formatReason).toBeUndefined();
    await (classes.records as AsyncGenerator).return(undefined);
    const mixed = join(tempDir(), 'notes.txt');
    python('import sys; open(sys.argv[1], "w").write("first line\\tindented\\nsecond line\\n")', mixed);
    expect((await openSource(mixed)).info).toMatchObject({ format: 'text' });
    expect((await openSource(mixed, { format: 'text' })).info.formatReason).toBeUndefined();
  });
});

describe("labels with a spreadsheet cell's stray spaces", () => {
  it("SST-2's dev file with every third label padded: two classes, counted as Python counts the stripped labels", async () => {
    const file = join(tempDir(), 'sst2-padded.csv');
    const counts = JSON.parse(
      python(
        'import collections, csv, json, sys\nrows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8"), delimiter="\\t", quoting=csv.QUOTE_NONE))\nout = [rows[0]] + [[s, l + " " if i % 3 == 0 else l] for i, (s, l) in enumerate(rows[1:])]\ncsv.writer(open(sys.argv[2], "w", newline="", encoding="utf-8")).writerows(out)\nprint(json.dumps({"labels": collections.Counter(l.strip() for _, l in out[1:]), "padded": sum(l != l.strip() for _, l in out[1:])}))',
        dataFile('sst2', 'dev.tsv'),
        file,
      ),
    ) as { labels: Record<string, number>; padded: number };
    expect(counts.padded).toBe(291);
    const report = await importDataset(db, file, { textColumns: ['sentence'], labelColumn: 'label' });
    expect(report.labels).toEqual(counts.labels);
    expect(report.trimmedLabels).toBe(counts.padded);
    const preview = await previewFile(file, { labelColumn: 'label' });
    expect(preview.labels).toEqual(counts.labels);
  });

  it('labels that differ only in case stay classes of their own, grouped for a note', () => {
    expect(caseVariants(['positive', 'Negative', 'POSITIVE', 'neutral', 'negative'])).toEqual([
      ['Negative', 'negative'],
      ['POSITIVE', 'positive'],
    ]);
    expect(caseVariants(['0', '1'])).toEqual([]);
  });
});

describe('detectSeparator', () => {
  /** A reader of the given samples that notes which it was asked for. */
  const samples =
    (comma: SeparatorSample, semicolon: SeparatorSample, asked: CsvSeparator[] = []) =>
    async (s: CsvSeparator) => {
      asked.push(s);
      return { comma, semicolon }[s];
    };

  it('keeps the comma without evidence: one column, or neither reading even', async () => {
    expect(await detectSeparator(samples([['a'], ['b']], [['a'], ['b']]))).toEqual({ separator: 'comma' });
    expect(await detectSeparator(samples([['a', 'b'], ['c']], [['a'], ['b', 'c'], ['d']]))).toEqual({ separator: 'comma' });
    expect(await detectSeparator(samples(undefined, undefined))).toEqual({ separator: 'comma' });
  });

  it('takes the comma when both are even, without reading the semicolons', async () => {
    const asked: CsvSeparator[] = [];
    expect(await detectSeparator(samples([['a;b', 'c']], [['a', 'b,c']], asked))).toEqual({ separator: 'comma' });
    expect(asked).toEqual(['comma']);
  });

  it('takes the semicolon when only it is even, saying why', async () => {
    expect(await detectSeparator(samples([['a;b']], [['a', 'b']]))).toEqual({
      separator: 'semicolon',
      reason: 'the first row has 2 fields between semicolons; commas split none of them',
    });
  });
});
