import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { libraryPath, openLibrary, type LibraryDb } from '../../main/library/db.js';

export const repoRoot = path.resolve(fileURLToPath(import.meta.url), '../../..');
export const sharedData = path.resolve(repoRoot, '../shared/data');

export function dataFile(...parts: string[]): string {
  return path.join(sharedData, ...parts);
}

export function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'sprout-data-'));
}

/** A fresh library in a temp SPROUT_HOME-like folder. */
export function freshLibrary(): LibraryDb {
  return openLibrary(libraryPath(tempDir()));
}

export function tableCounts(db: LibraryDb): { datasets: number; rows: number } {
  return {
    datasets: (db.prepare('SELECT COUNT(*) AS n FROM datasets').get() as { n: number }).n,
    rows: (db.prepare('SELECT COUNT(*) AS n FROM dataset_rows').get() as { n: number }).n,
  };
}

/** The file's physical lines split on tabs: GLUE's own reading, independent of the importer. */
export function tsvLines(file: string): string[][] {
  const text = readFileSync(file, 'utf8');
  return (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n').map((l) => l.split('\t'));
}

/** Runs a Python script (the system's python3, standard library only) with arguments; its standard output. */
export function python(script: string, ...args: string[]): string {
  return execFileSync('python3', ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
}

/** Runs a Python script under Debian's python3, which has openpyxl (python3-openpyxl; a pyenv python3 on PATH may not). */
export function debianPython(script: string, ...args: string[]): string {
  return execFileSync('/usr/bin/python3', ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
}

/**
 * The rows of a workbook's sheet (`sheet`, else the first visible one) as openpyxl reads them, each cell as Excel's "Save As CSV" writes its
 * value (empty: '', booleans: TRUE/FALSE, whole numbers without a decimal point), with the row's number; rows with
 * nothing in them are left out.
 */
export function openpyxlRows(file: string, sheet = ''): { line: number; cells: string[] }[] {
  const script = `
import json, sys, openpyxl
book = openpyxl.load_workbook(sys.argv[1])
sheet = book[sys.argv[2]] if sys.argv[2] else next(book[n] for n in book.sheetnames if book[n].sheet_state == 'visible')
def text(v):
    if v is None: return ''
    if isinstance(v, bool): return 'TRUE' if v else 'FALSE'
    if isinstance(v, float) and v.is_integer(): return str(int(v))
    return str(v)
rows = []
for row in sheet.iter_rows():
    cells = [text(c.value) for c in row]
    if any(cells): rows.append({'line': row[0].row, 'cells': cells})
print(json.dumps(rows))`;
  return JSON.parse(debianPython(script, file, sheet)) as { line: number; cells: string[] }[];
}

/**
 * Every record of a CSV/TSV as Python's csv module reads it: in `encoding`, split on `delimiter`, quoted fields read as
 * RFC 4180 has them unless `quoting` is none (GLUE's TSVs, where quotes are text).
 */
export function pythonCsvRows(
  file: string,
  { delimiter, encoding = 'utf-8', quoting = 'minimal' }: { delimiter: string; encoding?: string; quoting?: 'minimal' | 'none' },
): string[][] {
  const script = `
import csv, json, sys
path, delimiter, encoding, quoting = sys.argv[1:]
with open(path, newline='', encoding=encoding) as f:
    print(json.dumps(list(csv.reader(f, delimiter=delimiter, quoting=csv.QUOTE_NONE if quoting == 'none' else csv.QUOTE_MINIMAL))))`;
  return JSON.parse(python(script, file, delimiter, encoding, quoting)) as string[][];
}

/** `source` (UTF-8) saved again in `codec` (a Python codec name), as a program set to that code page saves it. */
export function transcode(source: string, target: string, codec: string): void {
  python(
    `import sys; open(sys.argv[2], 'wb').write(open(sys.argv[1], encoding='utf-8').read().encode(sys.argv[3]))`,
    source,
    target,
    codec,
  );
}

/** SST-2's dev rows split over a workbook's sheets as a person would keep them: "train", "validation", then notes. */
export function sst2Workbook(file: string): void {
  debianPython(
    `
import csv, sys, openpyxl
rows = list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8'), delimiter='\\t', quoting=csv.QUOTE_NONE))
book = openpyxl.Workbook()
book.active.title = 'Notes'
book.active.append(['rows 1-600 train, the rest validation'])
for name, part in (('train', rows[1:601]), ('validation', rows[601:])):
    sheet = book.create_sheet(name)
    for row in [rows[0]] + part: sheet.append(row)
book.save(sys.argv[2])`,
    dataFile('sst2', 'dev.tsv'),
    file,
  );
}

/**
 * Writes a TSV/CSV's rows into a workbook with openpyxl, on a sheet named "data" followed by a one-line "notes" sheet;
 * `numeric`: 0-based columns written as numbers.
 */
export function openpyxlWorkbook(
  source: string,
  target: string,
  options: { delimiter: string; numeric?: number[]; quoting?: 'none' },
): void {
  debianPython(
    `
import csv, json, sys, openpyxl
source, target, delimiter, numeric, quoting = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), sys.argv[5]
book = openpyxl.Workbook()
sheet = book.active
sheet.title = 'data'
with open(source, newline='', encoding='utf-8') as f:
    for row in csv.reader(f, delimiter=delimiter, quoting=csv.QUOTE_NONE if quoting == 'none' else csv.QUOTE_MINIMAL):
        sheet.append([int(v) if i in numeric else v for i, v in enumerate(row)])
book.create_sheet('notes').append(['written by openpyxl'])
book.save(target)`,
    source,
    target,
    options.delimiter,
    JSON.stringify(options.numeric ?? []),
    options.quoting ?? 'minimal',
  );
}

/** The first `lines` lines of a file under ../shared/data, byte for byte, written to `target`; `target` returned. */
export function headOf(source: string, lines: number, target: string): string {
  writeFileSync(
    target,
    readFileSync(path.join(sharedData, source), 'utf8')
      .split(/(?<=\n)/)
      .slice(0, lines)
      .join(''),
  );
  return target;
}
