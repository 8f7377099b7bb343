import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectHeader } from '../../main/data/detect-header.js';
import { formatFromName } from '../../main/choices.js';
import { openSource } from '../../main/data/read.js';
import { dataFile, python, pythonCsvRows, sharedData, tempDir } from './helpers.js';

/**
 * Whether each data file of ../shared/data has a header row, as its PROVENANCE.md states (JSON Lines keys and
 * plain-text lines are not a header question: JSON names its fields, text has none).
 */
const EXPECTED: Record<string, boolean> = {
  'ag_news/test.csv': false,
  'ag_news/classes.txt': false,
  'ag_news/readme.txt': false,
  'cb/train.jsonl': true,
  'cb/val.jsonl': true,
  'cb/test.jsonl': true,
  'cola/in_domain_train.tsv': false,
  'cola/in_domain_dev.tsv': false,
  'cola/out_of_domain_dev.tsv': false,
  'rte/train.tsv': true,
  'rte/dev.tsv': true,
  'rte/test.tsv': true,
  'sst2/train.tsv': true,
  'sst2/dev.tsv': true,
  'sst2/test.tsv': true,
};

function dataFiles(): string[] {
  return readdirSync(sharedData, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(path.join(sharedData, d.name)).map((f) => `${d.name}/${f}`))
    .filter((f) => formatFromName(f) !== undefined)
    .sort();
}

