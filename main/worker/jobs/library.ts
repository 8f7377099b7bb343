import { libraryPath, openLibrary, type LibraryDb } from '../../library/db.js';

/** A job's own connection to the library of `dataDir`, closed when `fn` settles (SQLite WAL lets main read meanwhile). */
export async function withLibrary<T>(dataDir: string, fn: (db: LibraryDb) => T | Promise<T>): Promise<T> {
  const db = openLibrary(libraryPath(dataDir));
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}
