import { SproutError } from '../errors.js';
import { delimiterName, DsvParser, type DsvRow, type DsvStats } from './dsv.js';
import { advise, NO_HEADER, QUOTED_FIELDS, QUOTES_ARE_TEXT } from './read-advice.js';
import type { Delimiter, Quoting, SourceInfo, SourceRecord } from './types.js';

export interface DsvReadOptions {
  file: string;
  delimiter: Delimiter;
  quoting: Quoting;
  header: boolean;
  maxRecordChars: number;
}

/**
 * Records of a CSV/TSV text stream. Sets `info.columns` from the header (or to "0".."n-1") before the first record
 * comes out; every record must have as many fields as the first one.
 */
export async function* readDsv(
  text: AsyncIterable<string>,
  options: DsvReadOptions,
  info: SourceInfo,
  stats?: (s: DsvStats) => void,
): AsyncGenerator<SourceRecord> {
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

/** A header row's names, an empty one named by its 0-based index; a name given twice is an error. */
export function headerNames(row: DsvRow, file: string): string[] {
  const names = row.fields.map((name, i) => (name === '' ? String(i) : name));
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) {
      throw new SproutError('data-duplicate-column', `The header names the column ${JSON.stringify(name)} twice.`, {
        file,
        line: row.line,
        ...advise((how) => `Rename one of them, or ${how} and choose columns by their 0-based index.`, NO_HEADER),
      });
    }
    seen.add(name);
  }
  return names;
}

function ragged(row: DsvRow, expected: number, firstLine: number, options: DsvReadOptions): SproutError {
  const origin = options.header ? `the header on line ${firstLine}` : `the first record on line ${firstLine}`;
  const advice =
    options.delimiter === '\t'
      ? options.quoting === 'rfc4180'
        ? advise((how) => `A double quote at the start of a field may have swallowed tabs or lines: ${how}.`, QUOTES_ARE_TEXT)
        : advise(
            (how) =>
              `Every line must have the same number of tab-separated fields; if fields are quoted and contain tabs or line breaks, ${how}.`,
            QUOTED_FIELDS,
          )
      : {
          hint: `A field containing a ${delimiterName(options.delimiter)}, a double quote or a line break must be enclosed in double quotes.`,
        };
  return new SproutError('data-ragged-row', `Expected ${expected} fields (as ${origin}), found ${row.fields.length}.`, {
    file: options.file,
    line: row.line,
    ...advice,
  });
}
