import { SproutError } from '../errors.js';
import { advise, JSON_LINES } from './read-advice.js';
import { parseJsonExact } from './json-number.js';
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
  const scanner = new ArrayScanner(file, maxRecordChars, info);
  for await (const chunk of text) yield* scanner.push(chunk);
  scanner.end();
}

/** The scan of a JSON array, carried from chunk to chunk. */
class ArrayScanner {
  private buf = '';
  private phase: Phase = 'start';
  private line = 1;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private elementStart = -1;
  private elementLine = 0;
  private readonly arrayHint = advise(
    (how) => `The file must be a JSON array of objects, e.g. [{"text": "…", "label": "…"}]; for one object per line ${how}.`,
    JSON_LINES,
  );

  constructor(
    private readonly file: string,
    private readonly maxRecordChars: number,
    private readonly info: SourceInfo,
  ) {}

  /** The records that one more chunk of text completes. */
  push(chunk: string): SourceRecord[] {
    // Everything already in buf has been scanned; only an unfinished element is kept.
    let i = this.buf.length;
    this.buf += chunk;
    const records: SourceRecord[] = [];
    while (i < this.buf.length) i = this.phase === 'inside' ? this.scanElement(i, records) : this.scanBetween(i);
    this.keepUnfinished();
    return records;
  }

  /** Checks that the text ended where the array did. */
  end(): void {
    if (this.phase === 'start') this.fail('The file holds no JSON.', this.arrayHint);
    if (this.phase !== 'done') {
      this.fail(
        'The file ends inside the JSON array: a closing "]" or "}" is missing.',
        this.arrayHint,
        this.phase === 'inside' ? this.elementLine : this.line,
      );
    }
  }

  /**
   * Scans an element from `from` to where its object closes, or to the end of the text so far; returns the offset where
   * scanning goes on. The state lives in locals while in the loop, which runs for every character of the file.
   */
  private scanElement(from: number, records: SourceRecord[]): number {
    const s = this.buf;
    let line = this.line;
    let depth = this.depth;
    let inString = this.inString;
    let escaped = this.escaped;
    let i = from;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === LF) line++;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) inString = false;
      } else if (c === QUOTE) inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) break;
      }
    }
    this.line = line;
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    if (i === s.length) return i;
    records.push(parseElement(s.slice(this.elementStart, i + 1), this.elementLine, this.file, this.info));
    this.elementStart = -1;
    this.phase = 'after';
    return i + 1;
  }

  /** Scans the whitespace and punctuation outside elements, up to the start of the next element; returns where scanning goes on. */
  private scanBetween(from: number): number {
    const s = this.buf;
    for (let i = from; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === LF) this.line++;
      else if (c !== 0x20 && c !== 0x09 && c !== 0x0d) {
        this.punctuation(c, i);
        if (this.phase === 'inside') return i + 1;
      }
    }
    return s.length;
  }

  /** Moves the phase on at the character `c` (not whitespace) at offset `at`, outside any element. */
  private punctuation(c: number, at: number): void {
    switch (this.phase) {
      case 'start':
        if (c !== OPEN_BRACKET) this.fail(`Expected "[" to start a JSON array, found ${this.foundAt(at)}.`, this.arrayHint);
        this.phase = 'first';
        return;
      case 'first':
      case 'element':
        if (c === CLOSE_BRACKET && this.phase === 'first') this.phase = 'done';
        else if (c === OPEN_BRACE) this.openElement(at);
        else this.fail(`Expected an object ("{") as the next array element, found ${this.foundAt(at)}.`, this.arrayHint);
        return;
      case 'after':
        if (c === COMMA) this.phase = 'element';
        else if (c === CLOSE_BRACKET) this.phase = 'done';
        else this.fail(`Expected "," or "]" after an array element, found ${this.foundAt(at)}.`, this.arrayHint);
        return;
      default:
        this.fail(`Unexpected ${this.foundAt(at)} after the end of the JSON array.`, 'The file must hold exactly one JSON array.');
    }
  }

  /** The character at offset `at`, as error messages show it. */
  private foundAt(at: number): string {
    return JSON.stringify(this.buf[at]);
  }

  private openElement(at: number): void {
    this.phase = 'inside';
    this.depth = 1;
    this.elementStart = at;
    this.elementLine = this.line;
  }

  /** Drops the scanned text but an unfinished element, which must stay within the record size limit. */
  private keepUnfinished(): void {
    if (this.elementStart < 0) {
      this.buf = '';
      return;
    }
    this.buf = this.buf.slice(this.elementStart);
    this.elementStart = 0;
    if (this.buf.length > this.maxRecordChars) {
      this.fail(
        `The object starting on this line is longer than ${(this.maxRecordChars / 2 ** 20).toFixed(0)} MiB, or never ends.`,
        this.arrayHint,
        this.elementLine,
      );
    }
  }

  private fail(message: string, advice: string | { hint: string; uiHint: string }, at = this.line): never {
    throw new SproutError('data-bad-json', message, {
      file: this.file,
      line: at,
      ...(typeof advice === 'string' ? { hint: advice } : advice),
    });
  }
}

function parseElement(body: string, line: number, file: string, info: SourceInfo): SourceRecord {
  let value: Record<string, unknown>;
  try {
    value = parseJsonExact(body) as Record<string, unknown>;
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
