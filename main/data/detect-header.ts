/**
 * Whether the first row of a CSV/TSV file names its columns, judged as spreadsheet importers (and Python's
 * csv.Sniffer.has_header) do: by comparing row 1 with the rows below it, column by column.
 *
 * Each column votes. For data: row 1's value recurs below (a label, a source code, an empty mark), or it is a number
 * above numbers. For a header: a word above a column of numbers, a name outside a small set of categories, or a
 * value shorter than every value of a long-text column. A tie keeps the usual reading, a header, unless row 1 reads
 * like a sentence: then it is a text to label (a one-column file of reviews, whose first review would be lost).
 */
import { clipped } from '../wording.js';

export interface HeaderChoice {
  header: boolean;
  reason: string;
}

/** Rows after the first that are compared with it. */
export const HEADER_SAMPLE_ROWS = 200;

/** A number as a sheet shows one: a decimal point or comma (3.50, 3,50), thousands grouped (1,234.50, 1.234,50). */
const NUMBER = /^[+-]?(\d+([.,]\d*)?|[.,]\d+|\d{1,3}([.,']\d{3})+([.,]\d+)?)([eE][+-]?\d+)?$/;
const isNumber = (v: string) => NUMBER.test(v.trim());

interface Vote {
  weight: number;
  why: string;
}

export function detectHeader(rows: readonly (readonly string[])[]): HeaderChoice {
  const [first, ...below] = rows;
  if (!first) return { header: true, reason: 'the file is empty' };
  if (below.length === 0) return { header: true, reason: 'there is only one row, so nothing to compare it with' };
  const votes = first.map((value, c) =>
    columnVote(
      value,
      c,
      below.map((r) => r[c] ?? ''),
    ),
  );
  const score = votes.reduce((s, v) => s + v.weight, 0);
  const header = score >= 0;
  const telling = votes.filter((v) => (header ? v.weight > 0 : v.weight < 0)).map((v) => v.why);
  if (telling.length === 0)
    return sentenceRow(first) ?? { header, reason: 'nothing in row 1 sets it apart from the rows below, so it is read as a header' };
  return { header, reason: `row 1 looks like ${header ? 'a header' : 'data'}: ${telling.slice(0, 3).join('; ')}` };
}

function columnVote(value: string, c: number, below: string[]): Vote {
  const name = `column ${c}`;
  const filled = below.filter((v) => v.trim() !== '');
  // Empty throughout, as the stray columns Excel adds when a cell far right was ever touched: no evidence either way.
  if (value.trim() === '' && filled.length === 0) return { weight: 0, why: '' };
  if (below.includes(value))
    return {
      weight: -2,
      why: value.trim() === '' ? `${name} is empty in row 1 as below` : `${JSON.stringify(clipped(value, 28))} in ${name} recurs below`,
    };
  if (value.trim() === '' || filled.length === 0) return { weight: 0, why: '' };
  if (filled.every(isNumber)) {
    return isNumber(value)
      ? { weight: -1, why: `${name} holds a number in row 1 as below` }
      : { weight: 2, why: `${JSON.stringify(clipped(value, 28))} stands above numbers in ${name}` };
  }
  // Above a column of words, only a value shaped like a name can be one: short, not a sentence.
  if (!nameLike(value)) return { weight: 0, why: '' };
  const distinct = new Set(filled);
  if (distinct.size <= 10 && filled.length >= 3 * distinct.size) {
    return { weight: 1, why: `${JSON.stringify(clipped(value, 28))} is not one of the ${distinct.size} values of ${name} below` };
  }
  const shortest = Math.min(...filled.map((v) => v.length));
  if (filled.length >= 5 && shortest >= 12 && value.length < shortest && value.length <= 40) {
    return { weight: 1, why: `${JSON.stringify(clipped(value, 28))} is shorter than every text of ${name} below` };
  }
  return { weight: 0, why: '' };
}

function nameLike(v: string): boolean {
  return v.length <= 40 && (v.match(/\s/g)?.length ?? 0) <= 3 && !/[.!?]$/.test(v.trim());
}

/** Spaces between words and a sentence's end (or more than a column name's length): text, not a name. */
function sentenceLike(v: string): boolean {
  const t = v.trim();
  return /\S\s+\S/.test(t) && (/[.!?…]["')\]]?$/.test(t) || t.length > 40);
}

/** Row 1 as data when, with nothing else to go by, one of its values reads like a sentence. */
function sentenceRow(first: readonly string[]): HeaderChoice | undefined {
  const sentence = first.find(sentenceLike);
  if (sentence === undefined) return undefined;
  return {
    header: false,
    reason: `row 1 reads like a sentence (${JSON.stringify(clipped(sentence, 28))}), not like column names, so it is read as data`,
  };
}
