/**
 * Real full disks for fault tests: small tmpfs mounts (root only; where mounting is refused the tests that need
 * one are skipped) and a filler that takes the room left.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const mounted: string[] = [];

export function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    mounted.push(dir);
    return true;
  } catch {
    return false;
  }
}

export const canMount = (() => {
  const probe = mkdtempSync(join(tmpdir(), 'sprout-tmpfs-probe-'));
  const ok = mountTmpfs(probe, '16k');
  if (ok) execFileSync('umount', [mounted.pop()!]);
  rmSync(probe, { recursive: true, force: true });
  return ok;
})();

export function unmount(dir: string): void {
  const at = mounted.indexOf(dir);
  if (at >= 0) execFileSync('umount', ['-l', mounted.splice(at, 1)[0]]);
}

/** Unmounts every tmpfs this file mounted (lazily: a process that still holds a file in one does not block it). */
export function unmountAll(): void {
  for (const dir of mounted.splice(0)) execFileSync('umount', ['-l', dir]);
}

/** Writes zeros until the file system refuses with ENOSPC; returns how many bytes it took. */
export function fill(file: string): number {
  const fd = openSync(file, 'w');
  const page = Buffer.alloc(4096);
  let bytes = 0;
  try {
    for (;;) bytes += writeSync(fd, page);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  return bytes;
}
