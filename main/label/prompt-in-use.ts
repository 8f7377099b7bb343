/**
 * A library prompt that a labelling job is using at this moment is not deleted under it: the job, once stopped,
 * could not resume, and the person learns of it only then. Nor is one that a run training now starts from
 * (main/library/run-sources.ts).
 */
import { basename } from 'node:path';
import { SproutError } from '../errors.js';
import type { LibraryDb } from '../library/db.js';
import { refuseDeletingSource } from '../library/run-sources.js';
import { isWritten } from '../writer-lock.js';
import { jobWriter, listJobs } from './jobs.js';
import { LIBRARY_REF_PREFIX } from './library-prompt.js';

/**
 * Throws when a running job (its writer lock held, in this process or another) labels with prompt `id`, or a run
 * training now starts from it.
 */
export function refuseDeletingInUse(db: LibraryDb, id: number): void {
  refuseDeletingSource(db, id);
  const ref = `${LIBRARY_REF_PREFIX}${id}`;
  const job = listJobs(db).find(
    (j) => j.status === 'running' && j.spec.prompts.some((p) => p.ref === ref) && isWritten(jobWriter(db, j.id)),
  );
  if (job)
    throw new SproutError(
      'prompt-in-use',
      `Prompt ${id} is labelling ${basename(job.spec.input)} right now (job ${job.id}); it was not deleted.`,
      {
        hint: 'Wait for the job to finish, or cancel it, then delete the prompt.',
      },
    );
}
