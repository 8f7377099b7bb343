import type { DataPreview, DatasetDetail, DatasetInfo, ImportReport, ValidRequestOf } from '../../../preload/contract.js';
import { howRead } from '../../data/read.js';
import { defaultTemplate } from '../../data/template.js';
import { SproutError } from '../../errors.js';
import {
  deleteDataset,
  getDataset,
  iterateDatasetRows,
  labelCountsBySplit,
  listDatasets,
  splitCounts,
  type DatasetRecord,
  type Split,
} from '../../library/datasets.js';
import type { LibraryDb } from '../../library/db.js';
import { latestTaskOfDataset } from '../../library/tasks.js';
import type { HandlerContext } from '../context.js';
import { existingFile } from './files.js';
import { libraryOf } from './library-connection.js';

export function requireDataset(db: LibraryDb, id: number): DatasetRecord {
  const dataset = getDataset(db, id);
  if (!dataset)
    throw new SproutError('unknown-dataset', `There is no dataset ${id} in the library.`, {
      hint: 'Import one in the Data step; the list shows the ids.',
    });
  return dataset;
}

export function datasetInfo(db: LibraryDb, d: DatasetRecord): DatasetInfo {
  return {
    id: d.id,
    name: d.name,
    file: d.source.name,
    format: d.format,
    textColumns: d.textColumns,
    labelColumn: d.labelColumn,
    template: d.template,
    labelSet: d.labelSet,
    splits: splitCounts(db, d.id),
    created: d.created,
  };
}

export async function preview(context: HandlerContext, r: ValidRequestOf<'data.preview'>): Promise<DataPreview> {
  // Every reading option passes through as it came: listing them one by one once dropped a new one on the way.
  const { file: given, ...options } = r;
  const file = existingFile(given, 'data file');
  const p = await context.worker.run('data.preview', { file, options });
  if (r.labelColumn !== undefined && !p.info.columns.includes(r.labelColumn)) {
    throw new SproutError('unknown-column', `The file has no column "${r.labelColumn}"; its columns are ${p.info.columns.join(', ')}.`, {
      file,
      hint: 'Choose one of its columns as the label.',
    });
  }
  return {
    file,
    ...howRead(p.info),
    bytes: p.info.totalBytes,
    rows: p.rows,
    blankLines: p.blankLines,
    columns: p.columns,
    firstRows: p.firstRows.map((r) => ({ line: r.line, fields: { ...r.fields } })),
    suggestion: { ...p.suggestion, template: defaultTemplate(p.suggestion.textColumns, p.info.header) },
    labelColumn: p.labelColumn,
    labels: p.labels,
    freeText: p.freeText,
  };
}

export async function importData(context: HandlerContext, r: ValidRequestOf<'data.import'>): Promise<ImportReport> {
  const file = existingFile(r.file, 'data file');
  const validationFile = r.validationFile === undefined ? undefined : existingFile(r.validationFile, 'validation file');
  const { file: _file, validationFile: _validation, ...options } = r;
  const report = await context.worker.run('data.import', { dataDir: context.dataDir, file, options: { ...options, validationFile } }, (p) =>
    context.emit('import.progress', { file, bytesRead: p.bytesRead, totalBytes: p.totalBytes, rows: p.rows }),
  );
  const { id, validation, ...rest } = report;
  return { ...rest, datasetId: id, validationFile: validation?.file ?? null };
}

export function listDatasetInfo(context: HandlerContext): DatasetInfo[] {
  const db = libraryOf(context);
  return listDatasets(db).map((d) => datasetInfo(db, d));
}

export function showDataset(context: HandlerContext, r: ValidRequestOf<'data.show'>): DatasetDetail {
  const db = libraryOf(context);
  const d = requireDataset(db, r.id);
  const split: Split = r.split ?? 'train';
  const offset = r.offset ?? 0;
  const limit = r.limit ?? 50;
  const info = datasetInfo(db, d);
  const rows: DatasetDetail['rows'] = [];
  let index = 0;
  for (const row of iterateDatasetRows(db, d.id, split)) {
    if (index++ < offset) continue;
    if (rows.length >= limit) break;
    rows.push({ split: row.split, index: row.index, line: row.line, text: row.text, label: row.label });
  }
  return {
    ...info,
    columns: d.columnMapping.columns,
    labelCounts: labelCountsBySplit(db, d.id),
    report: d.report,
    rows,
    totalRows: info.splits[split],
    verbalizer: latestTaskOfDataset(db, d.id)?.verbalizer ?? null,
  };
}

export function removeDataset(context: HandlerContext, id: number): { removed: boolean } {
  return { removed: deleteDataset(libraryOf(context), id) };
}
