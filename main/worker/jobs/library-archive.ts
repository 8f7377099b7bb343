import { exportLibraryArchive, importLibraryArchive } from '../../export/library-archive.js';
import { withLibraryAt } from '../../library/db.js';
import type { MergeCounts } from '../../library/merge.js';
import type { Job } from '../job.js';

/** The library of `dataDir` and an archive file (main/export/library-archive.ts). */
export interface LibraryArchiveInput {
  dataDir: string;
  file: string;
}

export interface LibraryExportOutput {
  file: string;
  prompts: number;
}

/**
 * On the worker: the copy and the checksums of a library that holds large datasets take seconds, and the main
 * thread must keep answering meanwhile.
 */
export const libraryExportAll: Job<LibraryArchiveInput, LibraryExportOutput, never> = ({ dataDir, file }) =>
  withLibraryAt(dataDir, async (db) => ({ file, prompts: (await exportLibraryArchive(db, file)).prompts.length }));

export const libraryImportAll: Job<LibraryArchiveInput, MergeCounts, never> = ({ dataDir, file }) =>
  withLibraryAt(dataDir, (db) => importLibraryArchive(db, file));
