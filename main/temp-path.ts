import { randomUUID } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { processAlive } from './process-alive.js';

/**
 * The temporary file that writing `file` atomically goes through: beside it (a rename never crosses disks), hidden,
 * and named per call. Threads of one process (sprout serve's main thread and its engine worker) can write one file
 * at once, and a name per process and millisecond once made the second writer's rename fail with ENOENT.
 *
 * The temporaries of `file` that processes no longer running left behind are removed first: a kill, or a Ctrl-C,
 * which ends a command without its cleanup, left a backup's whole copy of the library beside the backup's name.
 */
export function tempPathBeside(file: string): string {
  removeAbandoned(file);
  return join(dirname(file), `.${basename(file)}.${process.pid}.${randomUUID()}.tmp`);
}

const PID_AND_ID = /^(\d+)\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp$/;
const TEMP_NAME = new RegExp(`^\\..+\\.${PID_AND_ID.source.slice(1)}`);

/** Whether `path` names a temporary file tempPathBeside made: a name that means nothing to the person. */
export function isTempPath(path: string): boolean {
  return TEMP_NAME.test(basename(path));
}

function removeAbandoned(file: string): void {
  const folder = dirname(file);
  const prefix = `.${basename(file)}.`;
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return; // No folder: the write itself says so.
  }
  for (const name of names) {
    const pid = name.startsWith(prefix) ? PID_AND_ID.exec(name.slice(prefix.length))?.[1] : undefined;
    if (pid !== undefined && !processAlive(Number(pid))) rmSync(join(folder, name), { force: true });
  }
}
