/** Reads a run's examples from a data file (as `sprout data import` reads it) or from an imported dataset. */
import { readRecords } from '../data/read.js';
import { asHeldOutSheetError } from '../data/xlsx-workbook.js';
import type { Split } from '../choices.js';
import { splitHeldOut } from '../data/split.js';
import type { DataSource } from './config.js';
import { sha256OfFileAsync } from '../file-hash.js';
import type { RunLibrary } from './run-ledger.js';
import type { RawExample } from './task.js';

type HeldOut = NonNullable<Extract<DataSource, { file: string }>['holdOut']>;

export interface LoadedExamples {
  raw: RawExample[];
  /** Identifies the content for the token cache. */
  content: string;
  /** Where the examples came from, for messages. */
  where: string;
}

/**
 * The examples of one split: a dataset's stored rows, a file's records (its `split` part when shares are held out of
 * it by unique text; `textColumns` are the columns whose values make a row's text), or the whole file.
 */
export async function loadExamples(
  source: DataSource,
  labelColumn: string,
  datasets: Pick<RunLibrary, 'datasetSplit'>,
  split: Split,
  textColumns: string[] = [],
): Promise<LoadedExamples> {
  const limit = source.limit ?? Infinity;
  if ('file' in source) {
    const raw: RawExample[] = [];
    // The reading options pass through as the source has them: a list of them is where a new one gets dropped.
    const { file: _file, skip: _skip, limit: _limit, holdOut: _holdOut, ...reading } = source;
    const records = readRecords(source.file, reading);
    let skip = source.skip ?? 0;
    try {
      for await (const r of records) {
        if (raw.length >= limit) break;
        if (skip > 0) {
          skip--;
          continue;
        }
        raw.push({ fields: r.fields, line: r.line });
      }
    } catch (error) {
      throw split === 'train' || source.holdOut ? error : asHeldOutSheetError(error, split);
    }
    // The token cache's key: all the source says but the file, whose content is hashed. Taken whole, in a fixed order,
    // for the reason the reading options are: a list is where a new option gets dropped, and a stale cache kept.
    const { file: _source, ...described } = source;
    const how = JSON.stringify(Object.fromEntries(Object.entries(described).sort(([a], [b]) => a.localeCompare(b))));
    if (!source.holdOut) return { raw, content: `file:${(await sha256OfFileAsync(source.file)).sha256}:${how}`, where: source.file };
    const part = heldOutPart(raw, labelColumn, textColumns, source.holdOut, split);
    return {
      raw: part,
      content: `file:${(await sha256OfFileAsync(source.file)).sha256}:${how}:${split}:${JSON.stringify(textColumns)}`,
      where: `${source.file} (${split})`,
    };
  }
  const dataset = datasets.datasetSplit(source.dataset, split);
  const raw = dataset.rows.slice(0, limit).map((row) => ({ fields: { ...row.fields, [labelColumn]: row.label }, line: row.line }));
  return { raw, content: `${dataset.content}:${source.limit ?? ''}`, where: `dataset ${source.dataset} (${dataset.name}, ${split})` };
}

/**
 * The `split` part of a file's records under a hold-out: drawn by splitHeldOut over the usable rows (a label and a
 * non-empty text) in file order, grouped by class and by the JSON of their text values, as the import stores them,
 * so the same file, seed and shares hold out the same rows whichever way they were read. Unusable rows stay in
 * training, where encoding counts and skips them.
 */
function heldOutPart(raw: RawExample[], labelColumn: string, textColumns: string[], holdOut: HeldOut, split: Split): RawExample[] {
  const groups = new Map<string, number[]>();
  const byText = new Map<string, { rowid: number; label: string | null }[]>();
  raw.forEach((r, i) => {
    const label = r.fields[labelColumn];
    const texts = textColumns.map((c) => r.fields[c]);
    if (label === null || label === undefined || !/\S/.test(label) || texts.some((t) => t === null || t === undefined || !/\S/.test(t)))
      return;
    let group = groups.get(label);
    if (!group) groups.set(label, (group = []));
    group.push(i);
    const key = JSON.stringify(texts);
    let copies = byText.get(key);
    if (!copies) byText.set(key, (copies = []));
    copies.push({ rowid: i, label });
  });
  const held = splitHeldOut(
    groups,
    [...byText.values()].filter((c) => c.length > 1),
    holdOut,
    holdOut.seed,
  );
  if (split !== 'train') return held[split].rows.sort((a, b) => a - b).map((i) => raw[i]);
  const out = new Set([...held.validation.rows, ...held.test.rows]);
  return raw.filter((_, i) => !out.has(i));
}
