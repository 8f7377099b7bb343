import { randomUUID } from 'node:crypto';
import type { ArchitectureSummary } from '../checkpoint/summary.js';
import { SproutError } from '../errors.js';
import { isProbeRunSql } from '../train/config.js';
import type { SoftPrompt } from '../runtime/types.js';
import type { StoredDecision } from '../train/threshold.js';
import type { WeightWidth } from '../weights/width.js';
import { agreeing, clipped, oneLine } from '../wording.js';
import { writeTransaction, type LibraryDb } from './db.js';
import { fromBlob, toBlob } from './embedding.js';

/**
 * The base model a prompt belongs to. `id` is the models table's id (a Hub repo, repo@revision or local/<name>)
 * and `path` its folder; either may be missing (a PEFT import names only a repo). The summary is what the
 * library shows without opening the model; a PEFT import knows only part of it.
 */
export interface ModelRef {
  id: string | null;
  path: string | null;
  summary: Partial<ArchitectureSummary> | null;
}

/** A prompt without its embeddings: what lists and lineage show. */
export interface PromptSummary {
  id: number;
  uid: string;
  name: string;
  model: ModelRef;
  length: number;
  dModel: number;
  /** How it was initialised: random, vocab, labels, text:…, prompt:<id>, mix:<id>=<weight>,…, peft, copy:<id>. */
  init: string;
  /** The prompt it was transferred or copied from. */
  parentId: number | null;
  taskId: number | null;
  runId: number | null;
  labels: string[] | null;
  metrics: Record<string, unknown>;
  tags: string[];
  notes: string;
  /** Training step of the task embedding (SPoT), when there is one. */
  taskEmbeddingStep: number | null;
  /** Width of the frozen weights it was trained on; null when unknown (imported). */
  weightWidth: WeightWidth | null;
  /** Two-label prompts: the decision threshold a person chose; null answers the more probable label. */
  decision: StoredDecision | null;
  created: string;
}

export interface PromptRecord extends PromptSummary {
  /** [length × dModel] float32. */
  embedding: Float32Array;
  /** The prompt at an early step of its training (SPoT's task embedding): [length × dModel], or null. */
  taskEmbedding: Float32Array | null;
  /** The prompt its training started from: [length × dModel], or null (imported, mixed, or stored before Sprout kept it). */
  initEmbedding: Float32Array | null;
}

export interface NewPrompt {
  name: string;
  model: ModelRef;
  length: number;
  dModel: number;
  embedding: Float32Array;
  init: string;
  parentId?: number | null;
  taskId?: number | null;
  runId?: number | null;
  labels?: string[] | null;
  metrics?: Record<string, unknown>;
  tags?: string[];
  notes?: string;
  taskEmbedding?: Float32Array | null;
  taskEmbeddingStep?: number | null;
  initEmbedding?: Float32Array | null;
  weightWidth?: WeightWidth | null;
  decision?: StoredDecision | null;
}

export interface PromptFilter {
  /** Matches the model's id or path. */
  model?: string;
  /** A task id, or a task name. */
  task?: string;
  tag?: string;
  /** Substring of the name or notes (case-insensitive). */
  search?: string;
  /** Only prompts with this embedding width. */
  dModel?: number;
}

interface Row {
  id: number;
  uid: string;
  name: string;
  model_id: string | null;
  model_path: string | null;
  model_summary: string | null;
  length: number;
  d_model: number;
  init: string;
  parent_id: number | null;
  task_id: number | null;
  run_id: number | null;
  labels: string | null;
  metrics: string;
  notes: string;
  task_embedding_step: number | null;
  weight_width: WeightWidth | null;
  decision: string | null;
  created: string;
  tags: string | null;
  embedding?: Buffer;
  task_embedding?: Buffer | null;
  init_embedding?: Buffer | null;
}

