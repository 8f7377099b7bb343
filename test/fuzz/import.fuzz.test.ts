/**
 * Hostile data files: random bytes and seeded mutations of real files (GLUE/SuperGLUE/AG News slices, a Parquet file
 * and workbooks written from them) imported as CSV, TSV, JSON Lines, JSON, Parquet, Excel workbooks and plain text.
 * Every case must end in a stored dataset or a SproutError, never another exception, a hang or a runaway allocation,
 * and a failed import must leave nothing behind. (test/data/roundtrip.property.test.ts covers well-formed files; this covers broken ones.)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import { importDataset, type ImportOptions } from '../../main/library/import-dataset.js';
import type { DataFormat } from '../../main/data/types.js';
import { SproutError } from '../../main/errors.js';
import { openLibrary } from '../../main/library/db.js';
import { dataFile, tempDir } from '../data/helpers.js';
import { bytesArbitrary, mutated, structured, type Counter } from './mutate.js';
import { sheetXml, xlsxBytes } from './xlsx-bytes.js';

const dir = tempDir();
const db = openLibrary(join(dir, 'library.sqlite'));
afterAll(() => db.close());
const counter: Counter = { cases: 0, imported: 0, refused: 0 };
let fileNo = 0;
let peakRss = 0;
const startRss = process.memoryUsage().rss;
/** Each input is at most a few KiB; anything near this much extra memory is an allocation sized from the file. */
const RSS_ALLOWANCE = 768 * 2 ** 20;

const head = (file: string, bytes = 3000) => readFileSync(dataFile(...file.split('/'))).subarray(0, bytes);

const cbRows = readFileSync(dataFile('cb', 'train.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .slice(0, 12)
  .map((l) => JSON.parse(l) as Record<string, unknown>);
const parquetSeed = new Uint8Array(
  parquetWriteBuffer({
    columnData: [
      { name: 'premise', data: cbRows.map((r) => String(r.premise)), type: 'STRING' },
      { name: 'hypothesis', data: cbRows.map((r) => String(r.hypothesis)), type: 'STRING' },
      { name: 'label', data: cbRows.map((r) => String(r.label)), type: 'STRING' },
      { name: 'idx', data: cbRows.map((r) => Number(r.idx)), type: 'INT32' },
    ],
    rowGroupSize: 5,
  }),
);

const seeds: Record<DataFormat, Uint8Array[]> = {
  csv: [head('ag_news/test.csv')],
  tsv: [head('cola/in_domain_train.tsv'), head('rte/train.tsv'), head('sst2/train.tsv')],
  jsonl: [head('cb/train.jsonl')],
  json: [Buffer.from(JSON.stringify(cbRows.slice(0, 5)))],
  parquet: [parquetSeed],
  // Stored, not deflated, so that edits land in the XML; the deflated one tests the inflater, the ZIP64 one its records.
  xlsx: [
    xlsxBytes(
      sheetXml([['premise', 'hypothesis', 'label', 'idx'], ...cbRows.map((r) => [r.premise, r.hypothesis, r.label, r.idx].map(String))]),
      false,
    ),
    xlsxBytes(sheetXml(cbRows.map((r) => [String(r.label), String(r.premise)])), true),
    xlsxBytes(sheetXml(cbRows.slice(0, 4).map((r) => [String(r.label), String(r.hypothesis)])), false, true),
  ],
  text: [head('sst2/dev.tsv', 1500)],
};

/** Import options a user could pass, chosen at random per case (mapping left to the importer or named wrongly). */
const sometimes = <T>(values: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: values });
const options = fc.record({
  header: sometimes(fc.boolean()),
  quoting: sometimes(fc.constantFrom('rfc4180' as const, 'none' as const)),
  invalidUtf8: sometimes(fc.constantFrom('error' as const, 'replace' as const)),
  maxRecordChars: sometimes(fc.integer({ min: 1, max: 5000 })),
  labelColumn: sometimes(fc.constantFrom(null, 'label', '1', 'nope')),
  textColumns: sometimes(fc.constantFrom('premise,hypothesis', '0', 'sentence', '3').map((c) => c.split(','))),
  split: sometimes(fc.constantFrom(0, 0.1, 0.5)),
});

async function importOnce(format: DataFormat, bytes: Uint8Array, opts: Omit<ImportOptions, 'format'>): Promise<void> {
  const file = join(dir, `case-${fileNo++}.${format}`);
  writeFileSync(file, bytes);
  const before = (db.prepare('SELECT count(*) AS n FROM dataset_rows').get() as { n: number }).n;
  counter.cases++;
  try {
    const report = await importDataset(db, file, { ...opts, format });
    counter.imported++;
    const stored = (db.prepare('SELECT count(*) AS n FROM dataset_rows WHERE dataset_id = ?').get(report.id) as { n: number }).n;
    expect(stored).toBe(report.rows);
  } catch (error) {
    if (!(error instanceof SproutError))
      throw new Error(`${format} case ${file} ended in ${(error as Error)?.stack ?? String(error)}`, { cause: error });
    counter.refused++;
    expect((db.prepare('SELECT count(*) AS n FROM dataset_rows').get() as { n: number }).n).toBe(before);
    expect(db.inTransaction).toBe(false);
  }
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}

const FORMATS: DataFormat[] = ['csv', 'tsv', 'jsonl', 'json', 'parquet', 'xlsx', 'text'];
const RUNS = { random: 500, mutated: 1000, structured: 500 };
const writeParquet = (columns: Parameters<typeof parquetWriteBuffer>[0]['columnData'], rowGroupSize: number) =>
  new Uint8Array(parquetWriteBuffer({ columnData: columns, rowGroupSize }));

describe.each(FORMATS)('%s import of hostile files', (format) => {
  it(`${RUNS.random} random files: a dataset or a SproutError`, async () => {
    await fc.assert(
      fc.asyncProperty(bytesArbitrary(format), options, async (bytes, opts) => importOnce(format, bytes, opts)),
      { seed: 0x5eed + FORMATS.indexOf(format), numRuns: RUNS.random },
    );
  });

  it(`${RUNS.mutated} mutations of real files: a dataset or a SproutError`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.noBias(fc.constantFrom(...seeds[format]).chain((seed) => mutated(seed, format === 'parquet' || format === 'xlsx'))),
        options,
        async (bytes, opts) => importOnce(format, bytes, opts),
      ),
      { seed: 0xfa11 + FORMATS.indexOf(format), numRuns: RUNS.mutated },
    );
  });

  it(`${RUNS.structured} well-formed files with hostile content: a dataset or a SproutError`, async () => {
    await fc.assert(
      fc.asyncProperty(
        structured(format, (columns, group) => writeParquet(columns as never, group)),
        options,
        async (bytes, opts) => importOnce(format, bytes, opts),
      ),
      { seed: 0x7ab1e + FORMATS.indexOf(format), numRuns: RUNS.structured },
    );
  });
});

