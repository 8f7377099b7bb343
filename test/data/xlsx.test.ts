/**
 * Excel workbooks (.xlsx). The real datasets are written into workbooks two ways: by openpyxl (as Python tools and
 * pandas write them) and by test/data/excel_style_workbook.py (as Excel and the .NET Open XML SDK lay them out).
 * openpyxl reads each back, and Sprout must read what it reads, cell for cell and row for row.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { previewFile } from '../../main/data/preview.js';
import { dateKind } from '../../main/data/xlsx-dates.js';
import { openSource } from '../../main/data/read.js';
import type { SourceRecord } from '../../main/data/types.js';
import type { LibraryDb } from '../../main/library/db.js';
import { loadDatasetRows } from '../../main/library/datasets.js';
import { importDataset } from '../../main/library/import-dataset.js';
import { sheetXml, xlsxBytes } from '../fuzz/xlsx-bytes.js';
import {
  dataFile,
  debianPython,
  freshLibrary,
  openpyxlRows,
  pythonCsvRows,
  openpyxlWorkbook,
  repoRoot,
  sst2Workbook,
  tempDir,
} from './helpers.js';

let db: LibraryDb;
beforeEach(() => {
  db = freshLibrary();
});
afterEach(() => db.close());

async function records(file: string, options = {}) {
  const source = await openSource(file, options);
  const all: SourceRecord[] = [];
  for await (const r of source.records) all.push(r);
  return { info: source.info, records: all, blankLines: source.blankLines() };
}

/** A record's fields in column order, as openpyxl's row reads. */
const cells = (r: SourceRecord, columns: string[]) => columns.map((c) => r.fields[c] ?? '');
const padded = (cells: string[], width: number) => Array.from({ length: width }, (_, i) => cells[i] ?? '');

describe("SST-2's dev file in a workbook written by openpyxl (header row, inline strings, a second sheet)", () => {
  const file = join(tempDir(), 'sst2-dev.xlsx');
  beforeAll(() => openpyxlWorkbook(dataFile('sst2', 'dev.tsv'), file, { delimiter: '\t', quoting: 'none' }));

  it('reads the first sheet as openpyxl reads it, names it and the others, and finds the header', async () => {
    const { info, records: read } = await records(file);
    expect(info).toMatchObject({ format: 'xlsx', encoding: 'binary', sheet: 'data', header: true, columns: ['sentence', 'label'] });
    expect(info.sheetReason).toBe('the first of its 2 sheets ("data", "notes")');
    const expected = openpyxlRows(file);
    expect(read.map((r) => [r.line, ...cells(r, info.columns)])).toEqual(expected.slice(1).map((r) => [r.line, ...r.cells]));
    expect(read).toHaveLength(872);
    // Every text keeps SST-2's space before the tab: a sheet stores it as written.
    expect(read.every((r) => r.fields.sentence?.endsWith(' '))).toBe(true);
  });

  it('imports with the label counts Python counts in the source TSV', async () => {
    const report = await importDataset(db, file, { split: 0 });
    const source = pythonCsvRows(dataFile('sst2', 'dev.tsv'), { delimiter: '\t', quoting: 'none' }).slice(1);
    const counts: Record<string, number> = {};
    for (const [, label] of source) counts[label] = (counts[label] ?? 0) + 1;
    expect(report).toMatchObject({
      format: 'xlsx',
      sheet: 'data',
      rows: 872,
      labels: counts,
      textColumns: ['sentence'],
      labelColumn: 'label',
    });
    const stored = loadDatasetRows(db, report.id, 'train');
    expect(stored.map((r) => [r.fields.sentence, r.label])).toEqual(source);
  });
});

