import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Runs `fn` with a fresh data directory (library, runs, checkpoints) under the system's temp folder, removed when
 * `fn` settles, failed or not: a benchmark's training runs are measured, not kept, and a bench run leaves no
 * hundreds of megabytes behind.
 */
export async function withTempHome<T>(prefix: string, fn: (home: string) => Promise<T>): Promise<T> {
  const home = mkdtempSync(join(tmpdir(), prefix));
  try {
    return await fn(home);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
