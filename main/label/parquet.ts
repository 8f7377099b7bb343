/** Parquet output, converted from a labelling job's part file once its last row is in (part-output.ts). */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileWriter, parquetWriteRows } from 'hyparquet-writer';
import type { OutputColumn } from './types.js';

const ROW_GROUP_ROWS = 10_000;

/** Writes the part file's rows to `output` as Parquet, one row group at a time. */
export async function writeParquet(part: string, output: string, columns: readonly OutputColumn[]): Promise<void> {
  const lines = createInterface({ input: createReadStream(part, 'utf8'), crlfDelay: Infinity });
  async function* rows(): AsyncGenerator<Record<string, unknown>> {
    for await (const line of lines) if (line) yield JSON.parse(line) as Record<string, unknown>;
  }
  await parquetWriteRows({
    writer: fileWriter(output),
    rows: rows(),
    columns: columns.map((c) => ({ name: c.name, type: c.type, nullable: true })),
    rowGroupSize: ROW_GROUP_ROWS,
    createdBy: 'sprout label',
  });
}
