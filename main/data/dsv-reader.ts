import { SproutError } from '../errors.js';
import { DsvParser, type DsvRow, type DsvStats } from './dsv.js';
import type { Quoting, SourceInfo, SourceRecord } from './types.js';

export interface DsvReadOptions {
  file: string;
  delimiter: ',' | '\t';
  quoting: Quoting;
  header: boolean;
  maxRecordChars: number;
}

/**
 * Records of a CSV/TSV text stream. Sets `info.columns` from the header (or to "0".."n-1") before the first record
 * comes out; every record must have as many fields as the first one.
 */
export async function* readDsv(text: AsyncIterable<string>, options: DsvReadOptions, info: SourceInfo, stats?: (s: DsvStats) => void): AsyncGenerator<SourceRecord> {
  const parser = new DsvParser(options.delimiter, options.quoting, options.file, options.maxRecordChars);
  let columns: string[] | undefined;
  let firstLine = 0;
  const rows: DsvRow[] = [];
  const take = function* (): Generator<SourceRecord> {
    for (const row of rows) {
      if (!columns) {
        firstLine = row.line;
        columns = options.header ? headerNames(row, options.file) : row.fields.map((_, i) => String(i));
        info.columns = columns;
        if (options.header) continue;
      }
      if (row.fields.length !== columns.length) throw ragged(row, columns.length, firstLine, options);
      // No prototype: a column named __proto__ or constructor is a column like any other.
      const fields: Record<string, string> = Object.create(null);
      for (let i = 0; i < columns.length; i++) fields[columns[i]] = row.fields[i];
      yield { line: row.line, fields };
    }
    rows.length = 0;
  };
  for await (const chunk of text) {
    parser.push(chunk, rows);
    yield* take();
  }
  parser.end(rows);
  yield* take();
  stats?.(parser.stats);
}

function headerNames(row: DsvRow, file: string): string[] {
  const names = row.fields.map((name, i) => (name === '' ? String(i) : name));
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) {
      throw new SproutError('data-duplicate-column', `The header names the column ${JSON.stringify(name)} twice.`, {
        file,
        line: row.line,
        hint: 'Rename one of them, or import with --header no and choose columns by their 0-based index.',
        uiHint: 'Rename one of them, or read the first row as an example (no header).',
      });
    }
    seen.add(name);
  }
  return names;
}

function ragged(row: DsvRow, expected: number, firstLine: number, options: DsvReadOptions): SproutError {
  const origin = options.header ? `the header on line ${firstLine}` : `the first record on line ${firstLine}`;
  const hint =
    options.delimiter === '\t'
      ? options.quoting === 'rfc4180'
        ? 'A double quote at the start of a field may have swallowed tabs or lines: try --quoting none.'
        : 'Every line must have the same number of tab-separated fields; if fields are quoted and contain tabs or line breaks, try --quoting rfc4180.'
      : 'A field containing a comma, a double quote or a line break must be enclosed in double quotes.';
  return new SproutError('data-ragged-row', `Expected ${expected} fields (as ${origin}), found ${row.fields.length}.`, {
    file: options.file,
    line: row.line,
    hint,
  });
}
