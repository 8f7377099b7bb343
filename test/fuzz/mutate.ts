/** Seeded generators of hostile file contents for the fuzz tests. */
import fc from 'fast-check';
import type { DataFormat } from '../../main/data/types.js';
import { sheetXml, xlsxBytes } from './xlsx-bytes.js';

export interface Counter {
  cases: number;
  imported: number;
  refused: number;
}

const ascii = (s: string) => Array.from(Buffer.from(s, 'utf8'));

/** Bytes that steer each parser into its interesting states. */
const STRUCTURE: Record<DataFormat, string[]> = {
  csv: [',', '"', '""', '\n', '\r\n', '\r', 'label', 'text'],
  tsv: ['\t', '"', '\n', '\r\n', 'label', 'sentence'],
  jsonl: ['{', '}', '"', ':', ',', '\n', '[', ']', 'null', '"label"', '"premise"', '\\u00', '\\', '1e999', '-0'],
  json: ['[', ']', '{', '}', '"', ':', ',', 'null', '"label"', '"premise"', '\\', '\\ud800', 'true'],
  parquet: ['PAR1'],
  xlsx: [
    '<row>',
    '<row r="0">',
    '</row>',
    '<c r="ZZZZ9">',
    '<c t="s">',
    '<c t="b">',
    '</c>',
    '<v>',
    '</v>',
    '<f>',
    '</f>',
    '<is><t>',
    '</t></is>',
    '&amp;',
    '&#x0;',
    '_x0008_',
    '<!--',
    '<![CDATA[',
    '"',
    '>',
    '1e309',
  ],
  text: ['\n', '\r', '\r\n', ' '],
};
const ODD = [
  [0xef, 0xbb, 0xbf],
  [0xff, 0xfe],
  [0xfe, 0xff],
  [0x00],
  [0xc3],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98, 0x80],
  [0xed, 0xa0, 0x80],
  [0xff],
];

/** Random files: raw bytes, or a soup of the format's structural tokens, odd UTF-8 and text. */
export function bytesArbitrary(format: DataFormat): fc.Arbitrary<Uint8Array> {
  const token = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...STRUCTURE[format].map(ascii)) },
    { weight: 1, arbitrary: fc.constantFrom(...ODD) },
    { weight: 3, arbitrary: fc.string({ maxLength: 6 }).map(ascii) },
  );
  const soup = fc.array(token, { maxLength: 300 }).map((parts) => Uint8Array.from(parts.flat()));
  const raw = fc.uint8Array({ maxLength: 2000 });
  // A workbook: a sound archive around a soup of sheet markup, so the sheet's reader is reached.
  if (format === 'xlsx')
    return fc.oneof(
      fc.tuple(soup, fc.boolean()).map(([s, d]) => xlsxBytes(Buffer.from(s).toString('utf8'), d)),
      raw,
    );
  if (format !== 'parquet') return fc.oneof(soup, raw);
  // Parquet: the magic at both ends and a footer length, around random bytes, so the footer parser is reached.
  const framed = fc.tuple(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })).map(([body, len]) => {
    const out = new Uint8Array(4 + body.length + 8);
    out.set(ascii('PAR1'), 0);
    out.set(body, 4);
    new DataView(out.buffer).setUint32(4 + body.length, len % (body.length + 2) === 0 ? len : len % (body.length + 1), true);
    out.set(ascii('PAR1'), out.length - 4);
    return out;
  });
  return fc.oneof(framed, raw);
}

type Mutation = (b: Uint8Array) => Uint8Array;

/** One to four seeded edits of a real file: byte flips, structural insertions, deletions, duplications, truncation. */
export function mutated(seed: Uint8Array, binary: boolean): fc.Arbitrary<Uint8Array> {
  const at = fc.double({ min: 0, max: 1, noNaN: true });
  const insertable = binary
    ? fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 8 }).map((b) => Array.from(b)),
        fc.constantFrom([0xff, 0xff, 0xff, 0x7f], [0, 0, 0, 0], [0x15], [0x19], [0x1c]),
      )
    : fc.oneof(
        { weight: 1, arbitrary: fc.constantFrom(...ODD) },
        {
          weight: 5,
          arbitrary: fc.constantFrom(...[',', '\t', '"', '\n', '\r', '{', '}', '[', ']', ':', '\\', 'null', '0', '"x"'].map(ascii)),
        },
      );
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.tuple(at, fc.integer({ min: 0, max: 255 })).map(([p, v]) => (b: Uint8Array) => {
      const out = b.slice();
      if (out.length) out[Math.floor(p * out.length) % out.length] = v;
      return out;
    }),
    fc.tuple(at, insertable).map(([p, bytes]) => (b: Uint8Array) => {
      const i = Math.floor(p * b.length);
      return Uint8Array.from([...b.subarray(0, i), ...bytes, ...b.subarray(i)]);
    }),
    fc.tuple(at, fc.integer({ min: 1, max: 64 })).map(([p, n]) => (b: Uint8Array) => {
      const i = Math.floor(p * b.length);
      return Uint8Array.from([...b.subarray(0, i), ...b.subarray(i + n)]);
    }),
    fc.tuple(at, at, fc.integer({ min: 1, max: 200 })).map(([p, q, n]) => (b: Uint8Array) => {
      const from = Math.floor(p * b.length);
      const to = Math.floor(q * b.length);
      return Uint8Array.from([...b.subarray(0, to), ...b.subarray(from, from + n), ...b.subarray(to)]);
    }),
    at.map((p) => (b: Uint8Array) => b.subarray(0, Math.floor(p * b.length))),
  );
  // Parquet keeps its metadata at the end: aim half the edits at the last 10% of the file.
  const aimed = binary
    ? fc.tuple(fc.boolean(), at, fc.integer({ min: 0, max: 255 })).map(([tail, p, v]) => (b: Uint8Array) => {
        const out = b.slice();
        if (!out.length) return out;
        const i = tail ? out.length - 1 - Math.floor(p * Math.min(out.length, Math.ceil(out.length / 10) + 8)) : Math.floor(p * out.length);
        out[Math.max(0, i)] = v;
        return out;
      })
    : mutation;
  return fc.array(fc.oneof(mutation, aimed), { minLength: 1, maxLength: 4 }).map((edits) => edits.reduce((b, edit) => edit(b), seed));
}

