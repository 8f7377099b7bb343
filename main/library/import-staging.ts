/**
 * Where an import's rows wait until they are all read: a library file of their own under <data dir>/staging, then one
 * copy into the library. SQLite lets one connection write at a time, and an import that held the library's write lock
 * while it read its file (awaiting each chunk) kept every other writer out for as long: a training in another process
 * waited busy_timeout (5 s) for its next metric and died of "database is locked" beside a 1,000,000-row import
 * (9 s), and one on the app's engine worker, the import's own thread, could never get the lock at all. The copy is
 * one synchronous statement per table, so no other work on the thread runs while it holds the lock.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from '../process-alive.js';
import { openLibrary, tableColumns, writeTransaction, type LibraryDb } from './db.js';

export const STAGING_FOLDER = 'staging';

export interface Staging {
  db: LibraryDb;
  file: string;
  /** Closes the staging library if it is open and deletes its files. */
  dispose(): void;
}

/** What may wait in the staging folder, each named with its process's pid: an import's library files, an archive's folder. */
const STAGED = /^(?:import|archive|unpack)-(\d+)-/;

/**
 * The staging folder of `dataDir`, rid of what processes that no longer run left there (a crash, a kill -9, a
 * Ctrl-C, which ends a command without its cleanup): an archive's copy of the library is as large as the library.
 */
function stagingFolder(dataDir: string): string {
  const folder = join(dataDir, STAGING_FOLDER);
  mkdirSync(folder, { recursive: true });
  for (const name of readdirSync(folder)) {
    const pid = STAGED.exec(name)?.[1];
    if (pid !== undefined && !processAlive(Number(pid))) rmSync(join(folder, name), { recursive: true, force: true });
  }
  return folder;
}

/**
 * A fresh folder in the staging folder for work as large as the library (an archive's copy of it, an archive
 * unpacked): on the library's disk, which has room for it, rather than a temporary folder that may be a small
 * tmpfs. The caller removes it; what a killed process leaves is removed by the next one.
 */
export function stagingWorkFolder(dataDir: string, kind: 'archive' | 'unpack'): string {
  return mkdtempSync(join(stagingFolder(dataDir), `${kind}-${process.pid}-`));
}

/**
 * A new, empty staging library under `dataDir`. It is thrown away whatever happens, so it keeps no journal and does
 * not wait for the disk: that makes it faster to fill than the library itself.
 */
export function openStaging(dataDir: string): Staging {
  const folder = stagingFolder(dataDir);
  const file = join(folder, `import-${process.pid}-${randomUUID()}.sqlite`);
  let db: LibraryDb | undefined;
  const dispose = () => {
    if (db?.open) db.close();
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${file}${suffix}`, { force: true });
  };
  try {
    db = openLibrary(file);
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    // Kept up to date row by row, the library's index on the rows slowed the import (1M rows: 10.8 s with it, 9.2–10.2
    // without); the copy fills it in the library, and the import's own queries do not use it.
    db.exec('DROP INDEX dataset_rows_by_split');
  } catch (error) {
    dispose();
    throw error;
  }
  return { db, file, dispose };
}

/**
 * Copies dataset `stagedId` of the (closed) staging library `file` into `db`, rows in the order they were stored, in
 * one transaction; returns its id in `db`. The stored import report names the dataset, so its id follows.
 */
export function copyStagedDataset(db: LibraryDb, file: string, stagedId: number): number {
  const columns = tableColumns(db, 'datasets')
    .filter((c) => c !== 'id')
    .join(', ');
  db.prepare('ATTACH DATABASE ? AS staged').run(file);
  try {
    return writeTransaction(db, () => {
      const copy = db.prepare(`INSERT INTO main.datasets (${columns}) SELECT ${columns} FROM staged.datasets WHERE id = ?`);
      const id = Number(copy.run(stagedId).lastInsertRowid);
      db.prepare(`UPDATE main.datasets SET report = json_set(report, '$.id', ?) WHERE id = ?`).run(id, id);
      db.prepare(
        `INSERT INTO main.dataset_rows (dataset_id, split, row_index, line, texts, label)
         SELECT ?, split, row_index, line, texts, label FROM staged.dataset_rows WHERE dataset_id = ? ORDER BY rowid`,
      ).run(id, stagedId);
      return id;
    });
  } finally {
    db.exec('DETACH DATABASE staged');
  }
}
