/**
 * A workbook's strings (ECMA-376 Part 1, 22.9.2.19 ST_Xstring): a character XML cannot hold (a control character such
 * as a backspace, a lone surrogate) is stored as `_xHHHH_`, and a literal `_xHHHH_` with its underscore escaped as
 * `_x005F_`. The reader undoes what the writer (main/label/workbook-output.ts) does, so both live here.
 */

/** A stored string as it reads: every `_xHHHH_` the character it names. */
export function unescapeXString(s: string): string {
  return s.includes('_x') ? s.replace(/_x([0-9A-Fa-f]{4})_/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))) : s;
}

/**
 * A string as a workbook stores it. A carriage return is left to the XML writer, which writes it as the character
 * reference &#13; (XML would read a bare one back as a line feed): Excel reads `_x000D_` too, but openpyxl 3.0, and
 * pandas through it, leave that escape in the text.
 */
export function escapeXString(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isHigh(c) && isLow(s.charCodeAt(i + 1))) {
      out += s[i] + s[++i];
    } else if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0xfffe || c === 0xffff || isHigh(c) || isLow(c)) {
      out += `_x${c.toString(16).toUpperCase().padStart(4, '0')}_`;
    } else if (s[i] === '_' && ESCAPE_LIKE.test(s.slice(i, i + 7))) {
      out += '_x005F_';
    } else out += s[i];
  }
  return out;
}

const ESCAPE_LIKE = /^_x[0-9A-Fa-f]{4}_$/;
const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;
