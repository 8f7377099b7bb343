import { createReadStream } from 'node:fs';
import type { InvalidUtf8 } from '../choices.js';
import { SproutError } from '../errors.js';
import { SAVE_AS_UTF8 } from './read-advice.js';
import type { ReadProgress, TextEncoding } from './types.js';
import { firstInvalidUtf8, incompleteTail } from './utf8.js';

const CHUNK_BYTES = 1 << 20;
const LF = 0x0a;

export interface TextStreamOptions {
  invalidUtf8?: InvalidUtf8;
  /** Sees every raw byte chunk, e.g. to hash the file while it is read. */
  onBytes?: (chunk: Uint8Array) => void;
  onProgress?: (progress: ReadProgress) => void;
}

/**
 * Reads a file as text in chunks: UTF-8 unless a byte order mark says UTF-16, the BOM itself dropped.
 * Invalid bytes stop the read with the line and byte column where they are, unless replacement was chosen.
 */
export class TextStream {
  encoding: TextEncoding = 'utf-8';
  bytesRead = 0;

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
        }
        if (this.encoding !== 'utf-8') {
          const text = this.decodeUtf16(decoder!, bytes, false, linesBefore);
          linesBefore += countChar(text, '\n');
          carry = new Uint8Array(0);
          yield text;
          continue;
        }
        const tail = incompleteTail(bytes);
        const whole = tail ? bytes.subarray(0, bytes.length - tail) : bytes;
        carry = tail ? bytes.slice(bytes.length - tail) : new Uint8Array(0);
        yield this.decodeUtf8(decoder!, whole, linesBefore, lineBytes);
        const lastLf = whole.lastIndexOf(LF);
        if (lastLf >= 0) {
          linesBefore += countLf(whole);
          lineBytes = whole.length - lastLf - 1;
        } else lineBytes += whole.length;
      }
      if (first) {
        first = false;
        const bytes = this.detectBom(carry);
        decoder = this.makeDecoder();
        carry = bytes;
      }
      if (carry.length || this.encoding !== 'utf-8') {
        const text =
          this.encoding === 'utf-8'
            ? this.decodeUtf8(decoder!, carry, linesBefore, lineBytes)
            : this.decodeUtf16(decoder!, carry, true, linesBefore);
        if (text) yield text;
      }
    } finally {
      stream.destroy();
    }
  }

  private detectBom(bytes: Uint8Array): Uint8Array {
    if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3);
    if (bytes[0] === 0xff && bytes[1] === 0xfe) {
      this.encoding = 'utf-16le';
      return bytes.subarray(2);
    }
    if (bytes[0] === 0xfe && bytes[1] === 0xff) {
      this.encoding = 'utf-16be';
      return bytes.subarray(2);
    }
    return bytes;
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
      const lastLf = before.lastIndexOf(LF);
      const line = linesBefore + countLf(before) + 1;
      const column = (lastLf >= 0 ? at - lastLf - 1 : lineBytes + at) + 1;
      throw new SproutError(
        'data-invalid-utf8',
        `Byte 0x${bytes[at].toString(16).padStart(2, '0')} at byte column ${column} is not valid UTF-8.`,
        {
          file: this.file,
          line,
          column,
          hint: 'Save the file as UTF-8 (or UTF-16 with a byte order mark), or import with --invalid-utf8 replace to turn such bytes into U+FFFD.',
          uiHint: SAVE_AS_UTF8,
        },
      );
    }
  }

  private decodeUtf16(decoder: TextDecoder, bytes: Uint8Array, final: boolean, linesBefore: number): string {
    try {
      return decoder.decode(bytes, { stream: !final });
    } catch {
      throw new SproutError(
        'data-invalid-utf16',
        `The file is not valid ${this.encoding.toUpperCase()} (an odd byte count or an unpaired surrogate) after line ${linesBefore}.`,
        {
          file: this.file,
          hint: 'Save the file again as UTF-8, or import with --invalid-utf8 replace.',
          uiHint: SAVE_AS_UTF8,
        },
      );
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function countLf(bytes: Uint8Array): number {
  let n = 0;
  for (let i = bytes.indexOf(LF); i >= 0; i = bytes.indexOf(LF, i + 1)) n++;
  return n;
}

function countChar(text: string, char: string): number {
  let n = 0;
  for (let i = text.indexOf(char); i >= 0; i = text.indexOf(char, i + 1)) n++;
  return n;
}
