import { dataDir } from '../paths.js';
import type { ArchitectureSummary } from '../checkpoint/summary.js';
import { withLibraryAt, type LibraryDb } from '../library/db.js';
import { modelFilesPresent, resolveModel, type ModelRecord } from '../library/models.js';

/** Runs `fn` with the library database of the data directory (SPROUT_HOME), closing it afterwards. */
export function withLibrary<T>(fn: (db: LibraryDb) => T | Promise<T>): Promise<T> {
  return withLibraryAt(dataDir(), fn);
}

/** What --model takes, for the commands' help. */
export const MODEL_HELP =
  'MODEL is a model id from `sprout model list` (local/NAME once imported, the Hub repo id once downloaded)\nor a model folder.';

/** The model a command's --model names, as a path: a model id from `sprout model list`, or a folder (resolveModel). */
export function modelPathFlag(value: string): Promise<string> {
  return withLibrary((db) => resolveModel(db, value).path);
}

/** The JSON shape of a model record that `sprout model` commands print (snake_case like the other commands). */
export function modelJson(record: ModelRecord): Record<string, unknown> {
  return {
    id: record.id,
    repo: record.repo,
    revision: record.revision,
    sha: record.sha,
    path: record.path,
    added: record.added,
    summary: record.summary,
    present: modelFilesPresent(record),
  };
}

export function describeSummary(s: ArchitectureSummary): string {
  const params = s.parameters >= 1e9 ? `${(s.parameters / 1e9).toFixed(2)}B` : `${(s.parameters / 1e6).toFixed(1)}M`;
  return (
    `${params} parameters, ${s.encoderLayers}+${s.decoderLayers} layers, d_model ${s.dModel}` +
    `, vocab ${s.vocabSize}, ${s.feedForward}${s.tiedEmbeddings ? ', tied embeddings' : ''}`
  );
}