const SUMMARY_COLUMNS = `p.id, p.uid, p.name, p.model_id, p.model_path, p.model_summary, p.length, p.d_model, p.init, p.parent_id, p.task_id,
  p.run_id, p.labels, p.metrics, p.notes, p.task_embedding_step, p.weight_width, p.decision, p.created,
  (SELECT json_group_array(tag) FROM (SELECT tag FROM prompt_tags WHERE prompt_id = p.id ORDER BY tag)) AS tags`;

function summaryFromRow(r: Row): PromptSummary {
  return {
    id: r.id,
    uid: r.uid,
    name: r.name,
    model: {
      id: r.model_id,
      path: r.model_path,
      summary: r.model_summary === null ? null : (JSON.parse(r.model_summary) as Partial<ArchitectureSummary>),
    },
    length: r.length,
    dModel: r.d_model,
    init: r.init,
    parentId: r.parent_id,
    taskId: r.task_id,
    runId: r.run_id,
    labels: r.labels === null ? null : (JSON.parse(r.labels) as string[]),
    metrics: JSON.parse(r.metrics) as Record<string, unknown>,
    tags: r.tags === null ? [] : (JSON.parse(r.tags) as string[]),
    notes: r.notes,
    taskEmbeddingStep: r.task_embedding_step,
    weightWidth: r.weight_width,
    decision: r.decision === null ? null : (JSON.parse(r.decision) as StoredDecision),
    created: r.created,
  };
}

function notFound(id: number): SproutError {
  return new SproutError('prompt-not-found', `There is no prompt ${id} in the library.`, {
    hint: 'See the ids with `sprout library list`.',
    uiHint: 'The Library screen lists the prompts there are; it may have been deleted.',
  });
}

function checkShape(name: string, data: Float32Array, length: number, dModel: number): void {
  if (!Number.isSafeInteger(length) || length < 1 || !Number.isSafeInteger(dModel) || dModel < 1) {
    throw new SproutError('bad-prompt', `A prompt needs a positive length and width, got ${length} × ${dModel}.`);
  }
  if (data.length !== length * dModel) {
    throw new SproutError(
      'bad-prompt',
      `The ${name} has ${data.length} values, but ${length} × ${dModel} = ${length * dModel} are needed.`,
    );
  }
}

/** A tag is a word or a few, shown as a badge and offered in the Library's filter: longer text belongs in the notes. */
export const MAX_TAG_LENGTH = 64;

/**
 * Tags trimmed, checked and without repeats, where "News" repeats "news": a tag is a filter, and two spellings of one
 * word would split the prompts it should gather.
 */
function cleanTags(tags: string[]): string[] {
  const out = new Map<string, string>();
  for (const t of tags) {
    const tag = oneLine(t).trim();
    if (tag === '') throw new SproutError('bad-tag', 'A tag cannot be empty.');
    const length = Array.from(tag).length;
    if (length > MAX_TAG_LENGTH)
      throw new SproutError('bad-tag', `A tag is at most ${MAX_TAG_LENGTH} characters; “${clipped(tag, 24)}” has ${length}.`, {
        hint: 'Use a shorter tag, and put longer text in the notes.',
      });
    if (!out.has(tag.toLowerCase())) out.set(tag.toLowerCase(), tag);
  }
  return [...out.values()];
}

/** Each tag as the library already spells it, in its oldest prompt that has it, else as given. */
export function librarySpelling(db: LibraryDb, tags: string[]): string[] {
  const known = db.prepare('SELECT tag FROM prompt_tags WHERE fold(tag) = fold(?) ORDER BY prompt_id LIMIT 1').pluck();
  return tags.map((t) => (known.get(t) as string | undefined) ?? t);
}

