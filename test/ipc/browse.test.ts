/**
 * The browser version's file picker through the real handlers: only the home folder and the folders added in
 * Settings are listed, with the same path checks a typed path gets, and links cannot lead out of them.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { data, Harness } from './harness.js';

let h: Harness;
const home = mkdtempSync(join(tmpdir(), 'sprout-home-'));
const outside = mkdtempSync(join(tmpdir(), 'sprout-outside-'));

beforeAll(() => {
  // os.homedir() reads HOME: this process's home is a folder the test lays out.
  process.env.HOME = home;
  mkdirSync(join(home, 'Data', 'b-folder'), { recursive: true });
  mkdirSync(join(home, 'Data', 'A folder'));
  writeFileSync(join(home, 'Data', 'train.csv'), 'text,label\nhi,1\n');
  writeFileSync(join(home, 'Data', 'file10.txt'), '');
  writeFileSync(join(home, 'Data', 'file9.txt'), '');
  writeFileSync(join(home, '.hidden'), 'x');
  writeFileSync(join(outside, 'secret.txt'), 'x');
  symlinkSync(outside, join(home, 'Data', 'elsewhere'));
  symlinkSync(join(outside, 'secret.txt'), join(home, 'Data', 'secret-link.txt'));
  symlinkSync(join(home, 'Data', 'train.csv'), join(home, 'Data', 'train-link.csv'));
  h = new Harness();
});
afterAll(async () => {
  await h?.close();
});

it('lists home: folders first, names in natural order, hidden files only when asked, links only to inside it, and the way back up', async () => {
  const top = await h.call('files.browse', { kind: 'file' });
  expect(top).toMatchObject({
    roots: [{ name: 'Home', path: home }],
    root: home,
    folder: home,
    parent: null,
    path: [{ name: 'Home', path: home }],
    omitted: 0,
  });
  expect(top.entries.map((e) => e.name)).toEqual(['Data']);
  expect((await h.call('files.browse', { kind: 'file', hidden: true })).entries.map((e) => e.name)).toEqual(['Data', '.hidden']);

  const folder = await h.call('files.browse', { kind: 'file', path: join(home, 'Data') });
  expect(folder.entries.map((e) => [e.name, e.kind])).toEqual([
    ['A folder', 'folder'],
    ['b-folder', 'folder'],
    ['file9.txt', 'file'],
    ['file10.txt', 'file'],
    ['train-link.csv', 'file'],
    ['train.csv', 'file'],
  ]);
  const csv = folder.entries.find((e) => e.name === 'train.csv')!;
  expect(csv).toMatchObject({
    path: join(home, 'Data', 'train.csv'),
    bytes: statSync(csv.path).size,
    modified: statSync(csv.path).mtime.toISOString(),
  });
  expect(folder.parent).toBe(home);
  expect(folder.path).toEqual([
    { name: 'Home', path: home },
    { name: 'Data', path: join(home, 'Data') },
  ]);
  expect((await h.call('files.browse', { kind: 'folder', path: join(home, 'Data') })).entries.map((e) => e.name)).toEqual([
    'A folder',
    'b-folder',
  ]);
  expect((await h.call('files.browse', { kind: 'file', path: join(home, 'Data'), filter: 'FILE' })).entries.map((e) => e.name)).toEqual([
    'file9.txt',
    'file10.txt',
  ]);
});

it("refuses what a typed path would be refused for, and anything outside home and Settings' folders, links included", async () => {
  expect(await h.failure('files.browse', { kind: 'file', path: 'Data' })).toBe('bad-path');
  expect(await h.failure('files.browse', { kind: 'file', path: `${home}/Data/..` })).toBe('bad-path');
  expect(await h.failure('files.browse', { kind: 'file', path: join(home, 'nothing') })).toBe('file-not-found');
  expect(await h.failure('files.browse', { kind: 'file', path: join(home, 'Data', 'train.csv') })).toBe('not-a-folder');
  expect(await h.failure('files.browse', { kind: 'file', path: outside })).toBe('outside-browse-folders');
  expect(await h.failure('files.browse', { kind: 'file', path: join(home, 'Data', 'elsewhere') })).toBe('outside-browse-folders');
});

it('lists a folder added in Settings as a place of its own, as Python lists it', async () => {
  expect(await h.failure('settings.set', { browseFolders: [join(home, 'missing')] })).toBe('file-not-found');
  expect(await h.failure('settings.set', { browseFolders: [join(home, 'Data', 'train.csv')] })).toBe('not-a-folder');
  const shared = data('');
  const settings = await h.call('settings.set', { browseFolders: [`${shared}/`, shared] });
  expect(settings.browseFolders).toEqual([shared.replace(/\/$/, '')]);
  const cola = await h.call('files.browse', { kind: 'file', path: data('cola') });
  expect(cola.roots.map((r) => r.name)).toEqual(['Home', 'data']);
  expect(cola).toMatchObject({ root: settings.browseFolders[0], parent: settings.browseFolders[0] });
  const python = JSON.parse(
    execFileSync(
      'python3',
      [
        '-c',
        'import os,sys,json; d=sys.argv[1]; print(json.dumps(sorted([[n, os.path.getsize(os.path.join(d,n))] for n in os.listdir(d)])))',
        data('cola'),
      ],
      { encoding: 'utf8' },
    ),
  ) as [string, number][];
  expect(cola.entries.map((e) => [e.name, e.bytes]).sort()).toEqual(python);
  // The place's top has no way further up, and the folder above it cannot be listed.
  expect((await h.call('files.browse', { kind: 'file', path: settings.browseFolders[0] })).parent).toBeNull();
  expect(await h.failure('files.browse', { kind: 'file', path: dirname(settings.browseFolders[0]) })).toBe('outside-browse-folders');
});
