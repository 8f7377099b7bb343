import { randomUUID } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/**
 * The temporary file that writing `file` atomically goes through: beside it (a rename never crosses disks), hidden,
 * and named per call. Threads of one process (sprout serve's main thread and its engine worker) can write one file
 * at once, and a name per process and millisecond once made the second writer's rename fail with ENOENT.
 */
export function tempPathBeside(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.${randomUUID()}.tmp`);
}
