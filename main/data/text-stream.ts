import { createReadStream } from 'node:fs';
import type { EncodingChoice, InvalidUtf8 } from '../choices.js';
import { SproutError } from '../errors.js';
import { CODE_PAGE, MAC_ROMAN, SAVE_AS_UTF8, type Choice } from './read-advice.js';
import type { ReadProgress, TextEncoding } from './types.js';
import { firstInvalidUtf8, incompleteTail } from './utf8.js';

const CHUNK_BYTES = 1 << 20;
const LF = 0x0a;
const CR = 0x0d;

export interface TextStreamOptions {
  /** Used when the file has no byte order mark; default UTF-8. */
  encoding?: EncodingChoice;
  invalidUtf8?: InvalidUtf8;
  /** Sees every raw byte chunk, e.g. to hash the file while it is read. */
  onBytes?: (chunk: Uint8Array) => void;
  onProgress?: (progress: ReadProgress) => void;
}

/**
 * Reads a file as text in chunks: as its byte order mark says (the mark itself dropped), else in the encoding chosen,
 * else UTF-8. Invalid bytes stop the read with the line (and for UTF-8 the byte column) where they are, unless
 * replacement was chosen.
 *
 * Lines end in LF or CRLF for the readers. A file whose lines end in a lone CR (classic Mac OS: Excel for Mac's "CSV
 * (Macintosh)" and tab-delimited text) comes out with each CR as LF, as Python's csv splits it; the file's first line
 * break decides, so that a CR inside a field of an LF or CRLF file stays text.
 */
export class TextStream {
  encoding: TextEncoding = 'utf-8';
  byteOrderMark = false;
  bytesRead = 0;
  /** The byte (for UTF-16, the code unit) that ends a line: LF, or CR in a classic Mac OS file. */
  private lineBreak = LF;

  constructor(
    readonly file: string,
    readonly totalBytes: number,
    private readonly options: TextStreamOptions = {},
  ) {}

  async *chunks(): AsyncGenerator<string> {
    const stream = createReadStream(this.file, { highWaterMark: CHUNK_BYTES });
    let decoder: TextDecoder | undefined;
    let carry: Uint8Array = new Uint8Array(0);
    // Where we are, for error messages: lines completed before the current chunk and bytes since the last LF.
    let linesBefore = 0;
    let lineBytes = 0;
    let first = true;
    try {
      for await (const raw of stream as AsyncIterable<Buffer>) {
        this.bytesRead += raw.length;
        this.options.onBytes?.(raw);
        this.options.onProgress?.({ bytesRead: this.bytesRead, totalBytes: this.totalBytes });
        let bytes: Uint8Array = carry.length ? concat(carry, raw) : raw;
        if (first) {
          if (bytes.length < 3 && this.bytesRead < this.totalBytes) {
            carry = bytes;
            continue;
          }
          first = false;
          bytes = this.detectBom(bytes);
          decoder = this.makeDecoder();
          this.detectLineBreak(bytes);
        }
        if (this.encoding !== 'utf-8') {
          const text = this.asLines(this.decodeOther(decoder!, bytes, false, linesBefore));
          linesBefore += countChar(text, '\n');
          carry = new Uint8Array(0);
          yield text;
          continue;
        }
        const tail = incompleteTail(bytes);
        const whole = tail ? bytes.subarray(0, bytes.length - tail) : bytes;
        carry = tail ? bytes.slice(bytes.length - tail) : new Uint8Array(0);
        yield this.asLines(this.decodeUtf8(decoder!, whole, linesBefore, lineBytes));
        const lastBreak = whole.lastIndexOf(this.lineBreak);
        if (lastBreak >= 0) {
          linesBefore += countByte(whole, this.lineBreak);
          lineBytes = whole.length - lastBreak - 1;
        } else lineBytes += whole.length;
      }
      if (first) {
        first = false;
        const bytes = this.detectBom(carry);
        decoder = this.makeDecoder();
        this.detectLineBreak(bytes);
        carry = bytes;
      }
      if (carry.length || this.encoding !== 'utf-8') {
        const text =
          this.encoding === 'utf-8'
            ? this.decodeUtf8(decoder!, carry, linesBefore, lineBytes)
            : this.decodeOther(decoder!, carry, true, linesBefore);
        if (text) yield this.asLines(text);
      }
    } finally {
      stream.destroy();
    }
  }

  /** Sets the encoding from the byte order mark, else from the choice; returns the bytes after the mark. */
  private detectBom(bytes: Uint8Array): Uint8Array {
    const marks: [TextEncoding, number[]][] = [
      ['utf-8', [0xef, 0xbb, 0xbf]],
      ['utf-16le', [0xff, 0xfe]],
      ['utf-16be', [0xfe, 0xff]],
    ];
    for (const [encoding, mark] of marks) {
      if (mark.every((b, i) => bytes[i] === b)) {
        this.encoding = encoding;
        this.byteOrderMark = true;
        return bytes.subarray(mark.length);
      }
    }
    const chosen = this.options.encoding;
    if (chosen && chosen !== 'auto') this.encoding = chosen;
    return bytes;
  }

