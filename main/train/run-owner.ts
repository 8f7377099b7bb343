/**
 * Which process trains a run: `owner.json` in the run folder names its pid and host while it trains. Another
 * process (the app beside a `sprout train`) reads it to tell a run that goes on elsewhere from one a crash or kill
 * left behind; a killed owner leaves the file, but its pid no longer answers.
 */
import { readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from './run-store.js';

export const OWNER_FILE = 'owner.json';

/** Marks the run as trained by this process; the returned function releases it (only if still ours). */
export function claimRun(dir: string): () => void {
  const file = join(dir, OWNER_FILE);
  writeFileAtomic(file, `${JSON.stringify({ pid: process.pid, host: hostname() })}\n`);
  return () => {
    if (ownerOf(dir)?.pid === process.pid) rmSync(file, { force: true });
  };
}

function ownerOf(dir: string): { pid: number; host: string } | null {
  try {
    const owner = JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8')) as { pid?: unknown; host?: unknown };
    return Number.isInteger(owner.pid) && typeof owner.host === 'string' ? { pid: owner.pid as number, host: owner.host } : null;
  } catch {
    return null;
  }
}

/** Whether a live process on this machine, other than this one, is training the run in `dir`. */
export function trainedElsewhere(dir: string): boolean {
  const owner = ownerOf(dir);
  if (!owner || owner.host !== hostname() || owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