const COLUMN_NAMES = ['premise', 'hypothesis', 'label', 'sentence', 'text', '', ' label', 'label', '0', '__proto__', 'constructor', 'é'];

/** A value of any JSON type, biased toward the column names the importer looks for as keys. */
const jsonRecord = fc.oneof(
  { weight: 3, arbitrary: fc.dictionary(fc.constantFrom(...COLUMN_NAMES), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

const cell = fc.oneof(
  fc.string({ maxLength: 10 }),
  fc.constantFrom('', '"', '""', 'a"b', '\t', '\n', '\r', ',', 'null', 'NaN', '-1', '1e309', '\u2028', '\ufeff', '\ud800'),
);

function delimited(delimiter: string): fc.Arbitrary<Uint8Array> {
  return fc.integer({ min: 1, max: 5 }).chain((n) =>
    fc
      .tuple(
        fc.array(fc.constantFrom(...COLUMN_NAMES), { minLength: n, maxLength: n }),
        fc.array(fc.array(cell, { minLength: 0, maxLength: n + 1 }), { maxLength: 20 }),
        fc.boolean(),
      )
      .map(([header, rows, quote]) => {
        const field = (v: string) => (quote && /["\t\n\r,]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
        return Buffer.from([header, ...rows].map((r) => r.map(field).join(delimiter)).join('\n'));
      }),
  );
}

type ParquetColumn = { name: string; data: unknown[]; type: 'STRING' | 'INT32' | 'DOUBLE' | 'BOOLEAN' | 'JSON' };

const parquetColumn = (rows: number): fc.Arbitrary<ParquetColumn> =>
  fc.constantFrom(...COLUMN_NAMES.filter((c) => c !== '')).chain((name) =>
    fc.oneof(
      fc
        .array(fc.option(fc.string({ maxLength: 12 })), { minLength: rows, maxLength: rows })
        .map((data) => ({ name, data, type: 'STRING' as const })),
      fc
        .array(fc.option(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })), { minLength: rows, maxLength: rows })
        .map((data) => ({ name, data, type: 'INT32' as const })),
      fc.array(fc.option(fc.double()), { minLength: rows, maxLength: rows }).map((data) => ({ name, data, type: 'DOUBLE' as const })),
      fc.array(fc.option(fc.boolean()), { minLength: rows, maxLength: rows }).map((data) => ({ name, data, type: 'BOOLEAN' as const })),
      fc
        .array(fc.option(fc.jsonValue({ maxDepth: 2 })), { minLength: rows, maxLength: rows })
        .map((data) => ({ name, data, type: 'JSON' as const })),
    ),
  );

/**
 * Well-formed files with hostile content: odd and duplicate column names, ragged rows, values of every JSON type,
 * Parquet columns of every common type with nulls. `writeParquet` turns columns into a file (hyparquet-writer).
 */
export function structured(
  format: DataFormat,
  writeParquet: (columns: ParquetColumn[], rowGroupSize: number) => Uint8Array,
): fc.Arbitrary<Uint8Array> {
  switch (format) {
    case 'csv':
      return delimited(',');
    case 'tsv':
      return delimited('\t');
    case 'jsonl':
      return fc.array(jsonRecord, { maxLength: 20 }).map((records) => Buffer.from(records.map((r) => JSON.stringify(r)).join('\n')));
    case 'json':
      return fc.array(jsonRecord, { maxLength: 20 }).map((records) => Buffer.from(JSON.stringify(records)));
    case 'text':
      return fc.array(cell, { maxLength: 30 }).map((lines) => Buffer.from(lines.join('\n')));
    case 'xlsx':
      return fc
        .tuple(fc.array(fc.array(cell, { maxLength: 6 }), { maxLength: 20 }), fc.boolean())
        .map(([rows, d]) => xlsxBytes(sheetXml(rows), d));
    case 'parquet':
      return fc
        .integer({ min: 1, max: 12 })
        .chain((rows) =>
          fc.tuple(
            fc.uniqueArray(parquetColumn(rows), { minLength: 1, maxLength: 4, selector: (c) => c.name }),
            fc.integer({ min: 1, max: rows }),
          ),
        )
        .map(([columns, group]) => writeParquet(columns, group));
  }
}
