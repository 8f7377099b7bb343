/**
 * A full disk (ENOSPC, EDQUOT, SQLite's SQLITE_FULL and SQLITE_IOERR_SHMSIZE) as a message a person can act on:
 * which folder, how much is free there and, where known, how much more the work needs, and what to run once there is
 * room. Every writer keeps its state whole when a write fails (atomic files, SQLite transactions, committed chunks),
 * so the hint can always say how to go on.
 */
import { existsSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { SproutError } from './errors.js';

// SQLite opening a database in WAL mode sizes its shared-memory index file first; on a full disk that fails as
// SQLITE_IOERR_SHMSIZE ("disk I/O error") rather than SQLITE_FULL.
const FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL', 'SQLITE_IOERR_SHMSIZE']);

export function isDiskFull(error: unknown): boolean {
  return FULL_CODES.has((error as { code?: unknown })?.code as string);
}

/** Free bytes for this user on the disk holding `folder` (or its nearest existing parent); undefined where unknown. */
export function freeBytes(folder: string): number | undefined {
  let dir = folder;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.ceil(bytes / 1024))} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

/** What to do once there is room: the CLI's words, and the app's where they differ (no command names). */
export interface GoOn {
  hint: string;
  uiHint?: string;
}

/** The disk holding `folder` is full while writing `what` ("the labelled file"); `needed`: bytes still to write, where known. */
export function diskFullError(folder: string, what: string, goOn: GoOn, needed?: number): SproutError {
  const free = freeBytes(folder);
  const room = [
    free === undefined ? undefined : `${formatBytes(free)} free there`,
    needed === undefined ? undefined : `about ${formatBytes(needed)} more needed`,
  ]
    .filter(Boolean)
    .join(', ');
  return new SproutError('disk-full', `The disk is full: ${what} could not be written to ${folder}${room ? ` (${room})` : ''}.`, goOn);
}

/**
 * For a host's last line of defence (the CLI, the app's dispatch): a full disk that no caller put in words still
 * says so, with the folder the error names (else `fallbackFolder`), instead of an internal error and a stack trace.
 */
export function asDiskFullError(error: unknown, fallbackFolder: string): SproutError | undefined {
  if (!isDiskFull(error) || error instanceof SproutError) return undefined;
  const path = (error as NodeJS.ErrnoException).path;
  return diskFullError(path ? dirname(path) : fallbackFolder, 'what Sprout was saving', {
    hint: 'Free some space there and run the command again; what was saved before is kept.',
    uiHint: 'Free some space there and try again; what was saved before is kept.',
  });
}
