import { SproutError } from '../errors.js';
import { advise, JSON_LINES } from './read-advice.js';
import type { SourceInfo, SourceRecord } from './types.js';
import { MAX_JSON_DEPTH, nestedTooDeep, objectFields } from './values.js';

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LF = 0x0a;

type Phase = 'start' | 'first' | 'element' | 'inside' | 'after' | 'done';

/**
 * Records of a JSON array of objects (`[{…}, {…}]`), read element by element so that the whole array never has to
 * be in memory: the scanner only tracks strings and nesting to find where each top-level object ends.
 */
export async function* readJsonArray(
  text: AsyncIterable<string>,
  file: string,
  maxRecordChars: number,
  info: SourceInfo,
): AsyncGenerator<SourceRecord> {
  let buf = '';
  let phase: Phase = 'start';
  let line = 1;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let elementStart = -1;
  let elementLine = 0;
  const fail = (message: string, advice: string | { hint: string; uiHint: string }, at = line): never => {
    throw new SproutError('data-bad-json', message, { file, line: at, ...(typeof advice === 'string' ? { hint: advice } : advice) });
  };
  const arrayHint = advise(
    (how) => `The file must be a JSON array of objects, e.g. [{"text": "…", "label": "…"}]; for one object per line ${how}.`,
    JSON_LINES,
  );
  for await (const chunk of text) {
    // Everything already in buf has been scanned; only an unfinished element is kept.
    let i = buf.length;
    buf += chunk;
    const records: SourceRecord[] = [];
    for (; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (phase === 'inside') {
        if (c === LF) line++;
        if (inString) {
          if (escaped) escaped = false;
          else if (c === BACKSLASH) escaped = true;
          else if (c === QUOTE) inString = false;
        } else if (c === QUOTE) inString = true;
        else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
        else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
          depth--;
          if (depth === 0) {
            records.push(parseElement(buf.slice(elementStart, i + 1), elementLine, file, info));
            elementStart = -1;
            phase = 'after';
          }
        }
        continue;
      }
      if (c === LF) {
        line++;
        continue;
      }
      if (c === 0x20 || c === 0x09 || c === 0x0d) continue;
      if (phase === 'start') {
        if (c !== OPEN_BRACKET) fail(`Expected "[" to start a JSON array, found ${JSON.stringify(buf[i])}.`, arrayHint);
        phase = 'first';
      } else if (phase === 'first' || phase === 'element') {
        if (c === CLOSE_BRACKET && phase === 'first') phase = 'done';
        else if (c !== OPEN_BRACE) fail(`Expected an object ("{") as the next array element, found ${JSON.stringify(buf[i])}.`, arrayHint);
        else {
          phase = 'inside';
          depth = 1;
          elementStart = i;
          elementLine = line;
        }
      } else if (phase === 'after') {
        if (c === COMMA) phase = 'element';
        else if (c === CLOSE_BRACKET) phase = 'done';
        else fail(`Expected "," or "]" after an array element, found ${JSON.stringify(buf[i])}.`, arrayHint);
      } else fail(`Unexpected ${JSON.stringify(buf[i])} after the end of the JSON array.`, 'The file must hold exactly one JSON array.');
    }
    if (elementStart >= 0) {
      buf = buf.slice(elementStart);
      elementStart = 0;
      if (buf.length > maxRecordChars) {
        fail(
          `The object starting on this line is longer than ${(maxRecordChars / 2 ** 20).toFixed(0)} MiB, or never ends.`,
          arrayHint,
          elementLine,
        );
      }
    } else buf = '';
    yield* records;
  }
  if (phase === 'start') fail('The file holds no JSON.', arrayHint);
  if (phase !== 'done')
    fail('The file ends inside the JSON array: a closing "]" or "}" is missing.', arrayHint, phase === 'inside' ? elementLine : line);
}

function parseElement(body: string, line: number, file: string, info: SourceInfo): SourceRecord {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(body) as Record<string, unknown>;
  } catch (error) {
    throw new SproutError(
      'data-bad-json',
      `The array element starting on this line is not valid JSON (${(error as Error).message.replace(/^.*?: /, '')}).`,
      {
        file,
        line,
        hint: 'Fix the JSON syntax of this element.',
      },
    );
  }
  if (nestedTooDeep(value)) {
    throw new SproutError(
      'data-bad-json',
      `The array element starting on this line nests arrays or objects more than ${MAX_JSON_DEPTH} levels deep.`,
      {
        file,
        line,
        hint: 'Flatten the deeply nested field, or remove this element.',
      },
    );
  }
  const fields = objectFields(value);
  if (info.columns.length === 0) info.columns = Object.keys(fields);
  return { line, fields, values: value };
}
