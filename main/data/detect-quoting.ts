import { SproutError } from '../errors.js';
import { DsvParser, type DsvRow } from './dsv.js';
import type { Quoting } from './types.js';
import { agreeing, counted } from '../wording.js';

/** How one reading of the file went: the first problem (line and error) or none, and whether quotes mattered. */
interface Reading {
  parser: DsvParser;
  width: number;
  firstLine: number;
  failure?: { line: number; error: SproutError };
}

export interface QuotingChoice {
  quoting: Quoting;
  reason: string;
}

/**
 * Chooses the quoting of a TSV file by reading all of it both ways. GLUE's files (RTE, SST-2, CoLA) treat `"` as
 * text; an RFC 4180 reader then runs a field from an opening quote across tabs and lines, which shows up as an
 * unclosed quote, text after a closing quote, or field counts that change. Files written by a CSV library quote
 * fields that hold tabs or line breaks, which breaks the line-by-line reading instead.
 */
export async function detectTsvQuoting(text: AsyncIterable<string>, file: string, maxRecordChars: number): Promise<QuotingChoice> {
  const rfc: Reading = { parser: new DsvParser('\t', 'rfc4180', file, maxRecordChars), width: -1, firstLine: 0 };
  const none: Reading = { parser: new DsvParser('\t', 'none', file, maxRecordChars), width: -1, firstLine: 0 };
  const rows: DsvRow[] = [];
  const feed = (reading: Reading, step: () => void): void => {
    if (reading.failure) return;
    try {
      step();
    } catch (error) {
      if (!(error instanceof SproutError) || error.code === 'data-record-too-long') throw error;
      reading.failure = { line: error.details.line ?? 0, error };
    }
    check(reading, rows, file);
    rows.length = 0;
  };
  for await (const chunk of text) {
    feed(rfc, () => rfc.parser.push(chunk, rows));
    feed(none, () => none.parser.push(chunk, rows));
    if (rfc.failure && none.failure) break;
  }
  feed(rfc, () => rfc.parser.end(rows));
  feed(none, () => none.parser.end(rows));

  if (rfc.failure && none.failure) throw (rfc.failure.line > none.failure.line ? rfc : none).failure!.error;
  if (none.failure) return { quoting: 'rfc4180', reason: `quoted fields hold tabs or line breaks: read line by line, ${describe(none)}` };
  if (rfc.failure) return { quoting: 'none', reason: `double quotes are text here: with RFC 4180 quoting ${describe(rfc)}` };
  const { quotedFields, quotedSpanning } = rfc.parser.stats;
  if (quotedFields === 0) return { quoting: 'none', reason: 'no field starts with a double quote, so both readings agree' };
  if (quotedSpanning > 0) {
    return {
      quoting: 'none',
      reason:
        `every line has ${none.width} tab-separated fields, while RFC 4180 quoting would join ` +
        `${counted(quotedSpanning, 'quoted field')} across tabs or lines`,
    };
  }
  return {
    quoting: 'rfc4180',
    reason: `${counted(quotedFields, 'field')} ${agreeing(quotedFields, 'is', 'are')} enclosed in double quotes, all well formed`,
  };
}

function check(reading: Reading, rows: DsvRow[], file: string): void {
  for (const row of rows) {
    if (reading.failure) return;
    if (reading.width < 0) {
      reading.width = row.fields.length;
      reading.firstLine = row.line;
    } else if (row.fields.length !== reading.width) {
      reading.failure = {
        line: row.line,
        error: new SproutError(
          'data-ragged-row',
          `Expected ${reading.width} fields (as on line ${reading.firstLine}), found ${row.fields.length}` +
            `, whether double quotes are read as quoting or as text.`,
          {
            file,
            line: row.line,
            hint: 'Every line must have the same number of tab-separated fields.',
          },
        ),
      };
    }
  }
}

function describe(reading: Reading): string {
  const { line, error } = reading.failure!;
  if (error.code === 'data-unterminated-quote') return `the double quote opened on line ${line} never closes`;
  if (error.code === 'data-bad-quote') return `text follows a closing double quote on line ${line}`;
  return `line ${line} has a different number of fields than line ${reading.firstLine}`;
}
