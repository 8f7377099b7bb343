/**
 * A full disk during `data import` and `label`, in the CLI and in the app, is one clear message: the disk is full,
 * which folder, how much is free there and how much more is needed, and how to go on; no internal error, no stack
 * trace. The state on disk stays whole (Python's sqlite3 checks the library) and going on once there is room ends
 * where an undisturbed run ends. The disks are small tmpfs mounts (root only, else skipped).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { releaseState } from '../../main/ipc/handlers/state.js';
import { Harness } from '../ipc/harness.js';
import { data, tinyModel } from '../label/helpers.js';
import { writePromptFiles } from '../label/prompt-fixture.js';
import { pythonLibraryCheck } from './library-check.js';
import { lastJson, sprout } from './spawn.js';
import { canMount, fill, mountTmpfs, unmount, unmountAll } from './tmpfs.js';

afterAll(unmountAll);

const remount = (dir: string, size: string) => execFileSync('mount', ['-o', `remount,size=${size}`, dir]);

/** RTE's training rows as Python's csv module reads the TSV (GLUE's quoting: none). */
const rteRows = () =>
  Number(
    execFileSync(
      'python3',
      [
        '-c',
        'import csv, sys\nprint(sum(1 for _ in csv.reader(open(sys.argv[1], newline=""), delimiter="\\t", quoting=csv.QUOTE_NONE)) - 1)',
        data('rte/train.tsv'),
      ],
      { encoding: 'utf8' },
    ),
  );

describe.skipIf(!canMount)('a full disk', () => {
  it('during `sprout data import` says so, keeps the library whole, and the same import succeeds once there is room', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sprout-full-'));
    expect(mountTmpfs(home, '512k')).toBe(true);
    const args = [
      'data',
      'import',
      data('rte/train.tsv'),
      '--text-column',
      'sentence1',
      '--text-column',
      'sentence2',
      '--label-column',
      'label',
    ];
    const failed = await sprout(args, home);
    expect(failed.code, failed.stderr).toBe(2);
    expect(failed.stderr).toMatch(
      new RegExp(
        `^sprout: The disk is full: the dataset from train\\.tsv could not be written to ${home} \\(\\d+ KB free there, about 1\\.6 MB more needed\\)\\. Free some space there, then run the same \`sprout data import\` again \\(nothing of this import was kept\\)\\.\\n$`,
      ),
    );
    expect(pythonLibraryCheck(home)).toEqual({ integrity: 'ok', datasets: 0 });
    remount(home, '16m');
    const done = await sprout(args, home);
    expect(done.code, done.stderr).toBe(0);
    expect(lastJson(done).rows).toBe(rteRows());
    expect(pythonLibraryCheck(home)).toEqual({ integrity: 'ok', datasets: 1 });
  });

  it('already full as a command opens the library, or as an import opens its staging library, says so, not "damaged", and leaves no staging files', async () => {
    const disk = mkdtempSync(join(tmpdir(), 'sprout-full-'));
    expect(mountTmpfs(disk, '1m')).toBe(true);
    const home = join(disk, 'home');
    const filler = join(disk, 'filler');
    fill(filler);
    // SQLite sizes a WAL database's shared-memory index as it opens it, and fails with "disk I/O error"
    // (SQLITE_IOERR_SHMSIZE), which read as a damaged library.
    const fresh = await sprout(['data', 'list'], home);
    expect(fresh.code, fresh.stderr).toBe(2);
    expect(fresh.stderr).toMatch(
      new RegExp(
        `^sprout: The disk is full: what Sprout was saving could not be written to ${home} \\(\\d+ KB free there\\)\\. Free some space there and run the command again; what was saved before is kept\\.\\n$`,
      ),
    );
    rmSync(home, { recursive: true });
    rmSync(filler);
    expect((await sprout(['data', 'list'], home)).code).toBe(0);
    // Room for the library's own index as it opens (32 KB), none for the staging library's.
    truncateSync(filler, fill(filler) - 32 * 1024);
    const args = ['data', 'import', data('cola/in_domain_dev.tsv'), '--no-header', '--text-column', '3', '--label-column', '1'];
    const failed = await sprout(args, home);
    expect(failed.code, failed.stderr).toBe(2);
    expect(failed.stderr).toMatch(/^sprout: The disk is full: the dataset from in_domain_dev\.tsv could not be written to /);
    expect(readdirSync(join(home, 'staging'))).toEqual([]);
    rmSync(filler);
    const done = await sprout(args, home);
    expect(done.code, done.stderr).toBe(0);
    expect(pythonLibraryCheck(home)).toEqual({ integrity: 'ok', datasets: 1 });
  });

  it('during `sprout label` names the output folder and the resume, and the resumed file holds every row once', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sprout-full-'));
    const mine = mkdtempSync(join(tmpdir(), 'sprout-full-files-'));
    const [promptFile] = await writePromptFiles(mine, [1]);
    const label = (output: string) => [
      'label',
      '--prompt-file',
      promptFile,
      '--model',
      tinyModel,
      '--labels',
      'entailment,contradiction,neutral',
      '--device',
      'cpu',
      '--input',
      data('cb/val.jsonl'),
      '--text-column',
      'premise',
      '--output',
      output,
      '--batch-size',
      '4',
      '--commit-every',
      '8',
    ];

    const out = join(mine, 'out');
    mkdirSync(out);
    expect(mountTmpfs(out, '12k')).toBe(true);
    const failed = await sprout(label(join(out, 'cb.csv')), home);
    expect(failed.code, failed.stderr).toBe(2);
    const jobId = /^(label-\w+):/m.exec(failed.stderr)![1];
    expect(failed.stderr).toMatch(
      new RegExp(
        `\\nsprout: The disk is full: the labelled file could not be written to ${out} \\(\\d+ KB free there, about \\d+ KB more needed\\)\\. Free some space there, then continue with \`sprout label --resume ${jobId}\` \\(every row committed so far is kept\\)\\.\\n$`,
      ),
    );
    expect(failed.stderr).not.toMatch(/internal error|\n\s+at /);
    remount(out, '1m');
    const resumed = await sprout(['label', '--resume', jobId, '--device', 'cpu'], home);
    expect(resumed.code, resumed.stderr).toBe(0);
    // Python's csv and json modules: each input row once, in order, each with a label.
    const check = `import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
premises = [json.loads(l)["premise"] for l in open(sys.argv[2]) if l.strip()]
print(len(rows), [r["premise"] for r in rows] == premises, all(r["predicted_label"] for r in rows))`;
    expect(execFileSync('python3', ['-c', check, join(out, 'cb.csv'), data('cb/val.jsonl')], { encoding: 'utf8' }).trim()).toBe(
      '56 True True',
    );
  });

  it('in the app says so in the app’s words', async () => {
    const h = new Harness();
    try {
      // The library is opened on first use, so it lives on the small disk.
      expect(mountTmpfs(h.home, '512k')).toBe(true);
      const error = await h
        .call('data.import', { file: data('rte/train.tsv'), textColumns: ['sentence1', 'sentence2'], labelColumn: 'label' })
        .catch((e: Error) => e);
      expect((error as Error).message).toMatch(
        new RegExp(
          `^disk-full: The disk is full: the dataset from train\\.tsv could not be written to ${h.home} \\(\\d+ KB free there, about 1\\.6 MB more needed\\)\\. Free some space there, then import the file again \\(nothing of this import was kept\\)\\.$`,
        ),
      );
    } finally {
      await h.context.worker.close();
      releaseState(h.context);
      unmount(h.home);
      await h.close();
    }
  });
});
