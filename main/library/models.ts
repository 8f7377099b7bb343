import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { ArchitectureSummary } from '../checkpoint/summary.js';
import { cachedModelName } from '../hub/cached-folder.js';
import { SproutError } from '../errors.js';
import type { LibraryDb } from './db.js';

/** A model Sprout knows about: downloaded from the Hub (repo, revision, sha set) or imported from disk. */
export interface ModelRecord {
  id: string;
  repo: string | null;
  revision: string | null;
  sha: string | null;
  /** A model folder, or a single .safetensors file with config.json and the tokenizer beside it. */
  path: string;
  summary: ArchitectureSummary;
  /** ISO 8601 time of registration. */
  added: string;
}

interface Row {
  id: string;
  repo: string | null;
  revision: string | null;
  sha: string | null;
  path: string;
  summary: string;
  added: string;
}

function fromRow(row: Row): ModelRecord {
  return { ...row, summary: JSON.parse(row.summary) as ArchitectureSummary };
}

/** The id a Hub download is registered under: the repo id, with @revision unless it is main. */
export function hubModelId(repo: string, revision: string): string {
  return revision === 'main' ? repo : `${repo}@${revision}`;
}

/** A free id for a local import: local/<name>, then local/<name>-2, ... */
export function localModelId(db: LibraryDb, name: string, path: string): string {
  const base = `local/${name.replace(/[^\w.-]+/g, '-') || 'model'}`;
  for (let n = 1; ; n++) {
    const id = n === 1 ? base : `${base}-${n}`;
    const row = db.prepare('SELECT path FROM models WHERE id = ?').get(id) as { path: string } | undefined;
    if (!row || row.path === path) return id;
  }
}

/**
 * Registers a model folder or single .safetensors file found on disk: under the id it already has, else under a
 * free local/<name>, the name being the folder's (or, for a lone file, the file's without .safetensors; for a
 * snapshot of the Hugging Face cache, the model's, not the commit's).
 */
export function registerLocalModel(db: LibraryDb, model: { path: string; summary: ArchitectureSummary }): ModelRecord {
  const file = basename(model.path);
  const name =
    cachedModelName(model.path) ?? (file === 'model.safetensors' ? basename(dirname(model.path)) : file.replace(/\.safetensors$/, ''));
  const id = findModelByPath(db, model.path)?.id ?? localModelId(db, name, model.path);
  return saveModel(db, { id, repo: null, revision: null, sha: null, path: model.path, summary: model.summary });
}

/** Inserts or replaces the model with this id; `added` is kept from the first registration. */
export function saveModel(db: LibraryDb, model: Omit<ModelRecord, 'added'>): ModelRecord {
  const existing = getModel(db, model.id);
  const added = existing?.added ?? new Date().toISOString();
  db.prepare(
    `INSERT INTO models (id, repo, revision, sha, path, summary, added) VALUES (@id, @repo, @revision, @sha, @path, @summary, @added)
     ON CONFLICT(id) DO UPDATE SET repo = @repo, revision = @revision, sha = @sha, path = @path, summary = @summary`,
  ).run({ ...model, summary: JSON.stringify(model.summary), added });
  return { ...model, added };
}

export function getModel(db: LibraryDb, id: string): ModelRecord | undefined {
  const row = db.prepare('SELECT * FROM models WHERE id = ?').get(id) as Row | undefined;
  return row && fromRow(row);
}

export function findModelByPath(db: LibraryDb, path: string): ModelRecord | undefined {
  const row = db.prepare('SELECT * FROM models WHERE path = ? ORDER BY added LIMIT 1').get(path) as Row | undefined;
  return row && fromRow(row);
}

/** A download of `repo` at `revision`, a branch or tag it was downloaded at or the commit it resolved to. */
export function findHubModel(db: LibraryDb, repo: string, revision: string): ModelRecord | undefined {
  const row = db
    .prepare('SELECT * FROM models WHERE repo = ? AND (revision = ? OR sha = ?) ORDER BY added LIMIT 1')
    .get(repo, revision, revision) as Row | undefined;
  return row && fromRow(row);
}

/** Whether a registered model's files are where it was registered (not moved, deleted, or on a drive not mounted). */
export function modelFilesPresent(record: ModelRecord): boolean {
  return existsSync(record.path);
}

/** A registered model, or an error saying where its files were when they are gone. */
export function presentModel(record: ModelRecord): ModelRecord {
  if (modelFilesPresent(record)) return record;
  throw new SproutError('model-missing', `The files of model "${record.id}" are gone from ${record.path}.`, {
    hint: `Put them back, import the model from where it is now (\`sprout model import DIR\`), or forget it (\`sprout model remove ${record.id}\`).`,
    uiHint: 'Download or import it again, or remove it from the list.',
  });
}

/**
 * What a command's --model names: a registered model's id (as `sprout model list` prints it: `local/...` after an
 * import, the repo id after a download), else a model folder or .safetensors file on disk, with its registration if
 * it has one. The id is tried first: a Hub id has a slash, as a relative folder does.
 */
export function resolveModel(db: LibraryDb, value: string): { path: string; record: ModelRecord | undefined } {
  const byId = getModel(db, value);
  if (byId) return { path: presentModel(byId).path, record: byId };
  if (!existsSync(value)) {
    // A registered folder since moved or deleted, given by its path: say whose files are gone, as for its id.
    const registered = findModelByPath(db, resolve(value));
    if (registered) return { path: presentModel(registered).path, record: registered };
    throw new SproutError('unknown-model', `"${value}" is neither a model in the library nor a folder.`, {
      hint: 'See `sprout model list` for the ids, or give the model folder.',
    });
  }
  return { path: value, record: findModelByPath(db, resolve(value)) };
}

export function listModels(db: LibraryDb): ModelRecord[] {
  return (db.prepare('SELECT * FROM models ORDER BY added, id').all() as Row[]).map(fromRow);
}

/** Forgets a model; returns whether it was registered. Files on disk are not touched. */
export function removeModel(db: LibraryDb, id: string): boolean {
  return db.prepare('DELETE FROM models WHERE id = ?').run(id).changes > 0;
}
