import type { Charsmap } from './charsmap.js';
import type { NormalizerSpec } from './spec.js';

const space = 0x20;
/** "▁" U+2581, sentencepiece's visible space, in UTF-8. */
const meta = [0xe2, 0x96, 0x81] as const;
const replacementChar = [0xef, 0xbf, 0xbd] as const;

/**
 * Sentencepiece's Normalizer::Normalize on UTF-8 bytes: longest-prefix replacement through the charsmap (else the
 * character itself), leading/trailing whitespace removal and collapsing of runs, " " -> "▁", and the dummy "▁"
 * prefix. Output goes into a reusable buffer; `normalize` returns its length.
 */
export class Normalizer {
  out = new Uint8Array(1024);
  private len = 0;
  // Result of the last `prefix` call: replacement bytes [repStart, repEnd) of `repSource`, and input bytes consumed.
  private repSource: Uint8Array = new Uint8Array(0);
  private repStart = 0;
  private repEnd = 0;
  private consumed = 0;
  private readonly fallback = new Uint8Array(replacementChar);

  constructor(
    private readonly spec: NormalizerSpec,
    private readonly charsmap: Charsmap | null,
  ) {}

  normalize(input: Uint8Array, n: number): number {
    const { removeExtraWhitespaces, escapeWhitespaces, addDummyPrefix } = this.spec;
    this.len = 0;
    let i = removeExtraWhitespaces ? this.afterLeadingWhitespace(input, n) : 0;
    if (i >= n) return 0;
    if (addDummyPrefix) this.appendSpace(escapeWhitespaces);
    let prevSpace = removeExtraWhitespaces;
    while (i < n) {
      this.prefix(input, i, n);
      const src = this.repSource;
      let s = this.repStart;
      const e = this.repEnd;
      if (prevSpace) while (s < e && src[s] === space) s++;
      if (s < e) {
        this.reserve(3 * (e - s));
        const out = this.out;
        let len = this.len;
        for (let k = s; k < e; k++) {
          const b = src[k];
          if (b === space && escapeWhitespaces) {
            out[len++] = meta[0];
            out[len++] = meta[1];
            out[len++] = meta[2];
          } else {
            out[len++] = b;
          }
        }
        this.len = len;
        prevSpace = src[e - 1] === space;
      }
      i += this.consumed;
      if (!removeExtraWhitespaces) prevSpace = false;
    }
    if (removeExtraWhitespaces) this.trimTrailingWhitespace(escapeWhitespaces);
    return this.len;
  }

  /** The offset of the first input character whose replacement is not a single space. */
  private afterLeadingWhitespace(input: Uint8Array, n: number): number {
    let i = 0;
    while (i < n) {
      this.prefix(input, i, n);
      if (this.repEnd - this.repStart !== 1 || this.repSource[this.repStart] !== space) break;
      i += this.consumed;
    }
    return i;
  }

  private trimTrailingWhitespace(escapeWhitespaces: boolean): void {
    const out = this.out;
    if (escapeWhitespaces) {
      while (this.len >= 3 && out[this.len - 3] === meta[0] && out[this.len - 2] === meta[1] && out[this.len - 1] === meta[2])
        this.len -= 3;
    } else {
      while (this.len >= 1 && out[this.len - 1] === space) this.len--;
    }
  }

  private prefix(input: Uint8Array, i: number, n: number): void {
    const cm = this.charsmap;
    if (cm !== null) {
      const matched = cm.longestPrefix(input, i, n);
      if (matched > 0) {
        const strings = cm.strings;
        let e = cm.value;
        while (e < strings.length && strings[e] !== 0) e++;
        this.repSource = strings;
        this.repStart = cm.value;
        this.repEnd = e;
        this.consumed = matched;
        return;
      }
    }
    const len = utf8CharLength(input, i, n);
    if (len === 0) {
      // Sentencepiece replaces one malformed byte by U+FFFD.
      this.repSource = this.fallback;
      this.repStart = 0;
      this.repEnd = 3;
      this.consumed = 1;
    } else {
      this.repSource = input;
      this.repStart = i;
      this.repEnd = i + len;
      this.consumed = len;
    }
  }

  private appendSpace(escape: boolean): void {
    this.reserve(3);
    if (escape) {
      this.out.set(meta, this.len);
      this.len += 3;
    } else {
      this.out[this.len++] = space;
    }
  }

  private reserve(extra: number): void {
    if (this.len + extra <= this.out.length) return;
    const grown = new Uint8Array(Math.max(this.out.length * 2, this.len + extra));
    grown.set(this.out.subarray(0, this.len));
    this.out = grown;
  }
}

/** Byte length of the well-formed UTF-8 character at bytes[i], or 0 if it is malformed. */
export function utf8CharLength(bytes: Uint8Array, i: number, n: number): number {
  const b0 = bytes[i];
  if (b0 < 0x80) return 1;
  let len: number;
  let min: number;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    len = 2;
    min = 0x80;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3;
    min = 0x800;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > n) return 0;
  let cp = b0 & (0xff >> (len + 1));
  for (let k = 1; k < len; k++) {
    const b = bytes[i + k];
    if ((b & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}
