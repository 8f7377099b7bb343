import type Database from 'better-sqlite3';

/**
 * The library schema as an append-only list: migration i (0-based) brings a database from
 * PRAGMA user_version i to i + 1. Never edit or reorder an entry that has shipped; append a new one.
 */
export interface Migration {
  name: string;
  up(db: Database.Database): void;
}

export const migrations: Migration[] = [
  {
    name: 'models',
    up: (db) =>
      db.exec(`CREATE TABLE models (
        id TEXT PRIMARY KEY,
        repo TEXT,
        revision TEXT,
        sha TEXT,
        path TEXT NOT NULL,
        summary TEXT NOT NULL,
        added TEXT NOT NULL
      )`),
  },
  // New migrations are appended above this line.
];
