/**
 * Files in a Windows code page, as Excel's "CSV (Comma delimited)" saves them: Python writes them (its own codecs and
 * csv module) and reads them back, and Sprout's reading must equal Python's, row for row.
 */
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ENCODING_CHOICES } from '../../main/choices.js';
import { SproutError } from '../../main/errors.js';
import { openSource, readRecords } from '../../main/data/read.js';
import type { LegacyEncoding } from '../../main/data/types.js';
import type { LibraryDb } from '../../main/library/db.js';
import { loadDatasetRows } from '../../main/library/datasets.js';
import { importDataset, type ImportOptions } from '../../main/library/import-dataset.js';
import { dataFile, freshLibrary, python, pythonCsvRows, tempDir, transcode } from './helpers.js';

/** Python's name for each code page (WHATWG's Shift_JIS is Windows' cp932, its EUC-KR Windows' cp949). */
const PYTHON_CODECS: Record<LegacyEncoding, string> = {
  'windows-1252': 'cp1252',
  'windows-1250': 'cp1250',
  'windows-1251': 'cp1251',
  'windows-1253': 'cp1253',
  'windows-1254': 'cp1254',
  shift_jis: 'cp932',
  gbk: 'gbk',
  'euc-kr': 'cp949',
  big5: 'big5',
  macintosh: 'mac_roman',
};

/** A sentence in a language each code page is for, quoted and comma'd so that the CSV quotes it. */
const SAMPLES: Record<LegacyEncoding, string> = {
  'windows-1252': 'Café crème, brûlée – «naïve» “quotes” €5',
  'windows-1250': 'Zażółć gęślą jaźń, Příliš žluťoučký kůň',
  'windows-1251': 'Съешь же ещё этих мягких, французских булок',
  'windows-1253': 'Καλημέρα κόσμε, ξεσκεπάζω την ψυχοφθόρα βδελυγμία',
  'windows-1254': 'Pijamalı hasta, yağız şoföre çabucak güvendi',
  shift_jis: 'いろはにほへと、ちりぬるを, 日本語の「文章」です',
  gbk: '我能吞下玻璃而不伤身体, 中文“文本”',
  'euc-kr': '다람쥐 헌 쳇바퀴에, 타고파 한국어',
  big5: '我能吞下玻璃而不傷身體, 繁體中文',
  macintosh: 'Crème brûlée – «naïve» “quotes” €5, Ÿ and π',
};

let db: LibraryDb;
beforeEach(() => {
  db = freshLibrary();
});
afterEach(() => db.close());

describe("CoLA's training file saved in Windows-1252 (headerless TSV, José and an en dash)", () => {
  const dir = tempDir();
  const file = join(dir, 'in_domain_train.tsv');
  beforeAll(() => transcode(dataFile('cola', 'in_domain_train.tsv'), file, 'cp1252'));
  const read: ImportOptions = { header: false, textColumns: ['3'], labelColumn: '1' };

  it('is refused as UTF-8 at its first é, showing the line as Windows-1252 reads it and naming --encoding', async () => {
    const error = (await importDataset(db, file, read).catch((e: unknown) => e)) as SproutError;
    expect(error).toBeInstanceOf(SproutError);
    expect(error.code).toBe('data-invalid-utf8');
    expect(error.details).toMatchObject({ file, line: 846, column: 12 });
    expect(error.message).toContain('Read as Windows-1252, the line says "bc01 1  José likes cabbage, and Holly does too."');
    expect(error.details.hint).toContain('--encoding windows-1252');
    expect(error.details.uiHint).toContain('set "Encoding" to Windows-1252');
  });

  it('imports with --encoding windows-1252: every sentence as Python reads it in cp1252', async () => {
    const report = await importDataset(db, file, { ...read, encoding: 'windows-1252' });
    expect(report.encoding).toBe('windows-1252');
    const expected = pythonCsvRows(file, { delimiter: '\t', encoding: 'cp1252', quoting: 'none' });
    expect(report.rows).toBe(expected.length);
    const rows = [...loadDatasetRows(db, report.id, 'train'), ...loadDatasetRows(db, report.id, 'validation')];
    const byIndex = new Map(rows.map((r) => [r.index, r]));
    expected.forEach((fields, i) => {
      expect(byIndex.get(i)!.fields['3']).toBe(fields[3]);
      expect(byIndex.get(i)!.label).toBe(fields[1]);
    });
    expect(expected.filter((f) => /[éè–…]/.test(f[3]))).toHaveLength(17);
  });

  it('still reads a byte order mark first: a UTF-8 file with one is UTF-8 whatever the choice', async () => {
    const marked = join(dir, 'marked.tsv');
    python(
      `import sys; open(sys.argv[2], 'w', encoding='utf-8-sig', newline='').write(open(sys.argv[1], encoding='utf-8').read())`,
      dataFile('cola', 'in_domain_dev.tsv'),
      marked,
    );
    const source = await openSource(marked, { header: false, encoding: 'windows-1252' });
    expect(source.info).toMatchObject({ encoding: 'utf-8', byteOrderMark: true });
    const got: (string | null)[] = [];
    for await (const r of source.records) got.push(r.fields['3']);
    expect(got).toEqual(pythonCsvRows(marked, { delimiter: '\t', encoding: 'utf-8-sig', quoting: 'none' }).map((f) => f[3]));
  });
});

