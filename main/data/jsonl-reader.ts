import { SproutError } from '../errors.js';
import { parseJsonExact } from './json-number.js';
import type { SourceInfo, SourceRecord } from './types.js';
import { MAX_JSON_DEPTH, nestedTooDeep, objectFields } from './values.js';

/** Records of a JSON Lines stream: one object per line; blank lines are skipped, a last line without LF is fine. */
export async function* readJsonl(
  text: AsyncIterable<string>,
  file: string,
  maxRecordChars: number,
  info: SourceInfo,
): AsyncGenerator<SourceRecord> {
  let pending = '';
  let line = 0;
  const parse = (raw: string): SourceRecord | undefined => {
    line++;
    const body = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (body.trim() === '') return undefined;
    let value: unknown;
    try {
      value = parseJsonExact(body);
    } catch (error) {
      const position = /position (\d+)/.exec((error as Error).message);
      throw new SproutError('data-bad-json-line', `This line is not valid JSON (${(error as Error).message.replace(/^.*?: /, '')}).`, {
        file,
        line,
        column: position ? Number(position[1]) + 1 : undefined,
        hint: 'JSON Lines files hold one complete JSON object per line; fix or remove this line.',
      });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new SproutError(
        'data-bad-json-line',
        `Expected a JSON object ({…}) on this line, found ${Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'null' : `a ${typeof value}`}.`,
        {
          file,
          line,
          hint: 'Each line must be one object whose keys are the columns, e.g. {"text": "…", "label": "…"}.',
        },
      );
    }
    if (nestedTooDeep(value)) {
      throw new SproutError('data-bad-json-line', `This line nests arrays or objects more than ${MAX_JSON_DEPTH} levels deep.`, {
        file,
        line,
        hint: 'Flatten the deeply nested field, or remove this line.',
      });
    }
    const fields = objectFields(value as Record<string, unknown>);
    if (info.columns.length === 0) info.columns = Object.keys(fields);
    return { line, fields, values: value as Record<string, unknown> };
  };
  for await (const chunk of text) {
    pending += chunk;
    let start = 0;
    for (let lf = pending.indexOf('\n'); lf >= 0; lf = pending.indexOf('\n', start)) {
      const record = parse(pending.slice(start, lf));
      start = lf + 1;
      if (record) yield record;
    }
    pending = pending.slice(start);
    if (pending.length > maxRecordChars) {
      throw new SproutError('data-record-too-long', `Line ${line + 1} is longer than ${(maxRecordChars / 2 ** 20).toFixed(0)} MiB.`, {
        file,
        line: line + 1,
        hint: 'Each line must hold one example of reasonable size; is this a JSON array (--format json) rather than JSON Lines?',
      });
    }
  }
  if (pending !== '') {
    const record = parse(pending);
    if (record) yield record;
  }
}
