import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importDataset } from '../../main/library/import-dataset.js';
import { previewFile } from '../../main/data/preview.js';
import { readRecords } from '../../main/data/read.js';
import type { ReadOptions, SourceRecord } from '../../main/data/types.js';
import type { LibraryDb } from '../../main/library/db.js';
import { getDataset, loadDatasetRows } from '../../main/library/datasets.js';
import { dataFile, freshLibrary, python, pythonCsvRows, tempDir } from './helpers.js';

let db: LibraryDb;
let dir: string;
beforeEach(() => {
  db = freshLibrary();
  dir = tempDir();
});
afterEach(() => db.close());

function file(name: string, content: string | Uint8Array): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

async function read(p: string, options: ReadOptions = {}): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  for await (const r of readRecords(p, options)) out.push(r);
  return out;
}

function utf16(text: string, endian: 'le' | 'be'): Buffer {
  const le = Buffer.from(`\ufeff${text}`, 'utf16le');
  return endian === 'le' ? le : le.swap16();
}

describe('CSV and TSV details', () => {
  it('reads CRLF lines with quoted CRLF, commas and quotes inside fields, and records their start lines', async () => {
    const p = file('crlf.csv', 'text,label\r\n"two\r\nlines, and ""quotes""",a\r\nplain ,b\r\n"",c\r\n');
    const records = await read(p);
    expect(records).toEqual([
      { line: 2, fields: { text: 'two\r\nlines, and "quotes"', label: 'a' } },
      { line: 4, fields: { text: 'plain ', label: 'b' } },
      { line: 5, fields: { text: '', label: 'c' } },
    ]);
  });

  it('drops a UTF-8 byte order mark', async () => {
    const records = await read(file('bom.csv', '\ufeffsentence,label\nhé,1\n'));
    expect(records).toEqual([{ line: 2, fields: { sentence: 'hé', label: '1' } }]);
  });

  it.each(['le', 'be'] as const)('reads UTF-16 %s with a byte order mark', async (endian) => {
    const p = file(`u16${endian}.tsv`, utf16('sentence\tlabel\r\nnaïve 😀 text\tpos\r\nsecond\tneg\r\n', endian));
    const report = await importDataset(db, p, { split: 0 });
    expect([report.encoding, report.rows, report.labels]).toEqual([`utf-16${endian}`, 2, { neg: 1, pos: 1 }]);
    expect(loadDatasetRows(db, report.id, 'train').map((r) => r.text)).toEqual(['naïve 😀 text', 'second']);
  });

  it('replaces invalid UTF-8 with U+FFFD when asked', async () => {
    const p = file('bad.csv', Buffer.concat([Buffer.from('text,label\ncaf'), Buffer.from([0xe9]), Buffer.from(',1\n')]));
    expect(await read(p, { invalidUtf8: 'replace' })).toEqual([{ line: 2, fields: { text: 'caf\ufffd', label: '1' } }]);
  });

  it('keeps backslashes and surrounding spaces as text', async () => {
    expect(await read(file('bs.csv', 'a,b\n" x\\"," y\\n\\t "\n'))).toEqual([{ line: 2, fields: { a: ' x\\', b: ' y\\n\\t ' } }]);
  });

  it('names headerless columns by index and skips blank lines, counting them', async () => {
    const p = file('nohead.csv', 'hello,1\n\nworld,0\n');
    const report = await importDataset(db, p, { header: false, textColumns: ['0'], labelColumn: '1', split: 0 });
    expect([report.columns, report.rows, report.blankLines]).toEqual([['0', '1'], 2, 1]);
  });

  it('keeps RFC 4180 quoting for a TSV whose quoted fields hold tabs and line breaks', async () => {
    const p = file('quoted.tsv', 'text\tlabel\n"a\tb"\t1\n"line\nbreak"\t0\nplain\t1\n');
    const preview = await previewFile(p);
    expect(preview.info.quoting).toBe('rfc4180');
    expect(preview.rows).toBe(3);
    expect(preview.firstRows[1]).toEqual({ line: 3, fields: { text: 'line\nbreak', label: '0' } });
  });

  it('turns quoting off for a TSV whose quote would swallow the following lines', async () => {
    const p = file('glue.tsv', 'id\ttext\tlabel\n1\t"He said\tyes\n2\tit was" fine\tno\n3\tok\tyes\n');
    const records = await read(p);
    expect(records.map((r) => r.fields.text)).toEqual(['"He said', 'it was" fine', 'ok']);
  });
});

