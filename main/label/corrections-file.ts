/**
 * A file of corrections for `sprout label correct --file`: one row per correction, with a `row` column (the row
 * number `sprout label review` prints) and a `label` column (empty withdraws the person's label). CSV, TSV or JSON
 * Lines; other columns are ignored, so a reviewed spreadsheet can be passed as it is.
 */
import type { EncodingChoice } from '../choices.js';
import { openSource } from '../data/read.js';
import { labelOf } from '../data/values.js';
import { SproutError } from '../errors.js';

export interface FileCorrection {
  row: number;
  label: string | null;
  /** file:line, for errors. */
  where: string;
}

/** `encoding`: the file's when it has no byte order mark (a spreadsheet saved as Excel's "CSV" is in a code page). */
export async function readCorrectionsFile(file: string, encoding?: EncodingChoice): Promise<FileCorrection[]> {
  const source = await openSource(file, { header: true, encoding });
  const missing = ['row', 'label'].filter((c) => !source.info.columns.includes(c));
  if (missing.length) {
    throw new SproutError(
      'label-bad-corrections',
      `The corrections file has no ${missing.map((c) => `"${c}"`).join(' or ')} column; its columns are ${source.info.columns.join(', ')}.`,
      {
        file,
        hint: 'Give it a header row with "row" (the row number `sprout label review` prints) and "label".',
      },
    );
  }
  const out: FileCorrection[] = [];
  const seen = new Map<number, string>();
  for await (const record of source.records) {
    const where = `${file}:${record.line}`;
    const text = record.fields.row?.trim() ?? '';
    const row = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(row))
      throw new SproutError('label-bad-corrections', `${where}: "${text}" is not a row number.`, {
        hint: 'Use the `row` numbers `sprout label review` prints (0 is the first record).',
      });
    const before = seen.get(row);
    if (before)
      throw new SproutError('label-bad-corrections', `${where}: row ${row} is corrected again (first at ${before}).`, {
        hint: 'Keep one line per row.',
      });
    seen.set(row, where);
    out.push({ row, label: labelOf(record.fields.label) ?? null, where });
  }
  return out;
}
