import { SproutError } from '../errors.js';
import type { SourceInfo, SourceRecord } from './types.js';

/** Plain text, one example per line in a column named "text". Empty lines are records too (the importer counts them). */
export async function* readTextLines(
  text: AsyncIterable<string>,
  file: string,
  maxRecordChars: number,
  info: SourceInfo,
): AsyncGenerator<SourceRecord> {
  info.columns = ['text'];
  let pending = '';
  let line = 0;
  const record = (raw: string): SourceRecord => ({ line: ++line, fields: { text: raw.endsWith('\r') ? raw.slice(0, -1) : raw } });
  for await (const chunk of text) {
    pending += chunk;
    let start = 0;
    const records: SourceRecord[] = [];
    for (let lf = pending.indexOf('\n'); lf >= 0; lf = pending.indexOf('\n', start)) {
      records.push(record(pending.slice(start, lf)));
      start = lf + 1;
    }
    pending = pending.slice(start);
    if (pending.length > maxRecordChars) {
      throw new SproutError('data-record-too-long', `Line ${line + 1} is longer than ${(maxRecordChars / 2 ** 20).toFixed(0)} MiB.`, {
        file,
        line: line + 1,
        hint: 'A text file for Sprout holds one example per line.',
      });
    }
    yield* records;
  }
  if (pending !== '') yield record(pending);
}
