/**
 * Output formats that cannot be appended to and committed row by row: a Parquet file ends with a footer describing
 * every row group, and a workbook's sheet is a member of a zip archive whose directory comes last. A labelling job
 * (and an export) therefore streams their rows into a JSON Lines part file, `<output>.part.jsonl`, committed and
 * resumed like any other output, and converts it once the last row is in: into a temporary file beside it (see
 * tempPathBeside), renamed into place, so that a crash during the conversion leaves the part file to convert again
 * and never half a file at `output`.
 */
import { createReadStream, renameSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { BINARY_FORMATS, formatIn, type OutputFormat } from '../choices.js';
import { tempPathBeside } from '../temp-path.js';
import { writeParquet } from './parquet.js';
import type { OutputColumn } from './types.js';
import { writeWorkbook } from './workbook-output.js';

/** The output formats stored as bytes, not text: no row can be appended to them as it is labelled. */
export type PartFormat = Extract<OutputFormat, (typeof BINARY_FORMATS)[number]>;

export function isPartFormat(format: OutputFormat): format is PartFormat {
  return formatIn(BINARY_FORMATS, format);
}

export function partPath(output: string): string {
  return `${output}.part.jsonl`;
}

/** The file a job appends to: the output itself, or its part file. */
export function appendedPath(output: string, format: OutputFormat): string {
  return isPartFormat(format) ? partPath(output) : output;
}

/** Converts the part file into `output` and removes it. `sheet` names a workbook's sheet. */
export async function convertPart(
  format: PartFormat,
  part: string,
  output: string,
  columns: readonly OutputColumn[],
  sheet: string,
): Promise<void> {
  const tmp = tempPathBeside(output);
  try {
    if (format === 'parquet') await writeParquet(partRows(part), tmp, columns);
    else await writeWorkbook(partRows(part), tmp, columns, sheet);
    renameSync(tmp, output);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
  rmSync(part);
}

/** The part file's rows, one JSON object a line. */
async function* partRows(part: string): AsyncGenerator<Record<string, unknown>> {
  for await (const line of createInterface({ input: createReadStream(part, 'utf8'), crlfDelay: Infinity })) {
    if (line) yield JSON.parse(line) as Record<string, unknown>;
  }
}