describe("AG News' test file in a workbook written by openpyxl (no header, the class as a number)", () => {
  const file = join(tempDir(), 'ag_news.xlsx');
  beforeAll(() => openpyxlWorkbook(dataFile('ag_news', 'test.csv'), file, { delimiter: ',', numeric: [0] }));

  it('detects that row 1 is an example, and reads every row as openpyxl does', async () => {
    const { info, records: read } = await records(file);
    expect(info).toMatchObject({ header: false, columns: ['0', '1', '2'] });
    expect(info.headerReason).toMatch(/^row 1 looks like data/);
    const expected = openpyxlRows(file);
    expect(read.map((r) => [r.line, ...cells(r, info.columns)])).toEqual(expected.map((r) => [r.line, ...r.cells]));
    // The class is a number in the sheet and reads as the text the CSV had.
    expect(read.map((r) => [r.fields['0'], r.fields['1'], r.fields['2']])).toEqual(
      pythonCsvRows(dataFile('ag_news', 'test.csv'), { delimiter: ',' }),
    );
  });

  it('imports 1,900 rows of each class', async () => {
    const report = await importDataset(db, file, { textColumns: ['1', '2'], labelColumn: '0', split: 0 });
    expect(report).toMatchObject({ rows: 7600, header: false, labels: { 1: 1900, 2: 1900, 3: 1900, 4: 1900 } });
  });
});

describe("CoLA's training file in a workbook laid out as Excel lays one out", () => {
  const file = join(tempDir(), 'cola.xlsx');
  beforeAll(() => {
    debianPython(
      readFileSync(join(repoRoot, 'test/data/excel_style_workbook.py'), 'utf8'),
      dataFile('cola', 'in_domain_train.tsv'),
      file,
      '100000',
    );
  });

  it("reads the visible sheet's 8,551 rows as the TSV has them, backspaces included, with an added boolean column", async () => {
    const { info, records: read, blankLines } = await records(file);
    expect(info).toMatchObject({ sheet: 'CoLA train', header: false, columns: ['0', '1', '2', '3', '4'] });
    // The hidden sheet is not counted among the sheets one could mean.
    expect(info.sheetReason).toBeUndefined();
    expect(blankLines).toBe(1);
    const source = pythonCsvRows(dataFile('cola', 'in_domain_train.tsv'), { delimiter: '\t', quoting: 'none' });
    expect(read.map((r) => cells(r, info.columns))).toEqual(source.map((row) => [...row, row[1] === '1' ? 'TRUE' : 'FALSE']));
    expect(read.map((r) => r.line)).toEqual(source.map((_, i) => (i < 10 ? i + 1 : i + 2)));
    expect(read.filter((r) => r.fields['3']?.includes('\b'))).toHaveLength(3);
  });

  it('agrees with openpyxl on every cell but the three _x0008_ escapes, which openpyxl 3.0 leaves as written', async () => {
    const { info, records: read } = await records(file);
    const expected = openpyxlRows(file);
    const differing: number[] = [];
    read.forEach((r, i) => {
      const ours = cells(r, info.columns);
      const theirs = padded(expected[i].cells, ours.length);
      expect(expected[i].line).toBe(r.line);
      if (JSON.stringify(ours) === JSON.stringify(theirs)) return;
      differing.push(r.line);
      expect(theirs.map((v) => v.replaceAll('_x0008_', '\b'))).toEqual(ours);
    });
    expect(differing).toEqual([7131, 7132, 7133]);
  });
});

describe('a workbook whose data is on other sheets than the first', () => {
  const file = join(tempDir(), 'sst2-sheets.xlsx');
  beforeAll(() => sst2Workbook(file));

  it('passes over a notes sheet of one row, and says so', async () => {
    const { info, records: read } = await records(file);
    expect(info).toMatchObject({
      sheet: 'train',
      sheetReason: 'the first of its 3 sheets ("Notes", "train", "validation") with two rows or more',
    });
    expect(read).toHaveLength(600);
  });

  it('reads the sheet named (in any case), lists the sheets, and refuses a name it lacks, listing them', async () => {
    const { info, records: read } = await records(file, { sheet: 'TRAIN' });
    expect(info).toMatchObject({ sheet: 'train', sheets: ['Notes', 'train', 'validation'], header: true, columns: ['sentence', 'label'] });
    expect(info.sheetReason).toBeUndefined();
    expect(read).toHaveLength(600);
    await expect(records(file, { sheet: 'test' })).rejects.toMatchObject({
      code: 'data-no-such-sheet',
      message:
        `${file}: The workbook has no sheet named "test"; its sheets are "Notes", "train", "validation". ` +
        "Give --sheet one of those names, as the sheet's tab shows it.",
    });
  });

  it('imports one sheet with another of the same workbook as its validation file', async () => {
    const report = await importDataset(db, file, { sheet: 'train', validationFile: file, validationSheet: 'validation' });
    expect(report).toMatchObject({ sheet: 'train', splits: { train: 600, validation: 272, test: 0 }, labelColumn: 'label' });
    const source = pythonCsvRows(dataFile('sst2', 'dev.tsv'), { delimiter: '\t', quoting: 'none' }).slice(1);
    expect(loadDatasetRows(db, report.id, 'validation').map((r) => [r.fields.sentence, r.label])).toEqual(source.slice(600));
  });
});

