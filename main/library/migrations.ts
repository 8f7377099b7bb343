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
  {
    // Imported datasets (main/library/import-dataset.ts, main/library/datasets.ts): where each came from (name, size, sha256),
    // how it was read and mapped, its report, and its rows with the mapped text fields exactly as in the file.
    name: 'datasets',
    up: (db) =>
      db.exec(`CREATE TABLE datasets (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        source_name TEXT NOT NULL,
        source_size INTEGER NOT NULL,
        source_sha256 TEXT NOT NULL,
        validation_name TEXT,
        validation_size INTEGER,
        validation_sha256 TEXT,
        format TEXT NOT NULL,
        options TEXT NOT NULL,
        column_mapping TEXT NOT NULL,
        label_column TEXT,
        text_columns TEXT NOT NULL,
        template TEXT NOT NULL,
        label_set TEXT,
        report TEXT NOT NULL,
        created TEXT NOT NULL
      );
      CREATE TABLE dataset_rows (
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        split TEXT NOT NULL CHECK (split IN ('train', 'validation', 'test')),
        row_index INTEGER NOT NULL,
        line INTEGER NOT NULL,
        texts TEXT NOT NULL,
        label TEXT
      );
      CREATE INDEX dataset_rows_by_split ON dataset_rows (dataset_id, split, row_index);`),
  },
  {
    // The prompt library (main/library/tasks.ts, runs.ts, prompts.ts). Embeddings are float32 little-endian, row-major
    // [length, d_model]. uid values survive archive export/import, so importing an archive twice adds nothing twice.
    // Model references are plain columns (models.id, path, summary JSON): forgetting a model keeps its prompts.
    name: 'prompts',
    up: (db) =>
      db.exec(`CREATE TABLE tasks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        uid TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        dataset_id INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
        template TEXT NOT NULL,
        verbalizer TEXT NOT NULL,
        label_set TEXT,
        created TEXT NOT NULL
      );
      CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        uid TEXT NOT NULL UNIQUE,
        task_id INTEGER REFERENCES tasks(id) ON DELETE SET NULL,
        model_id TEXT,
        model_path TEXT,
        config TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'paused', 'cancelled', 'failed', 'done')),
        step INTEGER NOT NULL DEFAULT 0,
        planned_steps INTEGER,
        checkpoint_path TEXT,
        provider TEXT,
        timings TEXT NOT NULL,
        error TEXT,
        created TEXT NOT NULL,
        updated TEXT NOT NULL
      );
      CREATE TABLE run_metrics (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        step INTEGER NOT NULL,
        loss REAL,
        eval TEXT,
        recorded TEXT NOT NULL,
        PRIMARY KEY (run_id, step)
      ) WITHOUT ROWID;
      CREATE TABLE prompts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        uid TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        model_id TEXT,
        model_path TEXT,
        model_summary TEXT,
        length INTEGER NOT NULL CHECK (length > 0),
        d_model INTEGER NOT NULL CHECK (d_model > 0),
        embedding BLOB NOT NULL CHECK (length(embedding) = length * d_model * 4),
        init TEXT NOT NULL,
        parent_id INTEGER REFERENCES prompts(id),
        task_id INTEGER REFERENCES tasks(id) ON DELETE SET NULL,
        run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
        labels TEXT,
        metrics TEXT NOT NULL,
        notes TEXT NOT NULL DEFAULT '',
        task_embedding BLOB CHECK (task_embedding IS NULL OR length(task_embedding) = length * d_model * 4),
        task_embedding_step INTEGER,
        created TEXT NOT NULL
      );
      CREATE INDEX prompts_by_model ON prompts (model_id, d_model);
      CREATE INDEX prompts_by_parent ON prompts (parent_id);
      CREATE INDEX prompts_by_task ON prompts (task_id);
      CREATE TABLE prompt_tags (
        prompt_id INTEGER NOT NULL REFERENCES prompts(id) ON DELETE CASCADE,
        tag TEXT NOT NULL,
        PRIMARY KEY (prompt_id, tag)
      ) WITHOUT ROWID;
      CREATE INDEX prompt_tags_by_tag ON prompt_tags (tag);`),
  },
  {
    // Width of the frozen weights (main/weights/width.ts) a run trained with and a prompt was trained on. Runs and
    // prompts from before this migration trained on float32 weights; imported prompts (PEFT, no run) stay unknown.
    name: 'weight-width',
    up: (db) =>
      db.exec(`ALTER TABLE runs ADD COLUMN weights TEXT CHECK (weights IS NULL OR weights IN ('fp32', 'bf16', 'fp16', 'int8'));
      ALTER TABLE prompts ADD COLUMN weight_width TEXT CHECK (weight_width IS NULL OR weight_width IN ('fp32', 'bf16', 'fp16', 'int8'));
      UPDATE runs SET weights = 'fp32';
      UPDATE prompts SET weight_width = 'fp32' WHERE run_id IS NOT NULL;`),
  },
  {
    // A labelling job owns its output (main/label/ownership.ts): each row keeps every value the job wrote for it
    // (`added`, and the input's typed values for JSON inputs), so an export never depends on the output file; the
    // finished file's length, mtime and sha256 (`output_seal`) tell whether it still holds what the job wrote; and
    // `output_replaced` records the job or export that replaced it with the person's consent.
    name: 'label-output',
    up: (db) =>
      db.exec(`ALTER TABLE label_rows ADD COLUMN added TEXT;
      ALTER TABLE label_rows ADD COLUMN input_values TEXT;
      ALTER TABLE label_jobs ADD COLUMN output_seal TEXT;
      ALTER TABLE label_jobs ADD COLUMN output_replaced TEXT;`),
  },
  {
    // Where a trained prompt started (main/train/init.ts): transfer ranking compares what each prompt learned, its
    // task embedding minus this, since prompts initialised alike share most of their values early on (#22).
    // Prompts from before this migration, imports and mixes have none.
    name: 'init-embedding',
    up: (db) =>
      db.exec(
        'ALTER TABLE prompts ADD COLUMN init_embedding BLOB CHECK (init_embedding IS NULL OR length(init_embedding) = length * d_model * 4)',
      ),
  },
  {
    // A two-label prompt's decision threshold (main/train/threshold.ts StoredDecision as JSON), chosen by a person on
    // its validation rows and applied wherever the prompt labels or is evaluated; null: the more probable label.
    name: 'prompt-decision',
    up: (db) => db.exec('ALTER TABLE prompts ADD COLUMN decision TEXT'),
  },
  // New migrations are appended above this line.
];
