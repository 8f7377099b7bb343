/**
 * Parquet output. A Parquet file ends with a footer describing every row group, so it cannot be appended to and
 * committed row by row; a labelling job therefore streams its Parquet rows into a JSON Lines part file
 * (`<output>.part.jsonl`, committed and resumed like any other output) and converts that into the Parquet file
 * once the last row is in, one row group at a time, writing `<output>.tmp` and renaming it into place.
 */
import { createReadStream, renameSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileWriter, parquetWriteRows } from 'hyparquet-writer';
import type { BasicType } from 'hyparquet-writer/src/types.js';

export function parquetPartPath(output: string): string {
  return `${output}.part.jsonl`;
}

export interface ParquetColumn {
  name: string;
  type: Extract<BasicType, 'STRING' | 'DOUBLE'>;
}

const ROW_GROUP_ROWS = 10_000;

export async function convertPartToParquet(part: string, output: string, columns: readonly ParquetColumn[]): Promise<void> {
  const tmp = `${output}.tmp`;
  const lines = createInterface({ input: createReadStream(part, 'utf8'), crlfDelay: Infinity });
  async function* rows(): AsyncGenerator<Record<string, unknown>> {
    for await (const line of lines) if (line) yield JSON.parse(line) as Record<string, unknown>;
  }
  try {
    await parquetWriteRows({
      writer: fileWriter(tmp),
      rows: rows(),
      columns: columns.map((c) => ({ name: c.name, type: c.type, nullable: true })),
      rowGroupSize: ROW_GROUP_ROWS,
      createdBy: 'sprout label',
    });
    renameSync(tmp, output);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
  rmSync(part);
}
