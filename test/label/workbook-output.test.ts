/**
 * The labelled workbook as other programs read it: openpyxl (what pandas reads workbooks with) and Python's zipfile
 * check what Sprout writes, and Sprout's own reader reads it back. Strings that XML or a workbook cannot hold as they
 * are (control characters, a carriage return, text that looks like an `_xHHHH_` escape, lone surrogates) come back as
 * written; numbers are cells of numbers where they read back the same, text otherwise; a sheet's limits are refused
 * before any row is labelled.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecords } from '../../main/data/read.js';
import { exportCorrected } from '../../main/label/export.js';
import { startLabelJob } from '../../main/label/job.js';
import { convertPart } from '../../main/label/part-output.js';
import { escapeXString } from '../../main/data/xlsx-xstring.js';
import { debianPython } from '../data/helpers.js';
import { cbTask, freshLibrary, tempDir, tinyEngine } from './helpers.js';

const AWKWARD = [
  'plain',
  'back\bspace and bell\u0007',
  'carriage\r\nreturn',
  'looks like an escape: _x0041_ and _X0041_ and _x004_',
  '  spaces kept  ',
  '=SUM(A1:A2) is text, not a formula',
  'emoji 🌱 and a lone \uD800 surrogate',
  '<tag attr="1"> & ampersand',
  'tab\there',
];

/** Every cell of the workbook's sheet as openpyxl gives it: [value, Python type name]. */
function openpyxlCells(file: string, sheet: string): [unknown, string][][] {
  const script = `
import json, sys, openpyxl
sheet = openpyxl.load_workbook(sys.argv[1])[sys.argv[2]]
print(json.dumps([[[c.value, type(c.value).__name__] for c in row] for row in sheet.iter_rows()]))`;
  return JSON.parse(debianPython(script, file, sheet)) as [unknown, string][][];
}

