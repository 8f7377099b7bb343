import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isDiskFull } from '../disk-full.js';
import { SproutError } from '../errors.js';
import { migrations } from './migrations.js';

export type LibraryDb = Database.Database;

export const LIBRARY_FILE = 'library.sqlite';

/** How long a write waits for another connection's write lock before SQLite gives up (SQLITE_BUSY). */
const BUSY_TIMEOUT_MS = 5000;

export function libraryPath(dataDir: string): string {
  return join(dataDir, LIBRARY_FILE);
}

/** The data folder an open library lives in (the inverse of `libraryPath`). */
export function dataDirOf(db: LibraryDb): string {
  return dirname(db.name);
}

/**
 * Opens (creating if needed) the library database and brings its schema up to date.
 * A database written by a newer Sprout is refused rather than downgraded, and a file that is not
 * a SQLite database is reported and left untouched.
 */
export function openLibrary(file: string): LibraryDb {
  mkdirSync(dirname(file), { recursive: true });
  let db: LibraryDb;
  try {
    db = new Database(file);
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    // SQLite's lower() folds ASCII only: "Ünïcode" would not find "ünïcode". Searches fold with JavaScript's rules.
    db.function('fold', { deterministic: true }, (text: unknown) => (typeof text === 'string' ? text.toLowerCase() : text));
  } catch (error) {
    if (isDiskFull(error)) throw error;
    throw new SproutError('library-corrupt', `The library database cannot be opened: ${(error as Error).message}.`, {
      file,
      hint: 'It was left as it is; restore it from a backup (sprout library backup) or move it away to start a new one.',
    });
  }
  try {
    migrate(db, file);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/**
 * `fn` in a transaction that takes the library's write lock as it begins (BEGIN IMMEDIATE), waiting busy_timeout
 * for it. better-sqlite3's plain transaction() begins deferred: it reads from a snapshot, and when another connection
 * (a second `sprout train`, the app) commits before the first write, SQLite refuses that write at once with
 * SQLITE_BUSY_SNAPSHOT ("database is locked") instead of waiting: three trainings on one library, stopped together,
 * failed so. Nested in another transaction it is a savepoint, as transaction() is.
 */
export function writeTransaction<T>(db: LibraryDb, fn: () => T): T {
  return db.transaction(fn).immediate();
}

function migrate(db: LibraryDb, file: string): void {
  let version: number;
  try {
    version = db.pragma('user_version', { simple: true }) as number;
  } catch (error) {
    // A full disk is not damage: the file is whole, and the caller says where room is needed.
    if (isDiskFull(error)) throw error;
    throw new SproutError('library-corrupt', `The library database is damaged: ${(error as Error).message}.`, {
      file,
      hint: 'It was left as it is; restore it from a backup or move it away to start a new one.',
    });
  }
  if (version > migrations.length) {
    throw new SproutError(
      'library-too-new',
      `The library database has schema version ${version}, but this Sprout knows versions up to ${migrations.length}.`,
      { file, hint: 'It was written by a newer Sprout: update Sprout, or use another data directory (SPROUT_HOME).' },
    );
  }
  for (let v = version; v < migrations.length; v++) {
    writeTransaction(db, () => {
      // Another process may have migrated since the version was read: two opening a new data folder at once.
      if ((db.pragma('user_version', { simple: true }) as number) > v) return;
      migrations[v].up(db);
      db.pragma(`user_version = ${v + 1}`);
    });
  }
}

/**
 * For a host's last line of defence (the CLI, the app's dispatch), as asDiskFullError: a write that waited
 * busy_timeout for another connection's lock and gave up says so, instead of an internal error and a stack trace.
 */
export function asLibraryBusyError(error: unknown): SproutError | undefined {
  const code = (error as { code?: unknown })?.code;
  if (error instanceof SproutError || typeof code !== 'string' || !code.startsWith('SQLITE_BUSY')) return undefined;
  return new SproutError(
    'library-busy',
    `The library is busy: another process held its write lock for over ${BUSY_TIMEOUT_MS / 1000} s (a large import or library import-all does), so this change was not saved.`,
    {
      hint: 'Run the command again once that has finished; a training stopped by it continues with `sprout train --resume RUN`.',
      uiHint: 'Try again once that has finished.',
    },
  );
}

/** A table's column names, in their order. */
export function tableColumns(db: LibraryDb, table: string): string[] {
  return (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).map((c) => c.name);
}

/**
 * Runs `fn` with a connection of its own to the library of `dataDir`, closed when `fn` settles (SQLite's WAL lets
 * other connections read meanwhile): what a command or a worker job does with the library.
 */
export async function withLibraryAt<T>(dataDir: string, fn: (db: LibraryDb) => T | Promise<T>): Promise<T> {
  const db = openLibrary(libraryPath(dataDir));
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}