describe('dates and times, which a sheet stores as numbers and shows through a format', () => {
  /**
   * SST-2 rows with a received date-time (across 29 February 2024), a day, a time of day, an early day of 1900 (before
   * the leap day Excel counts that never was), a duration and a share, written by openpyxl in the 1900 or the 1904
   * date system; Python prints each value as ISO 8601 text, which is what Sprout must read.
   */
  const write = (file: string, epoch: '1900' | '1904') =>
    JSON.parse(
      debianPython(
        `
import csv, datetime, json, sys, openpyxl
from openpyxl.utils.datetime import CALENDAR_MAC_1904
rows = list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8'), delimiter='\\t', quoting=csv.QUOTE_NONE))[1:61]
book = openpyxl.Workbook()
if sys.argv[3] == '1904': book.epoch = CALENDAR_MAC_1904
sheet = book.active
sheet.append(['sentence', 'label', 'received', 'day', 'at', 'early', 'took', 'share'])
expected = []
for i, (text, label) in enumerate(rows):
    received = datetime.datetime(2024, 2, 28, 9, 30) + datetime.timedelta(hours=13 * i, seconds=i + 1)
    day, at = received.date(), received.time()
    early = datetime.date(1900, 1, 1) + datetime.timedelta(days=i)
    took, share = 0.25 + i, i / 8
    sheet.append([text, int(label), received, day, at, early if sys.argv[3] == '1900' else day, took, share])
    cells = sheet[sheet.max_row]
    cells[3].number_format = 'dd/mm/yyyy'
    cells[4].number_format = 'h:mm AM/PM' if i % 2 else 'hh:mm:ss'
    cells[6].number_format = '[h]:mm'
    cells[7].number_format = '0.0%'
    shown_early = early if sys.argv[3] == '1900' else day
    expected.append([text, label, received.isoformat(sep=' '), day.isoformat(), at.isoformat(), shown_early.isoformat(), '%g' % took, '%g' % share])
book.save(sys.argv[2])
print(json.dumps(expected))`,
        dataFile('sst2', 'dev.tsv'),
        file,
        epoch,
      ),
    ) as string[][];

  it('tells a date format from a number format as Excel writes them', () => {
    const kinds = Object.fromEntries(
      [
        '[$-409]mmmm d, yyyy;@',
        'd-mmm',
        'mm:ss',
        'h:mm AM/PM',
        'yyyy-mm-dd hh:mm',
        '[h]:mm:ss',
        '[Red]0.00',
        '"d" 0',
        '0.00E+00',
        '#,##0 "days"',
        'General',
      ].map((code) => [code, dateKind(164, code) ?? 'number']),
    );
    expect(kinds).toEqual({
      '[$-409]mmmm d, yyyy;@': 'date',
      'd-mmm': 'date',
      'mm:ss': 'time',
      'h:mm AM/PM': 'time',
      'yyyy-mm-dd hh:mm': 'datetime',
      '[h]:mm:ss': 'number',
      '[Red]0.00': 'number',
      '"d" 0': 'number',
      '0.00E+00': 'number',
      '#,##0 "days"': 'number',
      General: 'number',
    });
    expect([14, 22, 45, 49, 0].map((id) => dateKind(id, undefined) ?? 'number')).toEqual(['date', 'datetime', 'time', 'number', 'number']);
  });

  it.each(['1900', '1904'] as const)('read as ISO 8601 text in the %s date system; durations and shares stay numbers', async (epoch) => {
    const file = join(tempDir(), `dates-${epoch}.xlsx`);
    const expected = write(file, epoch);
    const { info, records: read } = await records(file);
    expect(info.columns).toEqual(['sentence', 'label', 'received', 'day', 'at', 'early', 'took', 'share']);
    // A time shown without seconds (h:mm AM/PM on every other row) still reads to the second it holds.
    expect(read.map((r) => cells(r, info.columns))).toEqual(expected);
    expect(read.find((r) => r.fields.received?.startsWith('2024-02-29'))).toBeDefined();
  });
});

