import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { SproutError } from '../errors.js';
import type { ReadProgress, SourceInfo, SourceRecord } from './types.js';
import { objectFields } from './values.js';

/**
 * Records of an Apache Parquet file, one row group at a time so that memory stays at one row group's worth.
 * `line` is the 1-based row number.
 */
export async function* readParquet(file: string, info: SourceInfo, onProgress?: (p: ReadProgress) => void): AsyncGenerator<SourceRecord> {
  const buffer = await asyncBufferFromFile(file);
  // A damaged file makes hyparquet throw plain errors from anywhere (footer, schema, pages): each is the file's fault.
  const unreadable = (error: unknown, where: string) =>
    error instanceof SproutError
      ? error
      : new SproutError(
          'data-bad-parquet',
          `This is not a readable Parquet file (${where}${(error as Error)?.message ?? String(error)}).`,
          {
            file,
            hint: 'Check that the download is complete, or choose the right --format.',
          },
        );
  let metadata;
  try {
    metadata = await parquetMetadataAsync(buffer);
    info.columns = parquetSchema(metadata).children.map((child) => child.element.name);
  } catch (error) {
    throw unreadable(error, '');
  }
  let row = 0;
  const total = Number(metadata.num_rows);
  for (const [g, group] of metadata.row_groups.entries()) {
    const count = Number(group.num_rows);
    let objects;
    try {
      objects = await parquetReadObjects({ file: buffer, metadata, rowStart: row, rowEnd: row + count });
    } catch (error) {
      throw unreadable(error, `row group ${g + 1}: `);
    }
    for (const object of objects) {
      row++;
      yield { line: row, fields: objectFields(object) };
    }
    onProgress?.({ bytesRead: Math.round((info.totalBytes * row) / Math.max(1, total)), totalBytes: info.totalBytes });
  }
}
