import { SproutError } from '../errors.js';
import { advise, QUOTES_ARE_TEXT, SEMICOLONS } from './read-advice.js';
import type { Delimiter, Quoting } from './types.js';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

export interface DsvRow {
  /** 1-based physical line where the record starts. */
  line: number;
  fields: string[];
}

/** What the parser saw, for choosing a quoting mode and for the import report. */
export interface DsvStats {
  blankLines: number;
  quotedFields: number;
  /** Quoted fields holding a line break or a delimiter: legitimate in RFC 4180, a sign of merged lines otherwise. */
  quotedSpanning: number;
  /** `"` inside a field that does not start with one (kept as text). */
  strayQuotes: number;
}

const INCOMPLETE = 0;
const BLANK = 1;
type Step = DsvRow | typeof INCOMPLETE | typeof BLANK;
const NEXT = 1;
const LAST = 2;
/** How a field ended: another field follows, the record ends, or the text so far ends before that is certain. */
type FieldEnd = typeof INCOMPLETE | typeof NEXT | typeof LAST;

/**
 * Incremental CSV/TSV parser: text goes in chunk by chunk, complete records come out. Fields are kept exactly as
 * written (no trimming; backslash is an ordinary character). A record split across chunks is parsed again from its
 * start once more text arrives; `maxRecordChars` bounds how much text one record may hold back.
 */
export class DsvParser {
  readonly stats: DsvStats = { blankLines: 0, quotedFields: 0, quotedSpanning: 0, strayQuotes: 0 };
  private buf = '';
  private pos = 0;
  private line = 1;
  private openQuoteLine = 0;
  // The record being read: the offset and line of its next field, and what its fields held so far.
  private at = 0;
  private atLine = 1;
  private quoted = 0;
  private spanning = 0;
  private stray = 0;
  private readonly delimiterCode: number;

  constructor(
    private readonly delimiter: Delimiter,
    private readonly quoting: Quoting,
    private readonly file: string,
    private readonly maxRecordChars: number,
  ) {
    this.delimiterCode = delimiter.charCodeAt(0);
  }

  push(text: string, out: DsvRow[]): void {
    this.buf = this.pos < this.buf.length ? this.buf.slice(this.pos) + text : text;
    this.pos = 0;
    this.drain(out, false);
  }

  end(out: DsvRow[]): void {
    this.drain(out, true);
    this.buf = '';
    this.pos = 0;
  }

  private drain(out: DsvRow[], final: boolean): void {
    while (this.pos < this.buf.length) {
      this.openQuoteLine = 0;
      const step = this.quoting === 'none' ? this.lineRecord(final) : this.rfcRecord(final);
      if (step === INCOMPLETE) {
        if (this.buf.length - this.pos > this.maxRecordChars) throw this.tooLong();
        return;
      }
      if (step !== BLANK) out.push(step);
    }
  }

  private lineRecord(final: boolean): Step {
    const s = this.buf;
    const start = this.pos;
    const lf = s.indexOf('\n', start);
    if (lf < 0 && !final) return INCOMPLETE;
    const end = lf < 0 ? s.length : lf;
    this.pos = lf < 0 ? s.length : lf + 1;
    const contentEnd = end > start && s.charCodeAt(end - 1) === CR ? end - 1 : end;
    const line = this.line++;
    if (contentEnd === start) {
      this.stats.blankLines++;
      return BLANK;
    }
    return { line, fields: s.slice(start, contentEnd).split(this.delimiter) };
  }

  /** One record of RFC 4180 text: its fields one by one from `at`, committed only once the record is complete. */
  private rfcRecord(final: boolean): Step {
    const blank = this.blankRecord(final);
    if (blank !== null) return blank;
    const s = this.buf;
    const fields: string[] = [];
    this.at = this.pos;
    this.atLine = this.line;
    this.quoted = this.spanning = this.stray = 0;
    let end: FieldEnd;
    do {
      end = this.at < s.length && s.charCodeAt(this.at) === QUOTE ? this.quotedField(fields, final) : this.plainField(fields, final);
      if (end === INCOMPLETE) return INCOMPLETE;
    } while (end === NEXT);
    const start = this.line;
    this.pos = Math.min(this.at, s.length);
    this.line = this.atLine;
    this.stats.quotedFields += this.quoted;
    this.stats.quotedSpanning += this.spanning;
    this.stats.strayQuotes += this.stray;
    return { line: start, fields };
  }

  /** The field opened by the quote at `at`: its text between the quotes, then a delimiter or the record's end. */
  private quotedField(fields: string[], final: boolean): FieldEnd {
    const s = this.buf;
    const open = this.at;
    const line = this.atLine;
    const close = this.closingQuote(open, line, final);
    if (close === INCOMPLETE) return INCOMPLETE;
    // Between the quotes there is only text and doubled quotes: each pair stands for one.
    const raw = s.slice(open + 1, close);
    const value = raw.includes('"') ? raw.replaceAll('""', '"') : raw;
    const i = close + 1;
    const breaks = countLf(s, open, i);
    this.quoted++;
    if (breaks > 0 || value.includes(this.delimiter)) this.spanning++;
    const closeLine = line + breaks;
    fields.push(value);
    this.at = i + 1;
    this.atLine = closeLine;
    if (i >= s.length) return LAST;
    const c = s.charCodeAt(i);
    if (c === this.delimiterCode) return NEXT;
    if (c === LF) {
      this.atLine++;
      return LAST;
    }
    if (c === CR) {
      if (i + 1 >= s.length && !final) return INCOMPLETE;
      if (i + 1 >= s.length || s.charCodeAt(i + 1) === LF) {
        this.at = i + 2;
        this.atLine = closeLine + (i + 1 < s.length ? 1 : 0);
        return LAST;
      }
    }
    throw this.afterQuote(line, closeLine, this.columnOf(i), s[i]);
  }