describe('a workbook in a ZIP64 archive, as streaming writers may write one', () => {
  it("reads as Python's zipfile and openpyxl read it", async () => {
    const rows = pythonCsvRows(dataFile('sst2', 'dev.tsv'), { delimiter: '\t', quoting: 'none' }).slice(0, 50);
    const file = join(tempDir(), 'zip64.xlsx');
    writeFileSync(file, xlsxBytes(sheetXml(rows), true, true));
    const zipfile = JSON.parse(
      debianPython(
        'import json, sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nprint(json.dumps([z.testzip(), [i.file_size for i in z.infolist()]]))',
        file,
      ),
    ) as [string | null, number[]];
    expect(zipfile[0]).toBeNull();
    const { info, records: read } = await records(file);
    expect(info.columns).toEqual(['sentence', 'label']);
    expect(read.map((r) => [r.line, ...cells(r, info.columns)])).toEqual(
      openpyxlRows(file)
        .slice(1)
        .map((r) => [r.line, ...r.cells]),
    );
    expect(read).toHaveLength(49);
  });
});

const dir = tempDir();
/** A workbook built by openpyxl from rows of cells (Python literals), on one sheet. */
function workbook(name: string, rows: string): string {
  const file = join(dir, name);
  debianPython(`import sys, openpyxl\nb = openpyxl.Workbook()\nfor r in ${rows}: b.active.append(r)\nb.save(sys.argv[1])`, file);
  return file;
}

describe('what a workbook can hold that a CSV cannot', () => {
  it('a value right of the named columns is an error naming its cell, not a value dropped', async () => {
    const file = workbook('stray.xlsx', "[['text', 'label'], ['good film', 'pos'], ['bad film', 'neg', None, 'see me']]");
    await expect(records(file, { header: true })).rejects.toMatchObject({
      code: 'data-ragged-row',
      message:
        `${file}:3: Cell D3 of sheet "Sheet" holds "see me", but the header in row 1 names columns A–B. ` +
        'Name its column in row 1, or clear the cell, and save the workbook.',
    });
  });

  it('empty header cells are named by their index, and empty cells read as empty text', async () => {
    const file = workbook('gaps.xlsx', "[['text', None, 'label'], ['good film', None, 'pos'], [None, 'x', 'neg']]");
    const { info, records: read } = await records(file, { header: true });
    expect(info.columns).toEqual(['text', '1', 'label']);
    expect(read.map((r) => r.fields)).toEqual([
      { text: 'good film', 1: '', label: 'pos' },
      { text: '', 1: 'x', label: 'neg' },
    ]);
  });

  it('a sheet with a header and no rows, and one with nothing at all, are refused as a CSV would be', async () => {
    await expect(records(workbook('header-only.xlsx', "[['text', 'label']]"), { header: true })).rejects.toMatchObject({
      code: 'data-no-rows',
    });
    await expect(records(workbook('empty.xlsx', '[]'))).rejects.toMatchObject({ code: 'data-empty-file' });
    const zeroBytes = join(dir, 'zero.xlsx');
    writeFileSync(zeroBytes, '');
    await expect(records(zeroBytes)).rejects.toMatchObject({ code: 'data-empty-file' });
  });

  it('a workbook saved under another name is read as one, and says so', async () => {
    const file = join(dir, 'renamed.csv');
    copyFileSync(workbook('named.xlsx', "[['text', 'label'], ['good film', 'pos'], ['bad film', 'neg']]"), file);
    const preview = await previewFile(file);
    expect(preview.info).toMatchObject({
      format: 'xlsx',
      formatReason: 'its content is a ZIP archive holding a workbook, whatever its name says',
      sheet: 'Sheet',
    });
    expect(preview.firstRows.map((r) => r.fields)).toEqual([
      { text: 'good film', label: 'pos' },
      { text: 'bad film', label: 'neg' },
    ]);
  });
});

