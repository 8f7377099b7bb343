/**
 * Outputs a person chooses never land in Sprout's data folder, however the path reaches it: through a symlinked
 * parent folder, a link at the file itself (dangling or not), or a data folder that is itself reached by a link.
 * Checked for every command and operation that writes a chosen path; the library stays intact (Python's sqlite3
 * runs its integrity check) and nothing is written inside the data folder.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { libraryPath } from '../../main/library/db.js';
import { refuseInsideDataDir } from '../../main/output-path.js';
import { data, Harness, tinyModel } from '../ipc/harness.js';
import { sprout } from './spawn.js';

/** Every file under `dir`, relative to it. */
const tree = (dir: string) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();

function integrity(file: string): string {
  return execFileSync(
    'python3',
    ['-c', 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("pragma integrity_check").fetchone()[0])', file],
    { encoding: 'utf8' },
  ).trim();
}

/** Paths outside the data folder by their spelling that all lead into it. */
function linksInto(home: string, scratch: string) {
  const folderLink = join(scratch, 'looks-like-my-folder');
  symlinkSync(home, folderLink);
  const fileLink = join(scratch, 'looks-like-my-file.tsv');
  symlinkSync(libraryPath(home), fileLink);
  const dangling = join(scratch, 'dangling.tsv');
  symlinkSync(join(home, 'new.tsv'), dangling);
  return { folderLink, fileLink, dangling };
}

describe('outputs through links into the data folder (the app)', () => {
  let h: Harness;
  let jobId: string;
  let promptId: number;
  let links: ReturnType<typeof linksInto>;

  beforeAll(async () => {
    h = new Harness();
    await h.call('settings.set', { defaultDevice: 'cpu', threads: 1 });
    const model = await h.call('model.import', { path: tinyModel });
    const cb = await h.call('data.import', {
      file: data('cb/val.jsonl'),
      textColumns: ['premise'],
      labelColumn: 'label',
      name: 'cb',
      split: 0.25,
    });
    const run = await h.call('train.start', {
      modelId: model.id,
      datasetId: cb.datasetId,
      weights: 'fp32',
      steps: 1,
      evalEvery: 1,
      evalLimit: 2,
      promptLength: 2,
      batchSize: 2,
      maxInputLength: 32,
      seed: 1,
    });
    await h.waitFor('training.progress', (p) => p.runId === run.runId && p.status === 'done');
    promptId = (await h.call('train.status', { runId: run.runId })).promptId!;
    const job = await h.call('label.start', {
      promptId,
      input: data('cb/val.jsonl'),
      textColumns: ['premise'],
      output: join(h.scratch, 'cb.csv'),
      outputFormat: 'csv',
      batchSize: 8,
    });
    jobId = job.jobId;
    await h.waitFor('labelling.progress', (p) => p.jobId === jobId && p.status === 'done');
    links = linksInto(h.home, h.scratch);
  });
  afterAll(() => h.close());

  it('label.export, label.start, library.exportPeft and library.exportAll refuse every path that leads into the data folder', async () => {
    const before = tree(h.home);
    const library = readFileSync(libraryPath(h.home));
    const { folderLink, fileLink, dangling } = links;
    for (const file of [join(folderLink, 'library.sqlite'), join(folderLink, 'runs', 'x.tsv'), fileLink, dangling]) {
      expect(await h.failure('label.export', { jobId, file, format: 'tsv', overwrite: true }), file).toBe('output-in-data-dir');
      expect(
        await h.failure('label.start', { promptId, input: data('cb/val.jsonl'), textColumns: ['premise'], output: file, overwrite: true }),
        file,
      ).toBe('output-in-data-dir');
      expect(await h.failure('library.exportAll', { file }), file).toBe('output-in-data-dir');
    }
    for (const dir of [join(folderLink, 'peft'), folderLink, join(folderLink, 'new', 'deeper')])
      expect(await h.failure('library.exportPeft', { id: promptId, dir }), dir).toBe('output-in-data-dir');
    expect(readFileSync(libraryPath(h.home)).equals(library)).toBe(true);
    expect(integrity(libraryPath(h.home))).toBe('ok');
    expect(tree(h.home).filter((f) => !before.includes(f) && !f.startsWith('library.sqlite'))).toEqual([]);
    // The same outputs outside the data folder are written.
    expect((await h.call('label.export', { jobId, file: join(h.scratch, 'export.tsv'), format: 'tsv' })).rows).toBe(56);
  });
});

describe('outputs through links into the data folder (the CLI)', () => {
  const home = mkdtempSync(join(tmpdir(), 'sprout-links-home-'));
  const scratch = mkdtempSync(join(tmpdir(), 'sprout-links-'));
  const { folderLink, fileLink, dangling } = linksInto(home, scratch);

  it('label, label export, library export --peft, export-all and backup refuse them before touching anything', async () => {
    // Each command once, each with another way into the data folder (the kinds of path: refuseInsideDataDir's test below).
    const refusals: [string, string[]][] = [
      [
        join(folderLink, 'library.sqlite'),
        [
          'label',
          '--prompt-file',
          join(scratch, 'p.safetensors'),
          '--model',
          tinyModel,
          '--labels',
          'a,b',
          '--input',
          data('cb/val.jsonl'),
          '--output',
          join(folderLink, 'library.sqlite'),
        ],
      ],
      [fileLink, ['label', 'export', 'label-00000000', '--output', fileLink, '--overwrite']],
      [dangling, ['library', 'backup', dangling]],
      [join(folderLink, 'all.tar'), ['library', 'export-all', join(folderLink, 'all.tar')]],
      [join(home, 'peft'), ['library', 'export', '1', '--peft', join(home, 'peft')]],
    ];
    for (const [path, args] of refusals) {
      const r = await sprout(args, home);
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(`is inside Sprout's data folder`);
      expect(r.stderr).toContain(path);
    }
    expect(tree(home).filter((f) => !f.startsWith('library.sqlite'))).toEqual([]);
  });

  it('every kind of path into the data folder is refused, and only those', () => {
    const linkedHome = join(scratch, 'home-link');
    symlinkSync(home, linkedHome);
    for (const path of [
      join(folderLink, 'library.sqlite'),
      join(folderLink, 'runs', 'new', 'x.csv'),
      fileLink,
      dangling,
      join(home, 'plain.tsv'),
      folderLink,
      home,
    ]) {
      expect(() => refuseInsideDataDir(path, home, 'output file'), path).toThrow(/inside Sprout's data folder/);
    }
    expect(() => refuseInsideDataDir(join(realpathSync(home), 'x.csv'), linkedHome, 'output file')).toThrow(/inside Sprout's data folder/);
    expect(() => refuseInsideDataDir(join(linkedHome, 'x.csv'), home, 'output file')).toThrow(/it leads to/);
    mkdirSync(join(scratch, 'mine'));
    expect(() => refuseInsideDataDir(join(scratch, 'mine', 'x.csv'), linkedHome, 'output file')).not.toThrow();
  });
});
