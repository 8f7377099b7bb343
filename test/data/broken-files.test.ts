import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importDataset, type ImportOptions } from '../../main/library/import-dataset.js';
import { SproutError } from '../../main/errors.js';
import type { LibraryDb } from '../../main/library/db.js';
import { dataFile, freshLibrary, tableCounts, tempDir } from './helpers.js';

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

/** Imports and expects a SproutError with this code, naming the file (and line/column when given); nothing stored. */
async function expectFailure(
  p: string,
  options: ImportOptions,
  code: string,
  where: { line?: number; column?: number } = {},
): Promise<SproutError> {
  const error = await importDataset(db, p, options).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(SproutError);
  const e = error as SproutError;
  expect(e.code).toBe(code);
  expect(e.details.file).toBe(p);
  if (where.line !== undefined) expect(e.details.line).toBe(where.line);
  if (where.column !== undefined) expect(e.details.column).toBe(where.column);
  expect(e.details.hint).toBeTruthy();
  expect(tableCounts(db)).toEqual({ datasets: 0, rows: 0 });
  expect(db.inTransaction).toBe(false);
  return e;
}

/** CB's validation lines as shipped, with one more field on record `at` nested `depth` levels deep. */
function cbWithNesting(depth: number, at: number): { lines: string[]; hostile: string } {
  const lines = readFileSync(dataFile('cb', 'val.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const hostile = lines[at].replace(/}\s*$/, `, "meta": ${'['.repeat(depth)}${']'.repeat(depth)}}`);
  return { lines: lines.map((l, i) => (i === at ? hostile : l)), hostile };
}

describe('deeply nested JSON', () => {
  it('a field nested 10,000 levels deep is refused at its line in JSON Lines and in a JSON array, not with a stack overflow', async () => {
    const { lines } = cbWithNesting(10_000, 2);
    const jsonl = await expectFailure(
      file('deep.jsonl', `${lines.join('\n')}\n`),
      { textColumns: ['premise'], labelColumn: 'label' },
      'data-bad-json-line',
      { line: 3 },
    );
    expect(jsonl.message).toContain('nests arrays or objects more than 512 levels deep');
    const array = await expectFailure(
      file('deep.json', `[\n${lines.join(',\n')}\n]\n`),
      { textColumns: ['premise'], labelColumn: 'label' },
      'data-bad-json',
      { line: 4 },
    );
    expect(array.message).toContain('more than 512 levels deep');
  });

  it('a field nested 500 levels deep is read, its text the JSON of the value', async () => {
    const { lines, hostile } = cbWithNesting(500, 0);
    const report = await importDataset(db, file('nested.jsonl', `${lines.join('\n')}\n`), {
      textColumns: ['premise', 'meta'],
      labelColumn: 'label',
      split: 0,
    });
    expect(report.rows).toBeGreaterThan(0);
    const stored = db.prepare('SELECT texts FROM dataset_rows WHERE line = 1').get() as { texts: string };
    expect(stored.texts).toContain(JSON.stringify(JSON.parse(hostile).meta));
  });
});

const many = (n: number) => Array.from({ length: n }, (_, i) => `example number ${i},${i % 3}\n`).join('');

describe('broken files: a specific error, and nothing written', () => {
  it('a ragged row after thousands of good ones', async () => {
    const p = file('ragged.csv', `text,label\n${many(5000)}one,two,three\n`);
    const e = await expectFailure(p, { textColumns: ['text'], labelColumn: 'label' }, 'data-ragged-row', { line: 5002 });
    expect(e.message).toMatch(/Expected 2 fields \(as the header on line 1\), found 3/);
  });

  it('an unterminated quote at the end of the file, named by the line where it opened', async () => {
    const p = file('open.csv', `text,label\n${many(3)}"never closed,1\nmore,0\nand more,1\n`);
    const e = await expectFailure(p, { textColumns: ['text'], labelColumn: 'label' }, 'data-unterminated-quote', { line: 5, column: 1 });
    expect(e.message).toMatch(/never closed/);
  });

  it('text after a closing quote', async () => {
    const p = file('after.csv', 'text,label\n"quoted" and more,1\n');
    await expectFailure(p, { textColumns: ['text'], labelColumn: 'label' }, 'data-bad-quote', { line: 2, column: 9 });
  });

  it('invalid UTF-8, with line and byte column', async () => {
    const bytes = Buffer.concat([Buffer.from('text,label\nfine,1\ncaf'), Buffer.from([0xe9]), Buffer.from(' au lait,0\n')]);
    const e = await expectFailure(file('latin1.csv', bytes), { textColumns: ['text'], labelColumn: 'label' }, 'data-invalid-utf8', {
      line: 3,
      column: 4,
    });
    expect(e.message).toMatch(/0xe9/);
  });

  it('invalid UTF-8 straddling the 1 MiB read chunk boundary is still found on the right line', async () => {
    const filler = `text,label\n${'a'.repeat(2 ** 20 - 15)},1\n`;
    const bytes = Buffer.concat([Buffer.from(filler), Buffer.from([0xe2, 0x82]), Buffer.from('x,0\n')]);
    await expectFailure(file('cut.csv', bytes), { textColumns: ['text'], labelColumn: 'label' }, 'data-invalid-utf8', {
      line: 3,
      column: 1,
    });
  });

  it('a JSON Lines file with a bad line', async () => {
    const p = file('bad.jsonl', '{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}\n{"text": "c", label: "x"}\n');
    const e = await expectFailure(p, { textColumns: ['text'], labelColumn: 'label' }, 'data-bad-json-line', { line: 3 });
    expect(e.details.column).toBe(15);
  });

  it('a JSON Lines line that is not an object', async () => {
    await expectFailure(file('array.jsonl', '{"text": "a"}\n["b"]\n'), { textColumns: ['text'], labelColumn: null }, 'data-bad-json-line', {
      line: 2,
    });
  });

  it('a Parquet file without the asked-for column', async () => {
    const p = path.join(dir, 'data.parquet');
    parquetWriteFile({ filename: p, columnData: [{ name: 'sentence', data: ['good', 'bad'], type: 'STRING' }] });
    const e = await expectFailure(p, { textColumns: ['sentence'], labelColumn: 'label' }, 'data-missing-column');
    expect(e.message).toMatch(/label column "label"/);
    expect(e.details.hint).toMatch(/"sentence"/);
  });

  it('an empty file, and one with only a byte order mark', async () => {
    await expectFailure(file('empty.csv', ''), {}, 'data-empty-file');
    await expectFailure(file('bom.csv', '\ufeff'), {}, 'data-empty-file');
  });

  it('a named pipe, a device or a folder is named as what it is, never opened (a pipe would wait for a writer)', async () => {
    const pipe = path.join(dir, 'reviews.csv');
    execFileSync('mkfifo', [pipe]);
    expect((await expectFailure(pipe, {}, 'data-not-a-file')).summary).toBe('This is a named pipe (FIFO), not a file.');
    expect((await expectFailure('/dev/zero', {}, 'data-not-a-file')).summary).toBe('This is a device, not a file.');
    expect((await expectFailure(dir, {}, 'data-not-a-file')).summary).toBe('This is a folder, not a file.');
  });

  it('a header without rows', async () => {
    const e = await expectFailure(file('header.tsv', 'sentence\tlabel\n'), {}, 'data-no-rows');
    expect(e.message).toMatch(/sentence, label/);
    // SST-2 whose line breaks are vertical tabs is one line, read as a header: shown cut short, not all 20 rows.
    const sst2 = readFileSync(dataFile('sst2', 'dev.tsv'), 'utf8').split('\n').slice(0, 20).join('\v');
    const one = await expectFailure(file('one-line.tsv', sst2), {}, 'data-no-rows');
    expect(one.summary).toMatch(
      /^The file has a header \(sentence, label\vit 's a charming and often affecti…, .* and 13 more\) but no data rows\.$/,
    );
    expect(one.summary.length).toBeLessThan(500);
  });

  it('a 10 MB single line is refused at the record limit without reading it into memory whole', async () => {
    const line = 'x'.repeat(10 * 2 ** 20);
    for (const [name, format] of [
      ['long.csv', 'csv'],
      ['long.tsv', 'tsv'],
      ['long.jsonl', 'jsonl'],
      ['long.txt', 'text'],
    ] as const) {
      const e = await expectFailure(
        file(name, `${line}\n`),
        { format, header: false, textColumns: format === 'jsonl' ? ['text'] : undefined },
        'data-record-too-long',
        { line: 1 },
      );
      expect(e.message).toMatch(/4 MiB/);
    }
    const quoted = await expectFailure(file('quote.csv', `text\n"${line}\n`), {}, 'data-unterminated-quote', { line: 2 });
    expect(quoted.message).toMatch(/not closed after 4 MiB/);
  });

  it('a 10 MB line within a raised record limit imports as one long text', async () => {
    const text = 'y'.repeat(10 * 2 ** 20);
    const report = await importDataset(db, file('big.txt', `${text}\nshort\n`), { maxRecordChars: 16 * 2 ** 20, labelColumn: null });
    expect([report.rows, report.long.overChars]).toEqual([2, 1]);
  });

  it('labels missing everywhere, or rows that are all empty', async () => {
    const none = await expectFailure(
      file('nolabels.csv', 'text,label\na,\nb,\n'),
      { textColumns: ['text'], labelColumn: 'label' },
      'data-no-rows',
    );
    expect(none.message).toMatch(/2 without a label/);
    await expectFailure(file('blank.csv', 'text,label\n  ,1\n\t,0\n'), { textColumns: ['text'], labelColumn: 'label' }, 'data-no-rows');
  });

  it('a column that does not exist, a bad template, a duplicate header name', async () => {
    await expectFailure(file('cols.csv', 'text,label\na,1\n'), { textColumns: ['txt'], labelColumn: 'label' }, 'data-missing-column');
    const p = file('tpl.csv', 'text,label\na,1\n');
    await expect(importDataset(db, p, { template: 'q: {text', labelColumn: 'label' })).rejects.toMatchObject({ code: 'data-bad-template' });
    await expectFailure(file('dup.csv', 'text,text\na,1\n'), {}, 'data-duplicate-column', { line: 1 });
  });

  it('a compressed file or a spreadsheet is named as such, whatever its name and --format, not as invalid UTF-8', async () => {
    // Made by Python's gzip and zipfile from the real files, as a person's tools would.
    const script = `import gzip, shutil, sys, zipfile
with open(sys.argv[1], "rb") as f, gzip.open(sys.argv[2], "wb") as g: shutil.copyfileobj(f, g)
with zipfile.ZipFile(sys.argv[3], "w", zipfile.ZIP_DEFLATED) as z: z.write(sys.argv[4], "dev.tsv")`;
    const gz = path.join(dir, 'dev.tsv.gz');
    const xlsx = path.join(dir, 'sheet.xlsx');
    execFileSync('python3', ['-c', script, dataFile('rte', 'dev.tsv'), gz, xlsx, dataFile('sst2', 'dev.tsv')]);
    const pair = { textColumns: ['sentence1', 'sentence2'], labelColumn: 'label' };
    const compressed = await expectFailure(gz, pair, 'data-not-a-table');
    expect(compressed.message).toMatch(/: This file is gzip-compressed, not a data file .* \(for example `gzip -dk dev\.tsv\.gz`\)/);
    const renamed = file('dev.tsv', readFileSync(gz));
    const asTsv = await expectFailure(renamed, { ...pair, format: 'tsv', invalidUtf8: 'replace' }, 'data-not-a-table');
    expect(asTsv.message).toContain('(for example `gzip -dc dev.tsv > dev.unpacked.tsv`)');
    const sheet = await expectFailure(xlsx, { textColumns: ['sentence'], labelColumn: 'label' }, 'data-not-a-table');
    expect(sheet.message).toMatch(/This file is a ZIP archive that holds no Excel workbook .*File > Save As > CSV UTF-8/);
    expect(sheet.forApp()).not.toMatch(/unzip sheet/);
    const asCsv = file('sheet.csv', readFileSync(xlsx));
    await expectFailure(asCsv, { textColumns: ['sentence'], labelColumn: 'label', format: 'csv' }, 'data-not-a-table');
  });

  it("a model's weights, a database, a tar archive, UTF-16 without its mark: each named, where UTF-8 advice was given", async () => {
    // The fixture's own safetensors, Python's sqlite3 database, Python's tarfile archive, Python's utf-16-le codec.
    const dir = tempDir();
    const [db3, tar, u16] = ['data.sqlite', 'data.tar', 'utf16.csv'].map((n) => path.join(dir, n));
    const script = `
import sqlite3, sys, tarfile
db = sqlite3.connect(sys.argv[1]); db.execute('create table t (text, label)'); db.execute("insert into t values ('hi', 1)"); db.commit()
with tarfile.open(sys.argv[2], 'w', format=tarfile.USTAR_FORMAT) as t: t.add(sys.argv[4], arcname='dev.tsv')
open(sys.argv[3], 'wb').write(open(sys.argv[4], encoding='utf-8').read().encode('utf-16-le'))`;
    execFileSync('python3', ['-c', script, db3, tar, u16, dataFile('sst2', 'dev.tsv')]);
    const weights = path.resolve(__dirname, '../../../shared/fixtures/mini-t5-instruct/model.safetensors');
    const read = { textColumns: ['sentence'], labelColumn: 'label' };
    const is = async (file: string, options: ImportOptions = read) => (await expectFailure(file, options, 'data-not-a-table')).summary;
    await expect(is(weights)).resolves.toMatch(/^This file is a safetensors file of a model's weights, not a data file/);
    await expect(is(db3)).resolves.toMatch(/^This file is an SQLite database, not a data file/);
    await expect(is(tar)).resolves.toMatch(/^This file is a tar archive, not a data file/);
    await expect(is(u16)).resolves.toMatch(/^This file is binary \(it holds NUL bytes, which text never does\), not a data file/);
    await expect(is(u16, { ...read, format: 'csv' })).resolves.toMatch(/^This file is binary/);
  });

  it('a JSON array that is cut off', async () => {
    await expectFailure(
      file('cut.json', '[{"text": "a", "label": "1"}, {"text": "b"'),
      { textColumns: ['text'], labelColumn: null },
      'data-bad-json',
      { line: 1 },
    );
  });
});
