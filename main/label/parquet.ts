/** Parquet output, converted from a labelling job's part file once its last row is in (part-output.ts). */
import { fileWriter, parquetWriteRows } from 'hyparquet-writer';
import type { OutputColumn } from './types.js';

const ROW_GROUP_ROWS = 10_000;

/** Writes `rows` to `output` as Parquet, one row group at a time. */
export async function writeParquet(
  rows: AsyncIterable<Record<string, unknown>>,
  output: string,
  columns: readonly OutputColumn[],
): Promise<void> {
  await parquetWriteRows({
    writer: fileWriter(output),
    rows,
    columns: columns.map((c) => ({ name: c.name, type: c.type, nullable: true })),
    rowGroupSize: ROW_GROUP_ROWS,
    createdBy: 'sprout label',
  });
}