describe('other formats', () => {
  it('reads a JSON array of objects across chunks, with strings holding brackets and escapes', async () => {
    const objects = Array.from({ length: 10000 }, (_, i) => ({
      text: `row ${i} ]}{["\\ "quoted"\n`,
      label: i % 2 === 0 ? 'even' : 'odd',
      n: i,
      ok: i % 3 === 0,
      none: null,
    }));
    const p = file('rows.json', JSON.stringify(objects, null, 2));
    // Over 1 MiB: elements cross the reader's chunk boundary.
    expect(JSON.stringify(objects, null, 2).length).toBeGreaterThan(2 ** 20);
    const records = await read(p);
    expect(records.length).toBe(10000);
    expect(records[9999].fields).toEqual({ text: objects[9999].text, label: 'odd', n: '9999', ok: 'true', none: null });
    expect(records[9999].line).toBe(2 + 9999 * 7);
    expect(records[0].line).toBe(2);
    const report = await importDataset(db, p, { textColumns: ['text'], labelColumn: 'label' });
    expect(report.labels).toEqual({ even: 5000, odd: 5000 });
  });

  it('reads Parquet row group by row group, numbers as text', async () => {
    const p = path.join(dir, 'rows.parquet');
    const n = 2500;
    parquetWriteFile({
      filename: p,
      rowGroupSize: 1000,
      columnData: [
        { name: 'sentence', data: Array.from({ length: n }, (_, i) => `sentence ${i} `), type: 'STRING' },
        { name: 'label', data: Array.from({ length: n }, (_, i) => i % 4), type: 'INT32' },
      ],
    });
    const report = await importDataset(db, p, { split: 0 });
    expect([report.format, report.textColumns, report.labelColumn, report.rows]).toEqual(['parquet', ['sentence'], 'label', n]);
    expect(report.labels).toEqual({ '0': 625, '1': 625, '2': 625, '3': 625 });
    const rows = loadDatasetRows(db, report.id, 'train');
    expect([rows[1234].text, rows[1234].label, rows[1234].line]).toEqual(['sentence 1234 ', '2', 1235]);
  });

  it('reads plain text one example per line, empty lines dropped with a count', async () => {
    const p = file('lines.txt', 'first\r\n\nthird line\nlast without newline');
    const report = await importDataset(db, p);
    expect([report.textColumns, report.labelColumn, report.rows, report.dropped.empty_text]).toEqual([['text'], null, 3, 1]);
    expect(loadDatasetRows(db, report.id, 'test').map((r) => [r.line, r.text])).toEqual([
      [1, 'first'],
      [3, 'third line'],
      [4, 'last without newline'],
    ]);
  });
});

describe('preview', () => {
  it('types SST-2 columns (number-only sentences stay text) and counts its labels over the whole file', async () => {
    const preview = await previewFile(dataFile('sst2', 'train.tsv'), { rows: 3 });
    expect(preview.rows).toBe(67349);
    expect(preview.columns.map((c) => [c.name, c.type])).toEqual([
      ['sentence', 'text'],
      ['label', 'integer'],
    ]);
    expect(preview.suggestion).toEqual({ textColumns: ['sentence'], labelColumn: 'label' });
    expect(preview.labels).toEqual({ '1': 37569, '0': 29780 });
    expect(preview.firstRows.map((r) => r.line)).toEqual([2, 3, 4]);
  });

  it('suggests AG News columns by index: the class, then title and description', async () => {
    const preview = await previewFile(dataFile('ag_news', 'test.csv'), { header: false });
    expect(preview.suggestion).toEqual({ textColumns: ['1', '2'], labelColumn: '0' });
    expect(preview.labels).toEqual({ '1': 1900, '2': 1900, '3': 1900, '4': 1900 });
  });
});