describe('cases the fuzzer found, kept as plain tests', () => {
  it('columns and keys named __proto__ or constructor are ordinary columns (they used to crash the import)', async () => {
    const csv = join(dir, 'proto.csv');
    writeFileSync(csv, '__proto__,constructor,label\nfirst text,second text,yes\nthird,fourth,no\n');
    const a = await importDataset(db, csv, { textColumns: ['__proto__', 'constructor'], labelColumn: 'label', split: 0 });
    const jsonl = join(dir, 'proto.jsonl');
    writeFileSync(jsonl, '{"constructor":"a text","__proto__":"yes"}\n{"constructor":"another","__proto__":"no"}\n');
    const b = await importDataset(db, jsonl, { textColumns: ['constructor'], labelColumn: '__proto__', split: 0 });
    const rows = (id: number) => db.prepare('SELECT texts, label FROM dataset_rows WHERE dataset_id = ? ORDER BY row_index').all(id);
    expect(rows(a.id)).toEqual([
      { texts: '["first text","second text"]', label: 'yes' },
      { texts: '["third","fourth"]', label: 'no' },
    ]);
    expect(rows(b.id)).toEqual([
      { texts: '["a text"]', label: 'yes' },
      { texts: '["another"]', label: 'no' },
    ]);
  });

  it('a Parquet file whose page header is damaged is refused with a SproutError naming the row group', async () => {
    const broken = parquetSeed.slice();
    broken[4] = 0x00; // the first page header's type field
    const file = join(dir, 'broken.parquet');
    writeFileSync(file, broken);
    await expect(importDataset(db, file, { textColumns: ['premise'], labelColumn: 'label' })).rejects.toMatchObject({
      code: 'data-bad-parquet',
      message: expect.stringMatching(/row group 1: /),
    });
  });
});

describe('import fuzz totals', () => {
  it('ran every case within the memory allowance, some imported and some refused', () => {
    expect(counter.cases).toBe(FORMATS.length * (RUNS.random + RUNS.mutated + RUNS.structured));
    expect(counter.imported).toBeGreaterThan(100);
    expect(counter.refused).toBeGreaterThan(100);
    expect(peakRss - startRss).toBeLessThan(RSS_ALLOWANCE);
  });
});