describe('files that are not the workbooks they seem', () => {
  it("a sheet whose XML makes no sense is called damaged where its checksum fails, as Python's zipfile finds, and a writer's mistake where it holds", async () => {
    const rows = [['text', 'label'], ...Array.from({ length: 300 }, (_, i) => [`review ${i}`, String(i % 2)])];
    const written = (name: string, xml: string) => {
      const file = join(dir, name);
      writeFileSync(file, xlsxBytes(xml, false));
      return file;
    };
    // A flipped bit in a stored sheet (0x35 "5" to 0x25 "%"): the row's number becomes nonsense, the CRC-32 fails.
    const whole = readFileSync(written('whole.xlsx', sheetXml(rows)));
    const at = whole.indexOf('<row r="5">') + '<row r="'.length;
    whole[at] ^= 0x10;
    const damaged = join(dir, 'damaged.xlsx');
    writeFileSync(damaged, whole);
    expect(debianPython('import sys, zipfile\nprint(zipfile.ZipFile(sys.argv[1]).testzip())', damaged).trim()).toBe(
      'xl/worksheets/sheet1.xml',
    );
    const damage = 'This is not a readable Excel workbook. Zip member "xl/worksheets/sheet1.xml" is damaged: its checksum does not match.';
    await expect(previewFile(damaged)).rejects.toMatchObject({ code: 'data-bad-xlsx', message: expect.stringContaining(damage) });
    // The same XML as its writer meant it: its checksum holds, so the row is named.
    const mistaken = written('mistaken.xlsx', sheetXml(rows).replace('<row r="5">', '<row r="%">'));
    await expect(previewFile(mistaken)).rejects.toMatchObject({
      code: 'data-bad-xlsx',
      message: expect.stringContaining('a row of sheet "S" is numbered "%"'),
    });
  });

  it('a cut-short workbook, another ZIP and a password-protected workbook are refused with what to do', async () => {
    const whole = readFileSync(workbook('whole.xlsx', "[['text', 'label'], ['good film', 'pos']]"));
    const cut = join(dir, 'cut.xlsx');
    writeFileSync(cut, whole.subarray(0, whole.length - 100));
    await expect(records(cut)).rejects.toMatchObject({
      code: 'data-bad-xlsx',
      message: expect.stringContaining(
        'This is not a readable Excel workbook. No zip end-of-directory record: the file is not a zip archive, or it is cut short.',
      ),
    });
    const zip = join(dir, 'notes.zip');
    debianPython(`import sys, zipfile\nzipfile.ZipFile(sys.argv[1], 'w').writestr('notes.txt', 'a, b\\n')`, zip);
    await expect(records(zip)).rejects.toMatchObject({
      code: 'data-not-a-table',
      message: expect.stringContaining('a ZIP archive that holds no Excel workbook'),
    });
    await expect(records(zip, { format: 'xlsx' })).rejects.toMatchObject({
      code: 'data-not-a-table',
      message: expect.stringContaining('unzip notes.zip'),
    });
    const text = join(dir, 'text.xlsx');
    writeFileSync(text, 'text,label\ngood film,pos\n');
    await expect(records(text)).rejects.toMatchObject({
      code: 'data-bad-xlsx',
      message: expect.stringContaining('it is not a ZIP archive, as every .xlsx file is'),
    });
    // A binary workbook is a ZIP too, its workbook part a .bin file.
    const binary = join(dir, 'book.xlsb');
    debianPython(
      `import sys, zipfile
rel = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument'
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    z.writestr('_rels/.rels', f'<Relationships><Relationship Id="rId1" Type="{rel}" Target="xl/workbook.bin"/></Relationships>')
    z.writestr('xl/workbook.bin', bytes(range(256)))`,
      binary,
    );
    await expect(records(binary)).rejects.toMatchObject({
      code: 'data-not-a-table',
      message: expect.stringContaining('an Excel binary workbook (.xlsb)'),
    });
    // Excel stores an encrypted workbook as an OLE compound file, under the same .xlsx name.
    const locked = join(dir, 'locked.xlsx');
    writeFileSync(locked, Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(504)]));
    await expect(records(locked)).rejects.toMatchObject({
      code: 'data-not-a-table',
      message: expect.stringContaining('password-protected'),
    });
  });
});
