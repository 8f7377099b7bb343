/**
 * Adds the contents of one library database to another: models, datasets with their rows, tasks, runs with their
 * metrics, prompts with their tags. Rows get new ids where needed and references follow them; what is already
 * there (same uid, same model id, same dataset source and creation time) is kept, so merging twice adds nothing.
 * Labelling jobs are not merged: they point at output files on the machine that ran them.
 */
import { tableColumns, writeTransaction, type LibraryDb } from './db.js';
import { librarySpelling } from './prompts.js';

export interface MergeCounts {
  models: number;
  datasets: number;
  tasks: number;
  runs: number;
  prompts: number;
  /** Prompts already in the library (same uid). */
  promptsPresent: number;
}

type Row = Record<string, unknown>;

function inserter(db: LibraryDb, table: string, cols: string[]): (row: Row) => number {
  const statement = db.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`);
  return (row) => Number(statement.run(Object.fromEntries(cols.map((c) => [c, row[c]]))).lastInsertRowid);
}

/** Rewrites prompt ids inside an init description (prompt:<id>, copy:<id>, mix:<id>=<w>,…) to their new ids. */
function remapInit(init: string, ids: Map<number, number>): string {
  const map = (id: string): string => String(ids.get(Number(id)) ?? id);
  if (/^(prompt|copy):\d+$/.test(init)) return init.replace(/\d+$/, map);
  if (init.startsWith('mix:')) return `mix:${init.slice(4).replace(/(^|,)(\d+)=/g, (_m, sep: string, id: string) => `${sep}${map(id)}=`)}`;
  return init;
}

type IdMap = Map<number, number>;

function byUid(db: LibraryDb, table: string) {
  return db.prepare(`SELECT id FROM ${table} WHERE uid = ?`);
}

/** The target's id for a source row's reference (null stays null; a reference to nothing merged becomes null). */
function mapped(ids: IdMap, id: unknown): number | null {
  return id === null ? null : (ids.get(id as number) ?? null);
}

/** Merges `source` into `target` in one transaction on `target`; both must be at the same schema version. */
export function mergeLibrary(target: LibraryDb, source: LibraryDb): MergeCounts {
  const counts: MergeCounts = { models: 0, datasets: 0, tasks: 0, runs: 0, prompts: 0, promptsPresent: 0 };
  // Each table after those it references, so every id map is complete before a row needs it.
  writeTransaction(target, () => {
    mergeModels(target, source, counts);
    const datasetIds = mergeDatasets(target, source, counts);
    const taskIds = mergeTasks(target, source, counts, datasetIds);
    const runIds = mergeRuns(target, source, counts, taskIds);
    mergePrompts(target, source, counts, taskIds, runIds);
  });
  return counts;
}

function mergeModels(target: LibraryDb, source: LibraryDb, counts: MergeCounts): void {
  const models = tableColumns(target, 'models');
  const addModel = target.prepare(`INSERT OR IGNORE INTO models (${models.join(', ')}) VALUES (${models.map((c) => `@${c}`).join(', ')})`);
  for (const m of source.prepare('SELECT * FROM models').iterate() as Iterable<Row>) counts.models += addModel.run(m).changes;
}

/** Datasets with their rows; returns each source dataset's id in the target. */
function mergeDatasets(target: LibraryDb, source: LibraryDb, counts: MergeCounts): IdMap {
  const datasetIds: IdMap = new Map();
  const addDataset = inserter(
    target,
    'datasets',
    tableColumns(target, 'datasets').filter((c) => c !== 'id'),
  );
  const rowCols = tableColumns(target, 'dataset_rows');
  const addRow = inserter(target, 'dataset_rows', rowCols);
  const findDataset = target.prepare('SELECT id FROM datasets WHERE source_sha256 = ? AND created = ? AND name = ?');
  for (const d of source.prepare('SELECT * FROM datasets ORDER BY id').all() as Row[]) {
    const existing = findDataset.get(d.source_sha256, d.created, d.name) as { id: number } | undefined;
    if (existing) {
      datasetIds.set(d.id as number, existing.id);
      continue;
    }
    const id = addDataset(d);
    datasetIds.set(d.id as number, id);
    counts.datasets++;
    for (const r of source.prepare('SELECT * FROM dataset_rows WHERE dataset_id = ?').iterate(d.id) as Iterable<Row>)
      addRow({ ...r, dataset_id: id });
  }
  return datasetIds;
}

function mergeTasks(target: LibraryDb, source: LibraryDb, counts: MergeCounts, datasetIds: IdMap): IdMap {
  const taskIds: IdMap = new Map();
  const addTask = inserter(
    target,
    'tasks',
    tableColumns(target, 'tasks').filter((c) => c !== 'id'),
  );
  const findTask = byUid(target, 'tasks');
  for (const t of source.prepare('SELECT * FROM tasks ORDER BY id').all() as Row[]) {
    const existing = findTask.get(t.uid) as { id: number } | undefined;
    if (!existing) counts.tasks++;
    taskIds.set(t.id as number, existing?.id ?? addTask({ ...t, dataset_id: mapped(datasetIds, t.dataset_id) }));
  }
  return taskIds;
}

/** Runs with their metrics. */
function mergeRuns(target: LibraryDb, source: LibraryDb, counts: MergeCounts, taskIds: IdMap): IdMap {
  const runIds: IdMap = new Map();
  const addRun = inserter(
    target,
    'runs',
    tableColumns(target, 'runs').filter((c) => c !== 'id'),
  );
  const addMetric = inserter(target, 'run_metrics', tableColumns(target, 'run_metrics'));
  const findRun = byUid(target, 'runs');
  for (const r of source.prepare('SELECT * FROM runs ORDER BY id').all() as Row[]) {
    const existing = findRun.get(r.uid) as { id: number } | undefined;
    if (existing) {
      runIds.set(r.id as number, existing.id);
      continue;
    }
    const id = addRun({ ...r, task_id: mapped(taskIds, r.task_id) });
    runIds.set(r.id as number, id);
    counts.runs++;
    for (const m of source.prepare('SELECT * FROM run_metrics WHERE run_id = ?').iterate(r.id) as Iterable<Row>)
      addMetric({ ...m, run_id: id });
  }
  return runIds;
}

/** Prompts with their tags. */
function mergePrompts(target: LibraryDb, source: LibraryDb, counts: MergeCounts, taskIds: IdMap, runIds: IdMap): void {
  // A prompt's parent always has a smaller id (it existed first), so id order inserts parents before children.
  const promptIds: IdMap = new Map();
  const addPrompt = inserter(
    target,
    'prompts',
    tableColumns(target, 'prompts').filter((c) => c !== 'id'),
  );
  const addTag = target.prepare('INSERT OR IGNORE INTO prompt_tags (prompt_id, tag) VALUES (?, ?)');
  const findPrompt = byUid(target, 'prompts');
  const readPrompt = source.prepare('SELECT * FROM prompts WHERE id = ?');
  // One prompt at a time (ids first): embeddings of a large library need not all sit in memory.
  for (const { id: sourceId } of source.prepare('SELECT id FROM prompts ORDER BY id').all() as { id: number }[]) {
    const p = readPrompt.get(sourceId) as Row;
    const existing = findPrompt.get(p.uid) as { id: number } | undefined;
    if (existing) {
      promptIds.set(p.id as number, existing.id);
      counts.promptsPresent++;
      continue;
    }
    const id = addPrompt({
      ...p,
      parent_id: mapped(promptIds, p.parent_id),
      task_id: mapped(taskIds, p.task_id),
      run_id: mapped(runIds, p.run_id),
      init: remapInit(p.init as string, promptIds),
    });
    promptIds.set(p.id as number, id);
    counts.prompts++;
    const tags = source.prepare('SELECT tag FROM prompt_tags WHERE prompt_id = ?').pluck().all(p.id) as string[];
    for (const tag of librarySpelling(target, tags)) addTag.run(id, tag);
  }
}
