import Database from 'better-sqlite3';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

export interface JobRow {
  id: string;
  status: string;
  rows_done: number;
  output_bytes: number;
}

/** The labelling job a `sprout label` process records in its library, as another process sees it. */
export function readJob(file: string): JobRow | undefined {
  if (!existsSync(file)) return undefined;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT id, status, rows_done, output_bytes FROM label_jobs').get() as JobRow | undefined;
  } catch {
    return undefined; // the schema is still being created
  } finally {
    db.close();
  }
}

/**
 * Watches the library of a running `sprout label` child until its job is `ready`. Commits are only visible in the
 * file, so this polls; it has no deadline of its own (a loaded machine just takes longer) and fails as soon as the
 * child has exited without getting there.
 */
export async function waitForJob(file: string, child: ChildProcess, ready: (job: JobRow) => boolean): Promise<JobRow> {
  for (;;) {
    const job = readJob(file);
    if (job && ready(job)) return job;
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `the labelling process ended (${child.exitCode ?? child.signalCode}) before its job got far enough: ${JSON.stringify(job)}`,
      );
    await delay(10);
  }
}
