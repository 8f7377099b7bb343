import type { SourceRecord } from './types.js';

/** Value counts ordered most frequent first, ties in the values' order: how counts are listed everywhere. */
export function mostFrequentFirst(a: readonly [string, number], b: readonly [string, number]): number {
  return b[1] - a[1] || (a[0] < b[0] ? -1 : 1);
}

export type ColumnType = 'integer' | 'number' | 'boolean' | 'text' | 'empty';

export interface ColumnProfile {
  name: string;
  type: ColumnType;
  /** Records with a value (not null, not absent). */
  present: number;
  /** Values that are empty or only whitespace. */
  blank: number;
  /** Distinct values, counted up to DISTINCT_CAP; `distinctCapped` says the true number is larger. */
  distinct: number;
  distinctCapped: boolean;
  meanChars: number;
  maxChars: number;
}

export interface Suggestion {
  textColumns: string[];
  labelColumn: string | null;
}

const DISTINCT_CAP = 1000;
const LABEL_NAMES = ['label', 'labels', 'gold_label', 'class', 'category', 'target', 'sentiment', 'y'];
const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const BOOLEAN = /^(true|false)$/i;

/** Collects column statistics record by record with bounded memory (distinct values stop being tracked at a cap). */
export class Profiler {
  rows = 0;
  private readonly stats = new Map<
    string,
    {
      present: number;
      blank: number;
      chars: number;
      max: number;
      integer: boolean;
      number: boolean;
      boolean: boolean;
      values: Map<string, number>;
      capped: boolean;
    }
  >();

  constructor(private readonly columns: string[]) {
    for (const c of columns)
      this.stats.set(c, {
        present: 0,
        blank: 0,
        chars: 0,
        max: 0,
        integer: true,
        number: true,
        boolean: true,
        values: new Map(),
        capped: false,
      });
  }

  add(record: SourceRecord): void {
    this.rows++;
    for (const [name, s] of this.stats) {
      const v = record.fields[name];
      if (v === null || v === undefined) continue;
      s.present++;
      s.chars += v.length;
      if (v.length > s.max) s.max = v.length;
      if (!/\S/.test(v)) {
        s.blank++;
        continue;
      }
      if (s.integer && !INTEGER.test(v)) s.integer = false;
      if (s.number && !NUMBER.test(v.trim())) s.number = false;
      if (s.boolean && !BOOLEAN.test(v)) s.boolean = false;
      if (!s.capped) {
        s.values.set(v, (s.values.get(v) ?? 0) + 1);
        if (s.values.size > DISTINCT_CAP) {
          s.capped = true;
          s.values.clear();
        }
      }
    }
  }

  /** Non-blank values of a column with their counts, most frequent first; undefined once past the distinct cap. */
  valueCounts(name: string): Record<string, number> | undefined {
    const s = this.stats.get(name);
    if (!s || s.capped) return undefined;
    return Object.fromEntries([...s.values].sort(mostFrequentFirst));
  }

  profiles(): ColumnProfile[] {
    return this.columns.map((name) => {
      const s = this.stats.get(name)!;
      const filled = s.present - s.blank;
      const type: ColumnType = filled === 0 ? 'empty' : s.boolean ? 'boolean' : s.integer ? 'integer' : s.number ? 'number' : 'text';
      return {
        name,
        type,
        present: s.present,
        blank: s.blank,
        distinct: s.capped ? DISTINCT_CAP : s.values.size,
        distinctCapped: s.capped,
        meanChars: s.present ? Math.round((s.chars / s.present) * 10) / 10 : 0,
        maxChars: s.max,
      };
    });
  }
}

/**
 * Guesses the mapping: the label is a column named like one (label, class, …) or else the lowest-cardinality column
 * of 2–100 values with none blank, numbers first; text columns are the remaining free-text columns (long enough and
 * mostly distinct), or the longest column when none qualifies.
 */
export function suggestMapping(profiles: ColumnProfile[], rows: number): Suggestion {
  const byName = LABEL_NAMES.map((n) => profiles.find((p) => p.name.toLowerCase() === n)).find((p) => p && p.distinct >= 1);
  const candidates = profiles
    .filter(
      (p) =>
        p.type !== 'empty' &&
        p.blank === 0 &&
        p.present === rows &&
        p.distinct >= 2 &&
        p.distinct <= 100 &&
        p.distinct <= Math.max(2, rows / 2) &&
        !p.distinctCapped,
    )
    .sort((a, b) => rank(a) - rank(b) || a.distinct - b.distinct || profiles.indexOf(a) - profiles.indexOf(b));
  const label = byName ?? candidates.find((p) => p.meanChars < 40);
  const rest = profiles.filter((p) => p !== label);
  let text = rest.filter(
    (p) => p.type === 'text' && p.meanChars >= 12 && (p.distinctCapped || p.distinct >= Math.min(rows, DISTINCT_CAP) * 0.5),
  );
  if (text.length === 0) {
    const longest = [...rest].filter((p) => p.type !== 'empty').sort((a, b) => b.meanChars - a.meanChars)[0];
    text = longest ? [longest] : [];
  }
  return { textColumns: text.map((p) => p.name), labelColumn: label?.name ?? null };
}

function rank(p: ColumnProfile): number {
  return p.type === 'integer' || p.type === 'boolean' ? 0 : 1;
}