describe('a Mac\'s text files: lines ending in a lone CR, as Excel for Mac\'s "CSV (Macintosh)" saves them', () => {
  const dir = tempDir();
  const read: ImportOptions = { header: false, textColumns: ['3'], labelColumn: '1' };
  /** `source` (UTF-8, LF) with its lines ending in CR, in Python's codec `codec`. */
  const asMac = (source: string, target: string, codec: string) =>
    python(
      `import sys; open(sys.argv[2], 'wb').write(open(sys.argv[1], encoding='utf-8', newline='').read().replace('\\n', '\\r').encode(sys.argv[3]))`,
      source,
      target,
      codec,
    );

  it("reads SST-2 in UTF-8 line by line, header detected, as Python's csv reads it", async () => {
    // The whole file was one line: a header of 873 lines' text and no data rows.
    const file = join(dir, 'dev.tsv');
    asMac(dataFile('sst2', 'dev.tsv'), file, 'utf-8');
    const report = await importDataset(db, file, {});
    const expected = pythonCsvRows(file, { delimiter: '\t', quoting: 'none' });
    expect(expected[0]).toEqual(['sentence', 'label']);
    expect([report.header, report.rows]).toEqual([true, expected.length - 1]);
    const rows = [...loadDatasetRows(db, report.id, 'train'), ...loadDatasetRows(db, report.id, 'validation')];
    const byIndex = new Map(rows.map((r) => [r.index, r]));
    expected.slice(1).forEach(([sentence, label], i) => {
      expect(byIndex.get(i)!.fields.sentence).toBe(sentence);
      expect(byIndex.get(i)!.label).toBe(label);
      expect(byIndex.get(i)!.line).toBe(i + 2);
    });
  });

  it('refuses CoLA in Mac OS Roman as UTF-8 at its first é, showing the line as Mac OS Roman reads it, then reads it with --encoding macintosh', async () => {
    const file = join(dir, 'in_domain_train.tsv');
    asMac(dataFile('cola', 'in_domain_train.tsv'), file, 'mac_roman');
    const error = (await importDataset(db, file, read).catch((e: unknown) => e)) as SproutError;
    expect(error.code).toBe('data-invalid-utf8');
    expect(error.details).toMatchObject({ file, line: 846, column: 12 });
    expect(error.message).toContain('Read as Mac OS Roman, the line says "bc01 1  José likes cabbage, and Holly does too."');
    expect(error.details.hint).toContain('"CSV (Macintosh)"');
    expect(error.details.hint).toContain('--encoding macintosh');
    expect(error.details.uiHint).toContain('set "Encoding" to Mac OS Roman');
    const report = await importDataset(db, file, { ...read, encoding: 'macintosh' });
    const expected = pythonCsvRows(file, { delimiter: '\t', encoding: 'mac_roman', quoting: 'none' });
    expect(report.rows).toBe(expected.length);
    const rows = [...loadDatasetRows(db, report.id, 'train'), ...loadDatasetRows(db, report.id, 'validation')];
    const byIndex = new Map(rows.map((r) => [r.index, r]));
    expected.forEach((fields, i) => expect([byIndex.get(i)!.fields['3'], byIndex.get(i)!.label]).toEqual([fields[3], fields[1]]));
    expect(expected.filter((f) => /[éè–…]/.test(f[3]))).toHaveLength(17);
  });
});

describe("Windows-1252's own characters (0x80–0x9F, where ISO-8859-1 has control codes)", () => {
  it('are shown in the error as Windows-1252 has them, and read so', async () => {
    const file = join(tempDir(), 'quotes.csv');
    const text = '“Smart quotes” – and € signs from Word';
    python(`import sys; open(sys.argv[1], 'wb').write(('text,label\\r\\n' + sys.argv[2] + ',1\\r\\n').encode('cp1252'))`, file, text);
    const error = (await openSource(file).catch((e: unknown) => e)) as SproutError;
    expect(error.message).toContain(`the line says "${text},1".`);
    const rows: (string | null)[] = [];
    for await (const r of readRecords(file, { encoding: 'windows-1252' })) rows.push(r.fields.text);
    expect(rows).toEqual(
      pythonCsvRows(file, { delimiter: ',', encoding: 'cp1252' })
        .slice(1)
        .map((f) => f[0]),
    );
    expect(rows).toEqual([text]);
  });
});

describe('each code page, with a character cut by the 1 MiB read chunk', () => {
  for (const encoding of ENCODING_CHOICES.filter((e): e is LegacyEncoding => e !== 'auto')) {
    it(`${encoding}: the records Python's csv reads in ${PYTHON_CODECS[encoding]}`, async () => {
      const file = join(tempDir(), `${encoding}.csv`);
      // Excel's CSV as Python's csv writes it (CRLF, quoted where needed), padded so that the first sample's first
      // character (two bytes in the East Asian code pages) begins on the first chunk's last byte.
      const script = `
import csv, io, sys
path, codec, sample = sys.argv[1], sys.argv[2], sys.argv[3]
def row_bytes(rows):
    out = io.StringIO(newline='')
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(codec)
filler = [['x' * 1000, '0']] * 1040
rows = lambda pad: [['text', 'label']] + filler + [['x' * pad, '0']] + [[sample + ' ' + str(i), str(i % 2)] for i in range(3000)]
first = sample[0].encode(codec)
pad = (1 << 20) - 1 - row_bytes(rows(1)).index(first) + 1
data = row_bytes(rows(pad))
assert data.index(first) == (1 << 20) - 1
open(path, 'wb').write(data)`;
      python(script, file, PYTHON_CODECS[encoding], SAMPLES[encoding]);
      const expected = pythonCsvRows(file, { delimiter: ',', encoding: PYTHON_CODECS[encoding] });
      const got: string[][] = [];
      for await (const r of readRecords(file, { encoding })) got.push([r.fields.text!, r.fields.label!]);
      expect(got).toEqual(expected.slice(1));
      expect(got[1042][0]).toBe(`${SAMPLES[encoding]} 1`);
    });
  }
});
