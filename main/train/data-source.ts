/** Reads a run's examples from a data file (as `sprout data import` reads it) or from an imported dataset. */
import { readRecords } from '../data/read.js';
import type { Split } from '../choices.js';
import type { DataSource } from './config.js';
import { fileSha256 } from './encode.js';
import type { RunLibrary } from './run-ledger.js';
import type { RawExample } from './task.js';

export interface LoadedExamples {
  raw: RawExample[];
  /** Identifies the content for the token cache. */
  content: string;
  /** Where the examples came from, for messages. */
  where: string;
}

export async function loadExamples(source: DataSource, labelColumn: string, datasets: Pick<RunLibrary, 'datasetSplit'>, split: Split): Promise<LoadedExamples> {
  const limit = source.limit ?? Infinity;
  if ('file' in source) {
    const raw: RawExample[] = [];
    const records = readRecords(source.file, { format: source.format, header: source.header, quoting: source.quoting, invalidUtf8: source.invalidUtf8 });
    let skip = source.skip ?? 0;
    for await (const r of records) {
      if (raw.length >= limit) break;
      if (skip > 0) {
        skip--;
        continue;
      }
      raw.push({ fields: r.fields, line: r.line });
    }
    const how = JSON.stringify({ format: source.format, header: source.header, quoting: source.quoting, invalidUtf8: source.invalidUtf8, skip: source.skip, limit: source.limit });
    return { raw, content: `file:${await fileSha256(source.file)}:${how}`, where: source.file };
  }
  const dataset = datasets.datasetSplit(source.dataset, split);
  const raw = dataset.rows.slice(0, limit).map((row) => ({ fields: { ...row.fields, [labelColumn]: row.label }, line: row.line }));
  return { raw, content: `${dataset.content}:${source.limit ?? ''}`, where: `dataset ${source.dataset} (${dataset.name}, ${split})` };
}
