/**
 * A library prompt that a run in training starts from is not deleted under it: the run stores its prompt with the
 * source as its parent when it ends, and could then neither finish nor resume.
 */
import { SproutError } from '../errors.js';
import { parseInit } from '../train/init.js';
import { isWritten } from '../writer-lock.js';
import { dataDirOf, type LibraryDb } from './db.js';
import { listRuns, type RunRecord } from './runs.js';

/** The prompt id a run's `init` copies (`prompt:<id>`), or null for every other init. */
function sourceOf(run: RunRecord): number | null {
  const init = run.config.init;
  if (typeof init !== 'string') return null;
  try {
    const parsed = parseInit(init);
    return parsed.kind === 'prompt' && /^\d+$/.test(parsed.id) ? Number(parsed.id) : null;
  } catch {
    return null;
  }
}

/** Throws when a run training now (its writer lock held, in this process or another) starts from prompt `id`. */
export function refuseDeletingSource(db: LibraryDb, id: number): void {
  const dataDir = dataDirOf(db);
  const run = listRuns(db, { status: 'running' }).find((r) => sourceOf(r) === id && isWritten({ dataDir, kind: 'run', id: r.id }));
  if (run)
    throw new SproutError('prompt-in-use', `Prompt ${id} is the starting point of run ${run.id}, training now; it was not deleted.`, {
      hint: 'Wait for the run to finish, or cancel it, then delete the prompt.',
    });
}
