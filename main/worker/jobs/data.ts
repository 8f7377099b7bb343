import { withLibraryAt } from '../../library/db.js';
import { importDataset, type ImportOptions, type ImportReport } from '../../library/import-dataset.js';
import { previewFile, type Preview } from '../../data/preview.js';
import type { ReadOptions, ReadProgress } from '../../data/types.js';
import type { Job } from '../job.js';

type PlainReadOptions = Omit<ReadOptions, 'onProgress'>;

export interface DataPreviewInput {
  file: string;
  options: PlainReadOptions & { rows?: number; labelColumn?: string };
}

export interface DataImportInput {
  dataDir: string;
  file: string;
  options: Omit<ImportOptions, 'onProgress' | 'onRows' | 'countTokens'>;
}

export type DataImportOutput = ImportReport;

export interface ImportJobProgress {
  bytesRead: number;
  totalBytes: number;
  rows: number;
}

export const dataPreview: Job<DataPreviewInput, Preview, ReadProgress> = ({ file, options }, progress) =>
  previewFile(file, { ...options, onProgress: progress });

/** Progress at most every 100 ms: a million-row file must not flood the main thread with messages. */
export const dataImport: Job<DataImportInput, DataImportOutput, ImportJobProgress> = ({ dataDir, file, options }, progress, signal) =>
  withLibraryAt(dataDir, (db) => {
    let last = 0;
    let rows = 0;
    let bytes = { bytesRead: 0, totalBytes: 0 };
    const report = (force: boolean) => {
      const now = Date.now();
      if (!force && now - last < 100) return;
      last = now;
      progress({ ...bytes, rows });
    };
    return importDataset(db, file, {
      ...options,
      onProgress: (p) => {
        signal.throwIfAborted();
        bytes = p;
        report(false);
      },
      onRows: (n) => {
        rows = n;
        report(false);
      },
    }).then((result) => {
      report(true);
      return result;
    });
  });