async function workbookOf(rows: Record<string, unknown>[], columns: { name: string; type: 'STRING' | 'DOUBLE' }[]): Promise<string> {
  const dir = tempDir();
  const part = join(dir, 'out.xlsx.part.jsonl');
  writeFileSync(part, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  const output = join(dir, 'out.xlsx');
  await convertPart('xlsx', part, output, columns, 'labelled');
  return output;
}

describe('labelled workbook', () => {
  it('holds every string as written, as openpyxl and Sprout read it back', async () => {
    const file = await workbookOf(
      AWKWARD.map((text) => ({ text })),
      [{ name: 'text', type: 'STRING' }],
    );
    // openpyxl (3.0.9, Debian's) reads the XML but leaves the workbook's own `_xHHHH_` escapes as they are stored,
    // where Excel and Sprout undo them (ECMA-376 Part 1, 22.9.2.19): it sees the stored form.
    const cells = openpyxlCells(file, 'labelled').map((r) => r[0][0]);
    expect(cells).toEqual(['text', ...AWKWARD.map(escapeXString)]);
    const read: string[] = [];
    for await (const r of readRecords(file, { format: 'xlsx', header: true })) read.push(r.fields.text ?? '');
    expect(read).toEqual(AWKWARD);
    expect(debianPython('import sys, zipfile\nprint(zipfile.ZipFile(sys.argv[1]).testzip())', file).trim()).toBe('None');
  });

  it('writes numbers as numbers where they read back the same, TRUE and FALSE as booleans, and the same rows as the same bytes', async () => {
    const labels = ['0', '1', '007', '1e5', '0.50', '-3.25', '12345678901234567890', 'TRUE', 'false', 'truth'];
    const rows = labels.map((label, i) => ({ label, p: i / 8 }));
    const columns = [
      { name: 'label', type: 'STRING' as const },
      { name: 'p', type: 'DOUBLE' as const },
    ];
    const file = await workbookOf(rows, columns);
    const cells = openpyxlCells(file, 'labelled').slice(1);
    expect(cells.map((r) => r[0])).toEqual([
      [0, 'int'],
      [1, 'int'],
      ['007', 'str'],
      ['1e5', 'str'],
      ['0.50', 'str'],
      [-3.25, 'float'],
      ['12345678901234567890', 'str'],
      [true, 'bool'],
      [false, 'bool'],
      ['truth', 'str'],
    ]);
    expect(cells.map((r) => r[1][0])).toEqual(rows.map((r) => r.p));
    expect(readFileSync(await workbookOf(rows, columns)).equals(readFileSync(file))).toBe(true);
    // A headerless file's columns are named "0", "1", …: names, so text.
    const headerless = await workbookOf([{ '0': '1' }], [{ name: '0', type: 'STRING' }]);
    expect(openpyxlCells(headerless, 'labelled')).toEqual([[['0', 'str']], [[1, 'int']]]);
  });

  it('escapes only what needs it', () => {
    expect(escapeXString('_x0041_ _x00')).toBe('_x005F_x0041_ _x00');
    // A carriage return is the XML writer's to keep (&#13;), which openpyxl reads as one, where it leaves _x000D_ as text.
    expect(escapeXString('a\u0000b\rc')).toBe('a_x0000_b\rc');
    expect(escapeXString('🌱')).toBe('🌱');
  });
});

describe('a labelled copy that a sheet cannot hold', () => {
  it('is refused before any row is labelled, or exported: more columns than a sheet has', async () => {
    const { db } = freshLibrary();
    const dir = tempDir();
    const input = join(dir, 'wide.csv');
    const names = Array.from({ length: 16_380 }, (_, i) => `c${i}`);
    writeFileSync(input, `premise,hypothesis,${names.join(',')}\nA dog runs.,An animal moves.,${names.map(() => '').join(',')}\n`);
    const engine = await tinyEngine(cbTask);
    await expect(startLabelJob(db, engine, { input, output: join(dir, 'wide.xlsx'), batchSize: 4 })).rejects.toThrow(
      /The labelled copy would have 16,390 columns, more than a workbook's sheet holds \(1,048,576 rows, 16,384 columns\)\. Write CSV instead/,
    );
    // Labelled into CSV, it is refused as a workbook export too, with the two final columns counted.
    const job = await startLabelJob(db, engine, { input, output: join(dir, 'labelled.csv'), batchSize: 4 });
    await expect(exportCorrected(db, job.job_id, { file: join(dir, 'reviewed.xlsx') })).rejects.toThrow(/would have 16,392 columns/);
    db.close();
  });

  it('is refused at the row whose text is longer than a cell holds', async () => {
    const { db } = freshLibrary();
    const dir = tempDir();
    const input = join(dir, 'long.jsonl');
    writeFileSync(
      input,
      `${JSON.stringify({ premise: 'short', hypothesis: 'fine' })}\n${JSON.stringify({ premise: 'x'.repeat(40_000), hypothesis: 'h' })}\n`,
    );
    const engine = await tinyEngine(cbTask);
    await expect(startLabelJob(db, engine, { input, output: join(dir, 'long.xlsx'), batchSize: 4 })).rejects.toThrow(
      'Row 2 of the input: a value of column "premise" has 40,000 characters; a workbook cell holds at most 32,767. ' +
        'Write CSV or JSON Lines instead: name the output .csv or .jsonl.',
    );
    db.close();
  });
});

describe('an output named for another format than the one asked', () => {
  it('is refused by a job and an export, naming both formats; an existing workbook is not replaced unasked', async () => {
    const { db } = freshLibrary();
    const dir = tempDir();
    const engine = await tinyEngine(cbTask);
    const input = join(dir, 'cb.jsonl');
    writeFileSync(input, `${JSON.stringify({ premise: 'A dog runs.', hypothesis: 'An animal moves.' })}\n`);
    await expect(startLabelJob(db, engine, { input, output: join(dir, 'out.csv'), format: 'xlsx' })).rejects.toThrow(
      "The output's name says CSV (.csv), but it was asked for as Excel workbook. Name it with .xlsx or ask for --format csv.",
    );
    // A name for a format no labelled copy is written in: CSV under .json was written before, unread by any JSON reader.
    await expect(startLabelJob(db, engine, { input, output: join(dir, 'out.json') })).rejects.toThrow(
      "The output's name says JSON (.json), which a labelled copy is not written as. Name it with .jsonl (JSON Lines) or",
    );
    await expect(startLabelJob(db, engine, { input, output: join(dir, 'out.txt'), format: 'csv' })).rejects.toThrow(
      "The output's name says text lines (.txt), which a labelled copy is not written as.",
    );
    expect(existsSync(join(dir, 'out.json')) || existsSync(join(dir, 'out.txt'))).toBe(false);
    const job = await startLabelJob(db, engine, { input, output: join(dir, 'out.xlsx') });
    expect(job.format).toBe('xlsx');
    // Written through a part file, a workbook of the person's is still not replaced without being asked.
    const mine = join(dir, 'mine.xlsx');
    writeFileSync(mine, 'precious');
    await expect(startLabelJob(db, engine, { input, output: mine })).rejects.toThrow('The output file already exists.');
    expect(readFileSync(mine, 'utf8')).toBe('precious');
    await expect(exportCorrected(db, job.job_id, { file: join(dir, 'reviewed.parquet'), format: 'jsonl' })).rejects.toThrow(
      "The output's name says Parquet (.parquet), but it was asked for as JSON Lines.",
    );
    db.close();
  });
});
