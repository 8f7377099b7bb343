/**
 * JSON numbers kept as the file wrote them. JavaScript reads every JSON number as a double: a tweet id such as
 * 1453678912345678901 reads as …800, 1e400 as Infinity (written back as null), 1.0 as 1 (which Python then reads as an
 * int where the file had a float). A number whose double does not print as its own text is carried as that text,
 * tagged, through the library's JSON columns, and written back bare; a field's text is the file's.
 */
const TAG = '\u0000sprout-number:';
/** A string literal (passed over) or a number, outside strings: JSON's grammar for both. */
const TOKEN = /"[^"\\]*(?:\\.[^"\\]*)*"|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
/** A tagged number inside JSON.stringify's output (which writes U+0000 as \u0000). */
const TAGGED = /"\\u0000sprout-number:(-?[0-9][0-9.eE+-]*)"/g;
/**
 * What a number a double may change starts with, after the character before a value: 16 digits or more, a fraction
 * or an exponent, or -0. A line without one (most lines: short integers, text) needs no scan; a string that looks so
 * costs only the scan.
 */
const MAY_HOLD_INEXACT = /[:,[]\s*(?:-?\d{16}|-?\d+[.eE]|-0\b)/;

/** The text with each number that a double would change replaced by its tagged string; the text itself when none. */
function tagInexactNumbers(text: string): string {
  return text.replace(TOKEN, (token) =>
    token[0] === '"' || JSON.stringify(Number(token)) === token ? token : JSON.stringify(TAG + token),
  );
}

/** JSON.parse, with numbers a double would change kept as their text (tagged; see numberText). */
export function parseJsonExact(text: string): unknown {
  if (!MAY_HOLD_INEXACT.test(text)) return JSON.parse(text);
  const tagged = tagInexactNumbers(text);
  if (tagged === text) return JSON.parse(text);
  try {
    return JSON.parse(tagged);
  } catch (error) {
    // Invalid JSON: its error, with its position, is the file's own text's.
    JSON.parse(text);
    throw error;
  }
}

/** The file's text of a number parseJsonExact kept as text; undefined for any other value. */
export function numberText(value: unknown): string | undefined {
  return typeof value === 'string' && value.startsWith(TAG) ? value.slice(TAG.length) : undefined;
}

/** JSON.stringify writing kept numbers bare, as the file had them, and big integers (Parquet's int64) as numbers. */
export function stringifyJsonExact(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${TAG}${v}` : v)).replace(TAGGED, '$1');
}