  /** The unquoted field at `at`, up to a delimiter or the record's end; a `"` inside it is text (and counted). */
  private plainField(fields: string[], final: boolean): FieldEnd {
    const s = this.buf;
    const d = this.delimiterCode;
    const i = this.at;
    let j = i;
    for (; j < s.length; j++) {
      const c = s.charCodeAt(j);
      if (c === d || c === LF) break;
      if (c === CR) {
        if (j + 1 >= s.length && !final) return INCOMPLETE;
        if (s.charCodeAt(j + 1) === LF) break;
      } else if (c === QUOTE) this.stray++;
    }
    if (j >= s.length && !final) return INCOMPLETE;
    fields.push(s.slice(i, j));
    if (j >= s.length) {
      this.at = j;
      return LAST;
    }
    const c = s.charCodeAt(j);
    if (c === d) {
      this.at = j + 1;
      return NEXT;
    }
    this.at = j + (c === LF ? 1 : 2);
    this.atLine++;
    return LAST;
  }

  /** An empty line (LF or CRLF) is counted and skipped; null when a record starts here. */
  private blankRecord(final: boolean): typeof BLANK | typeof INCOMPLETE | null {
    const s = this.buf;
    const i = this.pos;
    const first = s.charCodeAt(i);
    if (first === LF || (first === CR && s.charCodeAt(i + 1) === LF)) {
      this.pos = i + (first === LF ? 1 : 2);
      this.line++;
      this.stats.blankLines++;
      return BLANK;
    }
    // A CR that ends the text so far may be the first half of a blank CRLF line.
    return first === CR && i + 1 >= s.length && !final ? INCOMPLETE : null;
  }

  /**
   * The offset of the quote that closes the field opened at `open` (`""` inside is an escaped quote), or INCOMPLETE
   * (0, never such an offset) when the text so far ends before it is certain; a file that ends inside it is an error.
   */
  private closingQuote(open: number, line: number, final: boolean): number {
    const s = this.buf;
    for (let j = open + 1; ;) {
      const q = s.indexOf('"', j);
      // A quote at the end of the text so far may be the first of a doubled one.
      if (q < 0 || (q + 1 >= s.length && !final)) {
        if (!final) {
          this.openQuoteLine = line;
          return INCOMPLETE;
        }
        throw this.unterminated(line, this.columnOf(open));
      }
      if (s.charCodeAt(q + 1) !== QUOTE) return q;
      j = q + 2;
    }
  }

  /** 1-based character column of buffer offset `at`; the buffer always starts at the start of a line. */
  private columnOf(at: number): number {
    return at - (this.buf.lastIndexOf('\n', at - 1) + 1) + 1;
  }

  private unterminated(line: number, column: number): SproutError {
    return new SproutError(
      'data-unterminated-quote',
      `The double quote that opens a field here is never closed: the file ends inside it.`,
      {
        file: this.file,
        line,
        column,
        ...this.quoteHint(),
      },
    );
  }

  private afterQuote(openLine: number, line: number, column: number, found: string): SproutError {
    const where = openLine === line ? '' : ` (the field's quote opened on line ${openLine})`;
    return new SproutError(
      'data-bad-quote',
      `Expected a ${delimiterName(this.delimiter)} or the end of the line after a closing double quote, found ${JSON.stringify(found)}${where}.`,
      {
        file: this.file,
        line,
        column,
        ...(found === ';' && this.delimiter === ','
          ? advise((how) => `If the fields are separated by semicolons, ${how}.`, SEMICOLONS)
          : this.quoteHint()),
      },
    );
  }

  private tooLong(): SproutError {
    const limit = `${(this.maxRecordChars / 2 ** 20).toFixed(0)} MiB`;
    if (this.openQuoteLine) {
      return new SproutError(
        'data-unterminated-quote',
        `The double quote that opens a field on this line has not closed after ${limit} of text.`,
        {
          file: this.file,
          line: this.openQuoteLine,
          ...this.quoteHint(),
        },
      );
    }
    return new SproutError('data-record-too-long', `The record starting on this line is longer than ${limit}.`, {
      file: this.file,
      line: this.line,
      hint: 'Each example must be one record of reasonable size; check that the file really is delimited text with line breaks.',
    });
  }

  private quoteHint(): { hint: string; uiHint: string } {
    return this.delimiter === '\t'
      ? advise((how) => `If double quotes are ordinary text in this file (as in GLUE TSV files), ${how}.`, QUOTES_ARE_TEXT)
      : advise(
          (how) => `Inside a quoted field write a double quote twice (""); if quotes are ordinary text here, ${how}.`,
          QUOTES_ARE_TEXT,
        );
  }
}

/** The delimiter in words, for messages. */
export function delimiterName(delimiter: Delimiter): string {
  return { ',': 'comma', ';': 'semicolon', '\t': 'tab' }[delimiter];
}

function countLf(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = s.indexOf('\n', from); i >= 0 && i < to; i = s.indexOf('\n', i + 1)) n++;
  return n;
}
