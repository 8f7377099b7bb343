import { closeSync, existsSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { SproutError } from '../errors.js';
import type { LibraryDb } from './db.js';
import { tempPathBeside } from '../temp-path.js';

/**
 * Copies the open library to `file` with SQLite's online backup (consistent even while another process writes),
 * through a temporary file renamed into place once the copy passes `PRAGMA integrity_check`. The copy uses a
 * rollback journal, so it is one file; opening it with openLibrary switches it back to WAL.
 */
export async function backupLibrary(
  db: LibraryDb,
  file: string,
  options: { overwrite?: boolean } = {},
): Promise<{ file: string; bytes: number }> {
  const target = resolve(file);
  if (existsSync(target) && !options.overwrite) {
    throw new SproutError('backup-exists', 'The backup file already exists; it was left as it is.', {
      file: target,
      hint: 'Choose a new file name.',
    });
  }
  if (!existsSync(dirname(target)))
    throw new SproutError('backup-folder-missing', 'The folder for the backup does not exist.', { file: dirname(target) });
  const tmp = tempPathBeside(target);
  try {
    // SQLite says only "unable to open database file" where the folder may not be written; the file system says why.
    closeSync(openSync(tmp, 'wx'));
    await db.backup(tmp);
    // A backup is one self-contained file: leave WAL mode so that no -wal/-shm companions are needed or left behind.
    const copy = new Database(tmp);
    try {
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
    checkIntegrity(tmp);
    renameSync(tmp, target);
  } finally {
    rmSync(tmp, { force: true });
  }
  return { file: target, bytes: statSync(target).size };
}

/** Runs `PRAGMA integrity_check` on a database file; throws unless it answers ok. */
export function checkIntegrity(file: string): void {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const result = db.pragma('integrity_check', { simple: true });
    if (result !== 'ok') throw new SproutError('library-corrupt', `The database fails its integrity check: ${String(result)}.`, { file });
  } finally {
    db.close();
  }
}