describe('header detection on every data file in ../shared/data', () => {
  it('the table above names every data file there', () => {
    expect(dataFiles()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))('%s: header %s', async (file, header) => {
    const source = await openSource(dataFile(...file.split('/')));
    expect(source.info.header).toBe(header);
    if (source.info.format === 'csv' || source.info.format === 'tsv')
      expect(source.info.headerReason).toMatch(/^row 1 looks like (a header|data): /);
    await (source.records as AsyncGenerator).return(undefined);
  });

  it('CoLA read with the detected choice keeps its first sentence as a row, under index-named columns', async () => {
    const source = await openSource(dataFile('cola', 'in_domain_train.tsv'));
    expect(source.info.columns).toEqual(['0', '1', '2', '3']);
    const first = (await source.records[Symbol.asyncIterator]().next()).value!;
    expect(first.line).toBe(1);
    expect(first.fields['3']).toBe("Our friends won't buy this analysis, let alone the next one we propose.");
  });
});

describe('empty columns, as Excel writes them after a stray cell far right', () => {
  it("SST-2's training file with two empty columns: still a header, the rows as Python's csv reads them", async () => {
    const file = path.join(tempDir(), 'sst2-excel.csv');
    const script = `
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8'), delimiter='\\t', quoting=csv.QUOTE_NONE))[:500]
with open(sys.argv[2], 'w', newline='', encoding='utf-8') as f: csv.writer(f).writerows(r + ['', ''] for r in rows)
print(json.dumps(rows))`;
    const rows = JSON.parse(
      execFileSync('python3', ['-c', script, dataFile('sst2', 'train.tsv'), file], { encoding: 'utf8' }),
    ) as string[][];
    const source = await openSource(file);
    expect(source.info).toMatchObject({ header: true, columns: ['sentence', 'label', '2', '3'] });
    const got: string[][] = [];
    for await (const r of source.records) got.push([r.fields.sentence!, r.fields.label!]);
    expect(got).toEqual(rows.slice(1));
  });

  it('and a headerless file with them stays headerless (AG News)', () => {
    const first = ['3', 'Fears for T N pension after talks', 'Unions representing workers', '', ''];
    const below = [
      ['4', 'The Race is On', 'SPACE.com - TORONTO', '', ''],
      ['3', 'Ky. Company Wins Grant', 'AP - A company', '', ''],
    ];
    expect(detectHeader([first, ...below])).toMatchObject({ header: false, reason: 'row 1 looks like data: "3" in column 0 recurs below' });
  });
});

describe('headerless texts to label, with nothing but their wording to go by', () => {
  // Row 1 was taken as a header, and `sprout label` left the first text unlabelled.
  const rowsOf = async (file: string) => {
    const source = await openSource(file);
    const rows: (string | null)[][] = [];
    for await (const r of source.records) rows.push(Object.values(r.fields));
    return { info: source.info, rows };
  };

  it("SST-2's sentences alone, one a line: every sentence is a row, as Python's csv reads the file", async () => {
    const file = path.join(tempDir(), 'reviews.csv');
    python(
      'import csv, sys\nrows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8"), delimiter="\\t", quoting=csv.QUOTE_NONE))\n' +
        'csv.writer(open(sys.argv[2], "w", newline="", encoding="utf-8")).writerows([r[0]] for r in rows[1:21])',
      dataFile('sst2', 'dev.tsv'),
      file,
    );
    const { info, rows } = await rowsOf(file);
    expect(info.header).toBe(false);
    expect(info.headerReason).toMatch(/^row 1 reads like a sentence \("it 's a charming and often/);
    expect(rows).toEqual(pythonCsvRows(file, { delimiter: ',' }));
  });

  it('AG News without its class column: title and description of every article are rows', async () => {
    const file = path.join(tempDir(), 'articles.csv');
    python(
      'import csv, sys\nrows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))[:20]\n' +
        'csv.writer(open(sys.argv[2], "w", newline="", encoding="utf-8")).writerows(r[1:] for r in rows)',
      dataFile('ag_news', 'test.csv'),
      file,
    );
    const { info, rows } = await rowsOf(file);
    expect(info.header).toBe(false);
    expect(rows).toEqual(pythonCsvRows(file, { delimiter: ',' }));
  });

  it('column names, even with spaces, are still a header', () => {
    expect(detectHeader([['review text'], ['Great film.'], ['Dull.']]).header).toBe(true);
    expect(
      detectHeader([
        ['title', 'body'],
        ['A day out', 'We went.'],
        ['Rain', 'It rained all day.'],
      ]).header,
    ).toBe(true);
  });
});

/** Bodies with a label column (integers or words, row 1's label recurring below) and free-text columns. */
const word = fc.stringMatching(/^[a-z]{2,8}$/);
const sentence = fc.array(word, { minLength: 4, maxLength: 12 }).map((w) => `${w.join(' ')}.`);
const body = fc
  .record({
    rows: fc.integer({ min: 4, max: 40 }),
    labels: fc.oneof(
      fc.uniqueArray(fc.integer({ min: 0, max: 9 }).map(String), { minLength: 2, maxLength: 4 }),
      fc.uniqueArray(word, { minLength: 2, maxLength: 4 }),
    ),
    texts: fc.integer({ min: 1, max: 3 }),
    labelFirst: fc.boolean(),
    seed: fc.integer(),
  })
  .chain(({ rows, labels, texts, labelFirst }) =>
    fc
      .tuple(
        fc.array(fc.array(sentence, { minLength: texts, maxLength: texts }), { minLength: rows, maxLength: rows }),
        fc.array(fc.constantFrom(...labels), { minLength: rows, maxLength: rows }),
      )
      .map(([t, l]) => {
        // Row 1's label is one the file uses again: a label column of a real dataset repeats its values.
        l[rows - 1] = l[0];
        return t.map((cells, i) => (labelFirst ? [l[i], ...cells] : [...cells, l[i]]));
      }),
  );
const headerFor = (width: number) =>
  fc.uniqueArray(fc.stringMatching(/^[A-Za-z][A-Za-z_]{0,9}$/), {
    minLength: width,
    maxLength: width,
    comparator: (a, b) => a.toLowerCase() === b.toLowerCase(),
  });

describe('header detection on generated pairs: the same body with and without a header row', () => {
  it('finds the header exactly when it is there (detector)', () => {
    fc.assert(
      fc.property(
        body.chain((b) => headerFor(b[0].length).map((h) => ({ b, h }))),
        ({ b, h }) => {
          fc.pre(!h.some((name) => b.some((row) => row.includes(name))));
          expect(detectHeader(b).header).toBe(false);
          expect(detectHeader([h, ...b]).header).toBe(true);
        },
      ),
      { numRuns: 500, seed: 14 },
    );
  });

  it('and through the reader: CSV and TSV files, headerless rows all kept', async () => {
    const dir = tempDir();
    await fc.assert(
      fc.asyncProperty(
        body.chain((b) => headerFor(b[0].length).map((h) => ({ b, h }))),
        fc.constantFrom(',', '\t'),
        async ({ b, h }, delimiter) => {
          fc.pre(!h.some((name) => b.some((row) => row.includes(name))));
          const ext = delimiter === ',' ? 'csv' : 'tsv';
          const write = (name: string, rows: string[][]) => {
            const file = path.join(dir, `${name}.${ext}`);
            writeFileSync(file, rows.map((r) => r.join(delimiter)).join('\n') + '\n');
            return file;
          };
          const without = await openSource(write('without', b));
          const rowsWithout: unknown[] = [];
          for await (const r of without.records) rowsWithout.push(Object.values(r.fields));
          expect(without.info.header).toBe(false);
          expect(rowsWithout).toEqual(b);
          const withHeader = await openSource(write('with', [h, ...b]));
          expect(withHeader.info.header).toBe(true);
          expect(withHeader.info.columns).toEqual(h);
          await (withHeader.records as AsyncGenerator).return(undefined);
        },
      ),
      { numRuns: 60, seed: 14 },
    );
  });
});
