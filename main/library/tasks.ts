import { randomUUID } from 'node:crypto';
import { writeTransaction, type LibraryDb } from './db.js';

/** What a prompt was trained to do: a dataset (when imported), the input template and the label verbaliser. */
export interface TaskRecord {
  id: number;
  uid: string;
  name: string;
  datasetId: number | null;
  template: string;
  /** Label value → target text. */
  verbalizer: Record<string, string>;
  labelSet: string[] | null;
  created: string;
}

export type NewTask = Omit<TaskRecord, 'id' | 'uid' | 'created'>;

interface Row {
  id: number;
  uid: string;
  name: string;
  dataset_id: number | null;
  template: string;
  verbalizer: string;
  label_set: string | null;
  created: string;
}

function fromRow(r: Row): TaskRecord {
  return {
    id: r.id,
    uid: r.uid,
    name: r.name,
    datasetId: r.dataset_id,
    template: r.template,
    verbalizer: JSON.parse(r.verbalizer) as Record<string, string>,
    labelSet: r.label_set === null ? null : (JSON.parse(r.label_set) as string[]),
    created: r.created,
  };
}

export function insertTask(db: LibraryDb, task: NewTask): TaskRecord {
  const created = new Date().toISOString();
  const uid = randomUUID();
  const id = writeTransaction(db, () =>
    Number(
      db
        .prepare('INSERT INTO tasks (uid, name, dataset_id, template, verbalizer, label_set, created) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(
          uid,
          task.name,
          task.datasetId,
          task.template,
          JSON.stringify(task.verbalizer),
          task.labelSet && JSON.stringify(task.labelSet),
          created,
        ).lastInsertRowid,
    ),
  );
  return { ...task, id, uid, created };
}

/** The task with the same dataset, template, verbaliser and label set, created if there is none yet. */
export function findOrInsertTask(db: LibraryDb, task: NewTask): TaskRecord {
  return writeTransaction(db, () => {
    const row = db
      .prepare('SELECT * FROM tasks WHERE dataset_id IS ? AND template = ? AND verbalizer = ? AND label_set IS ? ORDER BY id LIMIT 1')
      .get(task.datasetId, task.template, JSON.stringify(task.verbalizer), task.labelSet && JSON.stringify(task.labelSet)) as
      Row | undefined;
    return row ? fromRow(row) : insertTask(db, task);
  });
}

export function getTask(db: LibraryDb, id: number): TaskRecord | undefined {
  const row = db.prepare('SELECT * FROM tasks WHERE id = ?').get(id) as Row | undefined;
  return row && fromRow(row);
}

/** The task of the latest run trained on dataset `datasetId` (its label words are what a new task on it starts from). */
export function latestTaskOfDataset(db: LibraryDb, datasetId: number): TaskRecord | undefined {
  const row = db
    .prepare('SELECT tasks.* FROM runs JOIN tasks ON runs.task_id = tasks.id WHERE tasks.dataset_id = ? ORDER BY runs.id DESC LIMIT 1')
    .get(datasetId) as Row | undefined;
  return row && fromRow(row);
}

export function listTasks(db: LibraryDb, filter: { datasetId?: number } = {}): TaskRecord[] {
  const rows =
    filter.datasetId === undefined
      ? (db.prepare('SELECT * FROM tasks ORDER BY id').all() as Row[])
      : (db.prepare('SELECT * FROM tasks WHERE dataset_id = ? ORDER BY id').all(filter.datasetId) as Row[]);
  return rows.map(fromRow);
}