/** Stores a new prompt and its tags in one transaction; returns its id. */
export function insertPrompt(
  db: LibraryDb,
  prompt: NewPrompt,
  uid: string = randomUUID(),
  created: string = new Date().toISOString(),
): number {
  checkShape('embedding', prompt.embedding, prompt.length, prompt.dModel);
  if (prompt.taskEmbedding) checkShape('task embedding', prompt.taskEmbedding, prompt.length, prompt.dModel);
  if (prompt.initEmbedding) checkShape('initial prompt', prompt.initEmbedding, prompt.length, prompt.dModel);
  const tags = cleanTags(prompt.tags ?? []);
  return writeTransaction(db, () => {
    if (prompt.parentId != null && !db.prepare('SELECT 1 FROM prompts WHERE id = ?').get(prompt.parentId)) throw notFound(prompt.parentId);
    const id = Number(
      db
        .prepare(
          `INSERT INTO prompts (uid, name, model_id, model_path, model_summary, length, d_model, embedding, init, parent_id, task_id, run_id,
             labels, metrics, notes, task_embedding, task_embedding_step, init_embedding, weight_width, decision, created)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          uid,
          oneLine(prompt.name),
          prompt.model.id,
          prompt.model.path,
          prompt.model.summary && JSON.stringify(prompt.model.summary),
          prompt.length,
          prompt.dModel,
          toBlob(prompt.embedding),
          prompt.init,
          prompt.parentId ?? null,
          prompt.taskId ?? null,
          prompt.runId ?? null,
          prompt.labels ? JSON.stringify(prompt.labels) : null,
          JSON.stringify(prompt.metrics ?? {}),
          prompt.notes ?? '',
          prompt.taskEmbedding ? toBlob(prompt.taskEmbedding) : null,
          prompt.taskEmbedding ? (prompt.taskEmbeddingStep ?? null) : null,
          prompt.initEmbedding ? toBlob(prompt.initEmbedding) : null,
          prompt.weightWidth ?? null,
          prompt.decision ? JSON.stringify(prompt.decision) : null,
          created,
        ).lastInsertRowid,
    );
    const tag = db.prepare('INSERT INTO prompt_tags (prompt_id, tag) VALUES (?, ?)');
    for (const t of librarySpelling(db, tags)) tag.run(id, t);
    return id;
  });
}

export function getPrompt(db: LibraryDb, id: number): PromptRecord | undefined {
  const row = db
    .prepare(`SELECT ${SUMMARY_COLUMNS}, p.embedding, p.task_embedding, p.init_embedding FROM prompts p WHERE p.id = ?`)
    .get(id) as Row | undefined;
  if (!row) return undefined;
  const blob = (b: Buffer | null | undefined) => (b ? fromBlob(b) : null);
  return {
    ...summaryFromRow(row),
    embedding: fromBlob(row.embedding!),
    taskEmbedding: blob(row.task_embedding),
    initEmbedding: blob(row.init_embedding),
  };
}

export function requirePrompt(db: LibraryDb, id: number): PromptRecord {
  const prompt = getPrompt(db, id);
  if (!prompt) throw notFound(id);
  return prompt;
}

/** Parses a prompt id as typed by a user (`12`, or `prompt:12` as in --init). */
export function parsePromptId(text: string): number {
  const digits = text.startsWith('prompt:') ? text.slice(7) : text;
  if (!/^[1-9]\d{0,15}$/.test(digits)) {
    throw new SproutError('bad-prompt-id', `"${text}" is not a prompt id; ids are whole numbers such as 12.`, {
      hint: 'See the ids with `sprout library list`.',
    });
  }
  return Number(digits);
}

/**
 * A prompt named on the command line by id (12, or prompt:12) or by its name, which must be unique; the id is
 * checked to exist by whoever reads the prompt.
 */
export function findPromptId(db: LibraryDb, idOrName: string): number {
  if (/^(prompt:)?\d+$/.test(idOrName)) return parsePromptId(idOrName);
  const named = listPrompts(db, { search: idOrName }).filter((p) => p.name === idOrName);
  if (named.length === 1) return named[0].id;
  throw new SproutError(
    'unknown-prompt',
    named.length
      ? `${named.length} prompts are named "${idOrName}" (ids ${named.map((p) => p.id).join(', ')}).`
      : `The library has no prompt named "${idOrName}".`,
    { hint: 'Give the prompt id instead; `sprout library list` shows ids and names.' },
  );
}

/** The latest prompt a run stored (a mixture stores one per task); undefined before it finished. */
export function latestPromptOfRun(db: LibraryDb, runId: number): number | undefined {
  return (db.prepare('SELECT id FROM prompts WHERE run_id = ? ORDER BY id DESC LIMIT 1').get(runId) as { id: number } | undefined)?.id;
}

/** A stored prompt in the form the trainer initialises from (`--init prompt:<id>`). */
export function loadSoftPrompt(db: LibraryDb, id: string | number): SoftPrompt {
  const prompt = requirePrompt(db, typeof id === 'number' ? id : parsePromptId(id));
  return { length: prompt.length, data: prompt.embedding };
}

/**
 * SQL condition on prompts `p`: not the prompt of a transfer-probe run (isProbeRun of its run's config). A probe's
 * prompt is the target task's own task embedding, kept so the next ranking need not probe again; it is neither a
 * library prompt nor a transfer source.
 */
export const NOT_A_PROBE = `NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = p.run_id AND ${isProbeRunSql('r.config')})`;

export function listPrompts(db: LibraryDb, filter: PromptFilter = {}): PromptSummary[] {
  const where: string[] = [NOT_A_PROBE];
  const params: Record<string, unknown> = {};
  if (filter.model !== undefined) {
    where.push('(p.model_id = @model OR p.model_path = @model)');
    params.model = filter.model;
  }
  if (filter.task !== undefined) {
    where.push(/^\d+$/.test(filter.task) ? 'p.task_id = @task' : 'p.task_id IN (SELECT id FROM tasks WHERE name = @task)');
    params.task = /^\d+$/.test(filter.task) ? Number(filter.task) : filter.task;
  }
  if (filter.tag !== undefined) {
    where.push('EXISTS (SELECT 1 FROM prompt_tags t WHERE t.prompt_id = p.id AND fold(t.tag) = fold(@tag))');
    params.tag = filter.tag;
  }
  if (filter.search !== undefined) {
    where.push('(instr(fold(p.name), fold(@search)) > 0 OR instr(fold(p.notes), fold(@search)) > 0)');
    params.search = filter.search;
  }
  if (filter.dModel !== undefined) {
    where.push('p.d_model = @dModel');
    params.dModel = filter.dModel;
  }
  const sql = `SELECT ${SUMMARY_COLUMNS} FROM prompts p WHERE ${where.join(' AND ')} ORDER BY p.id`;
  return (db.prepare(sql).all(params) as Row[]).map(summaryFromRow);
}

/** The prompt followed by its transfer sources, nearest first (parent, grandparent, …). */
export function promptLineage(db: LibraryDb, id: number): PromptSummary[] {
  // The depth cap ends the walk even in a damaged database whose parents form a cycle.
  const rows = db
    .prepare(
      `WITH RECURSIVE chain(id, depth) AS (
         SELECT id, 0 FROM prompts WHERE id = ?
         UNION SELECT p.parent_id, chain.depth + 1 FROM prompts p JOIN chain ON p.id = chain.id WHERE p.parent_id IS NOT NULL AND chain.depth < 10000
       )
       SELECT ${SUMMARY_COLUMNS}, min(chain.depth) AS depth FROM chain JOIN prompts p ON p.id = chain.id GROUP BY p.id ORDER BY depth`,
    )
    .all(id) as Row[];
  if (rows.length === 0) throw notFound(id);
  return rows.map(summaryFromRow);
}

/** Prompts whose parent is this one. */
export function promptChildren(db: LibraryDb, id: number): PromptSummary[] {
  return (db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM prompts p WHERE p.parent_id = ? ORDER BY p.id`).all(id) as Row[]).map(summaryFromRow);
}

function change(db: LibraryDb, id: number, sql: string, ...params: unknown[]): void {
  writeTransaction(db, () => {
    if (db.prepare(sql).run(...params, id).changes === 0) throw notFound(id);
  });
}

export function renamePrompt(db: LibraryDb, id: number, given: string): void {
  const name = oneLine(given);
  if (name.trim() === '') throw new SproutError('bad-name', 'A prompt name cannot be empty.');
  // findPromptId reads such a name as an id: the prompt could never be found by it, and another would be found instead.
  if (/^(prompt:)?\d+$/.test(name.trim()))
    throw new SproutError('bad-name', `A prompt name cannot be a number alone ("${name.trim()}"): it would be read as a prompt id.`, {
      hint: 'Add a word to it, e.g. "run 12".',
    });
  change(db, id, 'UPDATE prompts SET name = ? WHERE id = ?', name);
}

/** Stores a two-label prompt's decision threshold (null: back to the more probable label). */
export function setPromptDecision(db: LibraryDb, id: number, decision: StoredDecision | null): void {
  change(db, id, 'UPDATE prompts SET decision = ? WHERE id = ?', decision && JSON.stringify(decision));
}

export function setPromptNotes(db: LibraryDb, id: number, notes: string): void {
  change(db, id, 'UPDATE prompts SET notes = ? WHERE id = ?', notes);
}

/** Adds and removes tags in one transaction; returns the prompt's tags afterwards. */
export function tagPrompt(db: LibraryDb, id: number, add: string[], remove: string[] = []): string[] {
  const toAdd = cleanTags(add);
  return writeTransaction(db, () => {
    if (!db.prepare('SELECT 1 FROM prompts WHERE id = ?').get(id)) throw notFound(id);
    const insert = db.prepare('INSERT OR IGNORE INTO prompt_tags (prompt_id, tag) VALUES (?, ?)');
    for (const t of librarySpelling(db, toAdd)) insert.run(id, t);
    const drop = db.prepare('DELETE FROM prompt_tags WHERE prompt_id = ? AND fold(tag) = fold(?)');
    for (const t of remove) drop.run(id, t.trim());
    return (db.prepare('SELECT tag FROM prompt_tags WHERE prompt_id = ? ORDER BY tag').all(id) as { tag: string }[]).map((r) => r.tag);
  });
}

export interface DeleteResult {
  deleted: number;
  /** Prompts that derived from the deleted one and now derive from its parent (or from none). */
  reparented: number[];
}

/**
 * Deletes a prompt. When other prompts were transferred or copied from it, it refuses unless `force`, which makes
 * them derive from the deleted prompt's own parent so that their lineage skips it rather than breaking.
 */
export function deletePrompt(db: LibraryDb, id: number, options: { force?: boolean } = {}): DeleteResult {
  return writeTransaction(db, () => {
    const row = db.prepare('SELECT name, parent_id FROM prompts WHERE id = ?').get(id) as
      { name: string; parent_id: number | null } | undefined;
    if (!row) throw notFound(id);
    const children = (db.prepare('SELECT id FROM prompts WHERE parent_id = ? ORDER BY id').all(id) as { id: number }[]).map((r) => r.id);
    if (children.length > 0 && !options.force) {
      throw new SproutError(
        'prompt-has-derived',
        `Prompt ${id} ("${row.name}") is the source of ${agreeing(children.length, 'prompt', 'prompts')} ${children.join(', ')}, so it was not deleted.`,
        {
          hint: `Delete those first, or use --force: they will then derive from ${row.parent_id === null ? 'no prompt' : `prompt ${row.parent_id}`}.`,
        },
      );
    }
    db.prepare('UPDATE prompts SET parent_id = ? WHERE parent_id = ?').run(row.parent_id, id);
    db.prepare('DELETE FROM prompts WHERE id = ?').run(id);
    return { deleted: id, reparented: children };
  });
}

/** Copies a prompt (embeddings, task, metrics, tags, notes) under a new id; the copy derives from the original. */
export function duplicatePrompt(db: LibraryDb, id: number, name?: string): number {
  return writeTransaction(db, () => {
    const p = requirePrompt(db, id);
    return insertPrompt(db, { ...p, name: name ?? `${p.name} (copy)`, init: `copy:${id}`, parentId: id });
  });
}