  /**
   * Whether the file's lines end in a lone CR, from its first line break in `head` (its first bytes after any byte
   * order mark). A CR at the very end of `head` may be half of a CRLF, so it decides nothing.
   */
  private detectLineBreak(head: Uint8Array): void {
    const text = new TextDecoder(this.encoding).decode(head.subarray(0, 1 << 16));
    const at = text.search(/[\r\n]/);
    if (at >= 0 && text[at] === '\r' && at + 1 < text.length && text[at + 1] !== '\n') this.lineBreak = CR;
  }

  /** Decoded text with its lines ending as the readers expect (see the class). */
  private asLines(text: string): string {
    return this.lineBreak === CR ? text.replaceAll('\r', '\n') : text;
  }

  private makeDecoder(): TextDecoder {
    return new TextDecoder(this.encoding, { fatal: this.options.invalidUtf8 !== 'replace', ignoreBOM: true });
  }

  private decodeUtf8(decoder: TextDecoder, bytes: Uint8Array, linesBefore: number, lineBytes: number): string {
    try {
      return decoder.decode(bytes);
    } catch {
      const at = Math.max(0, firstInvalidUtf8(bytes));
      const before = bytes.subarray(0, at);
      const lastBreak = before.lastIndexOf(this.lineBreak);
      const line = linesBefore + countByte(before, this.lineBreak) + 1;
      const column = (lastBreak >= 0 ? at - lastBreak - 1 : lineBytes + at) + 1;
      // Lines ending in a lone CR come from a Mac: Excel for Mac saves its "CSV (Macintosh)" so, in Mac OS Roman.
      const [from, choice]: [string, Choice] =
        this.lineBreak === CR
          ? ['If the file was saved by Excel for Mac as "CSV (Macintosh)" or by another older Mac program', MAC_ROMAN]
          : ['If the file was saved by Excel as "CSV" (not "CSV UTF-8") or by another Windows program', CODE_PAGE];
      const byte = `Byte 0x${bytes[at].toString(16).padStart(2, '0')} at byte column ${column} is not valid UTF-8.`;
      throw new SproutError('data-invalid-utf8', `${byte} ${lineAs(bytes, at, lineBytes > 0, this.lineBreak)}`, {
        file: this.file,
        line,
        column,
        hint: `${from}, ${choice.cli}. Else save it as UTF-8, or import with --invalid-utf8 replace to turn such bytes into U+FFFD.`,
        uiHint: `${from}, ${choice.app}. Otherwise: ${SAVE_AS_UTF8}`,
      });
    }
  }

  /**
   * UTF-16 and the legacy encodings: decoded in stream mode, which carries a character cut by a chunk's end, and the
   * end flushed apart. Every call streams because Node 20's TextDecoder, called otherwise, reads windows-1252 as
   * ISO-8859-1 (0x80–0x9F as C1 controls instead of “ ” – €).
   */
  private decodeOther(decoder: TextDecoder, bytes: Uint8Array, final: boolean, linesBefore: number): string {
    try {
      return decoder.decode(bytes, { stream: true }) + (final ? decoder.decode() : '');
    } catch {
      const name = this.encoding.toUpperCase();
      const what = this.encoding.startsWith('utf-16') ? `${name} (an odd byte count or an unpaired surrogate)` : name;
      throw new SproutError('data-invalid-encoding', `The file is not valid ${what} after line ${linesBefore}.`, {
        file: this.file,
        hint: `Check the file's encoding (--encoding), save the file again as UTF-8, or import with --invalid-utf8 replace.`,
        uiHint: `Check the file's "Encoding". ${SAVE_AS_UTF8}`,
      });
    }
  }
}

/**
 * The line around an invalid UTF-8 byte as Windows-1252 reads it (Mac OS Roman for a file of a Mac): the commonest
 * cause is a file in such a code page, and seeing its words come out right (or not) tells the person which it is.
 * `continued`: the line began in an earlier chunk.
 */
function lineAs(bytes: Uint8Array, at: number, continued: boolean, lineBreak: number): string {
  const mac = lineBreak === CR;
  const lineStart = bytes.lastIndexOf(lineBreak, at) + 1;
  const newline = bytes.indexOf(lineBreak, at);
  let lineEnd = newline < 0 ? bytes.length : newline;
  if (bytes[lineEnd - 1] === CR) lineEnd--;
  const start = Math.max(lineStart, at - 60);
  const end = Math.min(lineEnd, at + 60);
  const decoder = new TextDecoder(mac ? 'macintosh' : 'windows-1252');
  // Streamed, as in decodeOther: Node 20 reads windows-1252 as ISO-8859-1 in a call that does not stream.
  const text = (decoder.decode(bytes.subarray(start, end), { stream: true }) + decoder.decode()).replaceAll('\t', ' ');
  const cut = start > lineStart || (lineStart === 0 && continued);
  return `Read as ${mac ? 'Mac OS Roman' : 'Windows-1252'}, the line says "${cut ? '…' : ''}${text.trim()}${end < lineEnd ? '…' : ''}".`;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function countByte(bytes: Uint8Array, byte: number): number {
  let n = 0;
  for (let i = bytes.indexOf(byte); i >= 0; i = bytes.indexOf(byte, i + 1)) n++;
  return n;
}

function countChar(text: string, char: string): number {
  let n = 0;
  for (let i = text.indexOf(char); i >= 0; i = text.indexOf(char, i + 1)) n++;
  return n;
}
