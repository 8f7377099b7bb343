/** Reads a run's examples from a data file (as `sprout data import` reads it) or from an imported dataset. */
import { SproutError } from '../errors.js';
import { readRecords } from '../data/read.js';
import { getDataset, loadDatasetRows, type Split } from '../library/datasets.js';
import { libraryPath, openLibrary } from '../library/db.js';
import type { DataSource } from './config.js';
import { fileSha256 } from './encode.js';
import type { RawExample } from './task.js';

export interface LoadedExamples {
  raw: RawExample[];
  /** Identifies the content for the token cache. */
  content: string;
  /** Where the examples came from, for messages. */
  where: string;
}

export async function loadExamples(source: DataSource, labelColumn: string, dataDir: string, split: Split): Promise<LoadedExamples> {
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
  const db = openLibrary(libraryPath(dataDir));
  try {
    const dataset = getDataset(db, source.dataset);
    if (!dataset) throw new SproutError('unknown-dataset', `There is no imported dataset ${source.dataset}.`, { hint: 'See `sprout data list` for the ids.' });
    const rows = loadDatasetRows(db, source.dataset, split).slice(0, limit);
    const raw = rows.map((row) => ({ fields: { ...row.fields, [labelColumn]: row.label }, line: row.line }));
    const where = `dataset ${source.dataset} (${dataset.name}, ${split})`;
    return { raw, content: `dataset:${source.dataset}:${dataset.source.sha256}:${dataset.validation?.sha256 ?? ''}:${split}:${source.limit ?? ''}`, where };
  } finally {
    db.close();
  }
}
