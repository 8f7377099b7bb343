import { dataDir } from '../paths.js';
import type { ArchitectureSummary } from '../checkpoint/summary.js';
import { withLibraryAt, type LibraryDb } from '../library/db.js';
import type { ModelRecord } from '../library/models.js';

/** Runs `fn` with the library database of the data directory (SPROUT_HOME), closing it afterwards. */
export function withLibrary<T>(fn: (db: LibraryDb) => T | Promise<T>): Promise<T> {
  return withLibraryAt(dataDir(), fn);
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
  };
}

export function describeSummary(s: ArchitectureSummary): string {
  const params = s.parameters >= 1e9 ? `${(s.parameters / 1e9).toFixed(2)}B` : `${(s.parameters / 1e6).toFixed(1)}M`;
  return `${params} parameters, ${s.encoderLayers}+${s.decoderLayers} layers, d_model ${s.dModel}, vocab ${s.vocabSize}, ${s.feedForward}${s.tiedEmbeddings ? ', tied embeddings' : ''}`;
}
