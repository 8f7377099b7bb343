import { PREVIEW_ROWS } from '../choices.js';
import { mostFrequentFirst, Profiler, suggestMapping, type ColumnProfile, type Suggestion } from './profile.js';
import { openSource } from './read.js';
import { addCount, labelOf } from './values.js';
import type { ReadOptions, SourceInfo, SourceRecord } from './types.js';

export interface Preview {
  info: SourceInfo;
  /** Records in the whole file. */
  rows: number;
  blankLines: number;
  firstRows: SourceRecord[];
  columns: ColumnProfile[];
  suggestion: Suggestion;
  /** Label column shown: the one asked for, else the suggested one. */
  labelColumn: string | null;
  /** Its labels with counts over the whole file; null without a label column or past 1,000 distinct values. */
  labels: Record<string, number> | null;
  /** More distinct labels than a classifier takes (100): a free-text task. */
  freeText: boolean;
}

/** Reads the whole file once: the first rows, column types and statistics, a suggested mapping and the label counts. */
export async function previewFile(file: string, options: ReadOptions & { rows?: number; labelColumn?: string } = {}): Promise<Preview> {
  const source = await openSource(file, options);
  const firstRows: SourceRecord[] = [];
  let profiler: Profiler | undefined;
  for await (const record of source.records) {
    profiler ??= new Profiler(source.info.columns);
    profiler.add(record);
    if (firstRows.length < (options.rows ?? PREVIEW_ROWS.rows)) firstRows.push(record);
  }
  const columns = profiler!.profiles();
  const suggestion = suggestMapping(columns, profiler!.rows);
  const labelColumn = options.labelColumn ?? suggestion.labelColumn;
  const counts = labelColumn === null ? undefined : profiler!.valueCounts(labelColumn);
  const labels = counts === undefined ? null : labelCounts(counts);
  const profile = columns.find((c) => c.name === labelColumn);
  return {
    info: source.info,
    rows: profiler!.rows,
    blankLines: source.blankLines(),
    firstRows,
    columns,
    suggestion,
    labelColumn,
    labels,
    freeText: profile !== undefined && (profile.distinctCapped || profile.distinct > 100),
  };
}

/** A column's value counts as labels: values that differ only in the spaces around them are one label (labelOf). */
function labelCounts(counts: Record<string, number>): Record<string, number> {
  const labels: Record<string, number> = {};
  for (const [value, n] of Object.entries(counts)) {
    const label = labelOf(value);
    if (label !== undefined) addCount(labels, label, n);
  }
  return Object.fromEntries(Object.entries(labels).sort(mostFrequentFirst));
}
