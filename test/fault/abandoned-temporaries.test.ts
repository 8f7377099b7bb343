/**
 * What a killed command leaves is removed by the next one that writes there. Ctrl-C ends `sprout library backup` and
 * `library export-all` without their cleanup (their work is synchronous, or SQLite's): each stopped export left a
 * whole copy of the library (89 MB here) in /tmp/sprout-archive-*, and a stopped backup one beside the backup's name.
 * A child process makes its temporaries with Sprout's own functions and ends without removing them, as a kill ends
 * it; the parent's own temporaries (a live process's) must survive the sweep.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { exportLibraryArchive } from '../../main/export/library-archive.js';
import { backupLibrary } from '../../main/library/backup.js';
import { openLibrary } from '../../main/library/db.js';
import { STAGING_FOLDER } from '../../main/library/import-staging.js';
import { tempPathBeside } from '../../main/temp-path.js';
import { repoRoot } from '../train/fixtures.js';

/** Runs a child that makes a backup's temporary and an archive's work folder for `home`, then exits without cleanup. */
function abandon(home: string, backup: string): { temporary: string; work: string } {
  const script = join(home, 'abandon.cjs');
  buildSync({
    stdin: {
      contents: `
        import { writeFileSync } from 'node:fs';
        import { join } from 'node:path';
        import { stagingWorkFolder } from './main/library/import-staging.ts';
        import { tempPathBeside } from './main/temp-path.ts';
        const [home, backup] = process.argv.slice(2);
        const temporary = tempPathBeside(backup);
        writeFileSync(temporary, 'half a backup');
        const work = stagingWorkFolder(home, 'archive');
        writeFileSync(join(work, 'library.sqlite'), 'half a copy');
        process.stdout.write(JSON.stringify({ temporary, work }));
        process.exit(0);`,
      resolveDir: repoRoot,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile: script,
    logLevel: 'error',
  });
  const child = spawnSync(process.execPath, [script, home, backup], { encoding: 'utf8' });
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout) as { temporary: string; work: string };
}

describe('temporaries of ended processes', () => {
  it('are removed by the next backup and export; a running process keeps its own', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sprout-abandoned-'));
    const out = mkdtempSync(join(tmpdir(), 'sprout-abandoned-out-'));
    const backup = join(out, 'library-backup.sqlite');
    const left = abandon(home, backup);
    expect([existsSync(left.temporary), existsSync(join(left.work, 'library.sqlite'))]).toEqual([true, true]);
    // This process's own temporary for the same file: another thread of it may be writing there.
    const mine = tempPathBeside(backup);
    writeFileSync(mine, 'in progress');

    const db = openLibrary(join(home, 'library.sqlite'));
    try {
      await backupLibrary(db, backup);
      expect(readdirSync(out).sort()).toEqual(['library-backup.sqlite', mine.slice(out.length + 1)].sort());
      await exportLibraryArchive(db, join(out, 'library.tar'));
      expect(readdirSync(join(home, STAGING_FOLDER))).toEqual([]);
    } finally {
      db.close();
    }
  });
});