describe('labels named like Object properties', () => {
  it('counts "__proto__", "constructor" and "toString" as Python counts them, in the preview, the import and its label set', async () => {
    // A plain object's counters read "constructor" as Object's own function ("function Object() {…}2") and dropped "__proto__".
    const sentences = pythonCsvRows(dataFile('sst2', 'dev.tsv'), { delimiter: '\t', quoting: 'none' }).slice(1, 31);
    const names = ['__proto__', 'constructor', 'toString'];
    const p = file('proto.csv', ['text,label', ...sentences.map(([text], i) => `"${text}",${names[i % 3]}`)].join('\n'));
    const counted = JSON.parse(
      python(
        'import csv, collections, json, sys; print(json.dumps(collections.Counter(r["label"] for r in csv.DictReader(open(sys.argv[1])))))',
        p,
      ),
    ) as Record<string, number>;
    const entries = (o: object | null) => Object.entries(o ?? {}).sort();
    expect(entries(counted)).toEqual(names.map((n) => [n, 10]));
    expect(entries((await previewFile(p)).labels)).toEqual(entries(counted));
    const report = await importDataset(db, p, { split: 0.2 });
    expect(entries(report.labels)).toEqual(entries(counted));
    expect(Object.keys(report.splitLabels.validation).sort()).toEqual(names);
    expect(getDataset(db, report.id)!.labelSet).toEqual(names);
  });
});

describe('checks reported, not fixed', () => {
  it('counts empty texts, missing labels (with lines), duplicates, long texts and tokens', async () => {
    const p = file('checks.csv', 'text,label\nsame,a\nsame,b\n   ,a\nno label,\nlong long long text,a\nsame,a\nother,b\n');
    const report = await importDataset(db, p, {
      textColumns: ['text'],
      labelColumn: 'label',
      maxChars: 10,
      countTokens: (t) => t.split(' ').length,
      maxTokens: 3,
      split: 0,
    });
    expect(report.rows).toBe(5);
    expect(report.dropped).toEqual({ empty_text: 1, missing_text: 0, missing_label: 1 });
    expect(report.missingLabelLines).toEqual([{ file: 'checks.csv', line: 5 }]);
    expect([report.duplicates, report.conflictingDuplicates]).toEqual([2, 1]);
    expect(report.long).toEqual({ maxChars: 10, overChars: 1, maxTokens: 3, overTokens: 1 });
  });

  it('flags more than 100 distinct labels as free text and still splits', async () => {
    const lines = Array.from({ length: 400 }, (_, i) => `text ${i},answer ${i % 150}`).join('\n');
    const report = await importDataset(db, file('free.csv', `text,label\n${lines}\n`), { textColumns: ['text'], labelColumn: 'label' });
    expect([report.freeText, report.distinctLabels, report.labels]).toEqual([true, 150, {}]);
    expect(report.splits).toEqual({ train: 360, validation: 40, test: 0 });
    const withFile = await importDataset(db, file('free-train.csv', `text,label\n${lines}\n`), {
      textColumns: ['text'],
      labelColumn: 'label',
      validationFile: file('free-valid.csv', 'text,label\nv,answer 999\n'),
    });
    expect([withFile.freeText, withFile.distinctLabels, withFile.splits]).toEqual([true, 151, { train: 400, validation: 1, test: 0 }]);
  });

  it('gives the same split for the same seed and another for another seed', async () => {
    const file = dataFile('cb', 'train.jsonl');
    const ids = async (seed: number) => {
      const r = await importDataset(db, file, { textColumns: ['premise'], labelColumn: 'label', seed });
      return loadDatasetRows(db, r.id, 'validation').map((row) => row.index);
    };
    const a = await ids(7);
    expect(await ids(7)).toEqual(a);
    expect(await ids(8)).not.toEqual(a);
  });

  it('reports read progress up to the file size', async () => {
    const p = dataFile('sst2', 'dev.tsv');
    const seen: number[] = [];
    await importDataset(db, p, { onProgress: (x) => seen.push(x.bytesRead / x.totalBytes) });
    expect(seen.at(-1)).toBe(1);
  });
});
