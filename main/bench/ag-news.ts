/**
 * Subsets of AG News as ../shared/fixtures/mini-t5-instruct uses it (the original test split, `data/ag_news/test.csv`:
 * headerless, fully quoted, class 1..4 in column 0; rows before AG_NEWS_TRAIN_ROWS trained on, the rest held out),
 * by row range and class. They are written as the file's own lines, byte for byte, so that Sprout reads them as it
 * reads the original (each of its 7,600 records is one line: no field holds a line break).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const AG_NEWS_ROWS = 7600;
/** Class index (column 0) → the label word the fixture's topic task answers with. */
export const AG_NEWS_LABEL_WORDS = { 1: 'world', 2: 'sports', 3: 'business', 4: 'science' } as const;
export type AgNewsClass = keyof typeof AG_NEWS_LABEL_WORDS;
/** The fixture's bare topic input: title, a space, description. */
export const AG_NEWS_TEMPLATE = '{1} {2}';

export interface AgNewsSubset {
  /** Data rows [from, to). */
  from: number;
  to: number;
  /** Only these classes (all when omitted). */
  classes?: AgNewsClass[];
  /** At most this many rows, the first in file order. */
  limit?: number;
}

/** Writes the subset's lines to `file` and returns how many rows of each class it holds. */
export function writeAgNewsRows(shared: string, file: string, subset: AgNewsSubset): Record<string, number> {
  const lines = readFileSync(join(shared, 'data/ag_news/test.csv'), 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length !== AG_NEWS_ROWS) throw new Error(`ag_news/test.csv has ${lines.length} lines, not ${AG_NEWS_ROWS} one-line records.`);
  const counts: Record<string, number> = {};
  const kept: string[] = [];
  for (let row = subset.from; row < subset.to && kept.length < (subset.limit ?? Infinity); row++) {
    const cls = /^"([1-4])",/.exec(lines[row])?.[1];
    if (cls === undefined) throw new Error(`ag_news/test.csv line ${row + 1} does not start with a quoted class 1..4.`);
    if (subset.classes && !subset.classes.includes(Number(cls) as AgNewsClass)) continue;
    kept.push(lines[row]);
    counts[cls] = (counts[cls] ?? 0) + 1;
  }
  writeFileSync(file, `${kept.join('\n')}\n`);
  return counts;
}
