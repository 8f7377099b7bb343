/**
 * Ctrl-C during `sprout data import` stops the import and keeps nothing of it. The command used to die of the signal
 * mid-read, silently, leaving its staging library (52 MB for AG News read 40 times) under <data dir>/staging until
 * the next import happened to sweep it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { STAGING_FOLDER } from '../../main/library/import-staging.js';
import { shared } from '../train/fixtures.js';
import { pythonLibraryCheck } from './library-check.js';
import { cli } from './spawn.js';

describe('Ctrl-C during data import', () => {
  it('exits 130 saying nothing was added, with the staging library removed and the library without the dataset', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sprout-import-int-'));
    // AG News's original file 40 times over: reading it takes seconds, so the signal comes mid-read.
    const big = join(home, 'ag_news_40.csv');
    writeFileSync(big, readFileSync(join(shared, 'data/ag_news/test.csv'), 'utf8').repeat(40));
    const child = spawn(process.execPath, [cli, 'data', 'import', big], { env: { ...process.env, SPROUT_HOME: home } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    let running = true;
    void exited.then(() => (running = false));
    // The staging library appears once the file's layout is detected, before its rows are read into it.
    const staging = join(home, STAGING_FOLDER);
    const staged = () => existsSync(staging) && readdirSync(staging).some((f) => f.endsWith('.sqlite'));
    while (running && !staged()) await delay(10);
    expect(running).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect([stdout, stderr]).toEqual(['', 'sprout: The import was stopped; nothing of it was added to the library.\n']);
    expect(readdirSync(staging)).toEqual([]);
    // Python's sqlite3: the library is whole and holds no dataset.
    expect(pythonLibraryCheck(home)).toEqual({ integrity: 'ok', datasets: 0 });
  });
});
