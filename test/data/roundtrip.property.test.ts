import { writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DsvParser, type DsvRow } from '../../main/data/dsv.js';
import { readRecords } from '../../main/data/read.js';
import type { ReadOptions } from '../../main/data/types.js';
import { tempDir } from './helpers.js';

type Table = { columns: string[]; rows: string[][] };

const char = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.constantFrom(',', '"', '\t', '\n', '\r', ' ', '\\', '""', 'é', '😀', '\u00a0', '\u2028', '\b') },
);

function table(minColumns: number, cell: fc.Arbitrary<string>): fc.Arbitrary<Table> {
  return fc.integer({ min: minColumns, max: 4 }).chain((n) =>
    fc.record({
      columns: fc.constant(Array.from({ length: n }, (_, i) => `c${i}`)),
      rows: fc.array(fc.array(cell, { minLength: n, maxLength: n }), { minLength: 1, maxLength: 12 }),
    }),
  );
}

/** A standard RFC 4180 writer: quote a field when it holds the delimiter, a quote or a line break (or would make a blank line). */
function writeDelimited(t: Table, delimiter: string, eol: string, finalEol: boolean): string {
  const field = (v: string, alone: boolean) =>
    v.includes(delimiter) || /["\r\n]/.test(v) || (alone && v === '') ? `"${v.replace(/"/g, '""')}"` : v;
  const line = (cells: string[]) => cells.map((v) => field(v, cells.length === 1)).join(delimiter);
  return [line(t.columns), ...t.rows.map(line)].join(eol) + (finalEol ? eol : '');
}

/** GLUE-style TSV: no quoting at all; cells hold no tab or line break. */
function writeBareTsv(t: Table, finalEol: boolean): string {
  return [t.columns, ...t.rows].map((cells) => cells.join('\t')).join('\n') + (finalEol ? '\n' : '');
}

function writeJsonl(t: Table, finalEol: boolean): string {
  return t.rows.map((r) => JSON.stringify(Object.fromEntries(t.columns.map((c, i) => [c, r[i]])))).join('\n') + (finalEol ? '\n' : '');
}

const dir = tempDir();
let n = 0;

async function readBack(content: string, name: string, options: ReadOptions): Promise<Record<string, string | null>[]> {
  const p = path.join(dir, `${n++}-${name}`);
  writeFileSync(p, content);
  const out: Record<string, string | null>[] = [];
  for await (const r of readRecords(p, options)) out.push({ ...r.fields });
  return out;
}

function expected(t: Table): Record<string, string>[] {
  return t.rows.map((r) => Object.fromEntries(t.columns.map((c, i) => [c, r[i]])));
}

const cell = fc.string({ unit: char, maxLength: 8 });
const settings = { seed: 20240501, numRuns: 500 };

describe('random tables written by a standard writer read back identically', () => {
  it('CSV (RFC 4180, LF or CRLF)', async () => {
    await fc.assert(
      fc.asyncProperty(table(1, cell), fc.boolean(), fc.boolean(), async (t, crlf, finalEol) => {
        expect(await readBack(writeDelimited(t, ',', crlf ? '\r\n' : '\n', finalEol), 't.csv', {})).toEqual(expected(t));
      }),
      settings,
    );
  });

  it('TSV with RFC 4180 quoting', async () => {
    await fc.assert(
      fc.asyncProperty(table(1, cell), fc.boolean(), fc.boolean(), async (t, crlf, finalEol) => {
        expect(await readBack(writeDelimited(t, '\t', crlf ? '\r\n' : '\n', finalEol), 't.tsv', { quoting: 'rfc4180' })).toEqual(
          expected(t),
        );
      }),
      settings,
    );
  });

  it('TSV without quoting (GLUE style), quotes anywhere', async () => {
    const bare = cell.map((s) => s.replace(/[\t\r\n]/g, ' '));
    await fc.assert(
      fc.asyncProperty(table(2, bare), fc.boolean(), async (t, finalEol) => {
        expect(await readBack(writeBareTsv(t, finalEol), 't.tsv', { quoting: 'none' })).toEqual(expected(t));
      }),
      settings,
    );
  });

  it('JSON Lines', async () => {
    await fc.assert(
      fc.asyncProperty(table(1, fc.string({ unit: 'binary', maxLength: 8 })), fc.boolean(), async (t, finalEol) => {
        expect(await readBack(writeJsonl(t, finalEol), 't.jsonl', {})).toEqual(expected(t));
      }),
      settings,
    );
  });
});

describe('the CSV/TSV parser is blind to where the text is cut into chunks', () => {
  it.each(['rfc4180', 'none'] as const)('quoting %s', (quoting) => {
    fc.assert(
      fc.property(table(1, cell), fc.array(fc.nat(), { maxLength: 6 }), (t, cuts) => {
        const text = writeDelimited(t, ',', '\r\n', true);
        const parse = (pieces: string[]) => {
          const rows: DsvRow[] = [];
          const parser = new DsvParser(',', quoting, 'mem.csv', 1 << 20);
          for (const piece of pieces) parser.push(piece, rows);
          parser.end(rows);
          return rows;
        };
        const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const pieces = [0, ...at].map((start, i) => text.slice(start, [...at, text.length][i]));
        let whole: DsvRow[] | Error;
        try {
          whole = parse([text]);
        } catch (error) {
          whole = error as Error;
        }
        if (whole instanceof Error) expect(() => parse(pieces)).toThrow(whole.message);
        else expect(parse(pieces)).toEqual(whole);
      }),
      settings,
    );
  });
});
