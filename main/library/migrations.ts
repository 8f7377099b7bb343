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
  {
    // Batch labelling jobs (main/label/jobs.ts): progress committed with the output's durable length, and the
    // labelled rows kept for review and corrections.
    name: 'label-jobs',
    up: (db) =>
      db.exec(`CREATE TABLE label_jobs (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL CHECK (status IN ('running', 'cancelled', 'failed', 'done')),
        spec TEXT NOT NULL,
        rows_done INTEGER NOT NULL DEFAULT 0,
        output_bytes INTEGER NOT NULL DEFAULT 0,
        stats TEXT NOT NULL,
        error TEXT,
        created TEXT NOT NULL,
        updated TEXT NOT NULL
      );
      CREATE TABLE label_rows (
        job_id TEXT NOT NULL REFERENCES label_jobs(id) ON DELETE CASCADE,
        row INTEGER NOT NULL,
        line INTEGER NOT NULL,
        fields TEXT NOT NULL,
        predicted TEXT,
        confidence REAL,
        margin REAL,
        skipped_reason TEXT,
        corrected TEXT,
        corrected_at TEXT,
        PRIMARY KEY (job_id, row)
      ) WITHOUT ROWID;
      CREATE INDEX label_rows_by_confidence ON label_rows (job_id, confidence);`),
  },
  // New migrations are appended above this line.
];
