import Database from 'better-sqlite3';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asLibraryBusyError, writeTransaction, type LibraryDb } from '../../main/library/db.js';
import { toErrorShape } from '../../main/ipc/dispatch.js';
import { importDataset } from '../../main/library/import-dataset.js';
import { STAGING_FOLDER } from '../../main/library/import-staging.js';
import { deletePrompt, duplicatePrompt, renamePrompt, tagPrompt } from '../../main/library/prompts.js';
import { findOrInsertTask } from '../../main/library/tasks.js';
import { repoRoot, shared } from '../train/fixtures.js';
import { addPrompt, freshLibrary } from './helpers.js';

/**
 * `db` whose first read inside a transaction is followed, before the transaction's next statement, by `other`: what
 * another process's commit does when it lands in that gap. No timing is involved: the gap is made, not waited for.
 */
function withWriteAfterFirstRead(db: LibraryDb, other: () => void): LibraryDb {
  let done = false;
  const afterRead = (statement: Database.Statement) =>
    new Proxy(statement, {
      get(target, key) {
        const value = Reflect.get(target, key) as unknown;
        if (typeof value !== 'function') return value;
        if (key !== 'get' && key !== 'all') return value.bind(target);
        return (...args: unknown[]) => {
          const result = value.apply(target, args) as unknown;
          if (!done && db.inTransaction) {
            done = true;
            other();
          }
          return result;
        };
      },
    });
  return new Proxy(db, {
    get(target, key) {
      const value = Reflect.get(target, key) as unknown;
      if (key === 'prepare') return (sql: string) => afterRead(target.prepare(sql));
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

const operations: [string, (db: LibraryDb, id: number) => unknown][] = [
  ['tag a prompt', (db, id) => tagPrompt(db, id, ['checked'])],
  ['delete a prompt', (db, id) => deletePrompt(db, id)],
  ['duplicate a prompt', (db, id) => duplicatePrompt(db, id)],
  ['find or add a task', (db) => findOrInsertTask(db, { name: 'sst2', datasetId: null, template: '{0}', verbalizer: {}, labelSet: null })],
];

describe('library writes beside another process', () => {
  it.each(operations)('%s holds the write lock from its first read, so a commit from elsewhere cannot void it', (_, operation) => {
    const { db, file } = freshLibrary();
    const id = addPrompt(db, 1);
    const other = addPrompt(db, 2);
    // Another process's connection: busy_timeout 0, so a lock it would wait for shows at once.
    const elsewhere = new Database(file, { timeout: 0 });
    let refused: string | undefined;
    const racing = withWriteAfterFirstRead(db, () => {
      try {
        renamePrompt(elsewhere, other, 'renamed elsewhere');
      } catch (error) {
        refused = (error as { code?: string }).code;
      }
    });
    // A deferred transaction read from a snapshot, the other commit landed, and its first write then failed with
    // SQLITE_BUSY_SNAPSHOT ("database is locked") without waiting.
    expect(() => operation(racing, id)).not.toThrow();
    expect(refused).toBe('SQLITE_BUSY');
    renamePrompt(elsewhere, other, 'renamed after');
    elsewhere.close();
    db.close();
  });
});

const agNews = join(shared, 'data/ag_news/test.csv');
const agNewsMapping = { textColumns: ['1', '2'], labelColumn: '0' };

/** Each dataset's id, the id its stored import report names, and its row count, as Python's sqlite3 reads them. */
function storedDatasets(file: string): [number, number, number][] {
  const script = `import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(json.dumps(c.execute("select id, json_extract(report, '$.id'), (select count(*) from dataset_rows r where r.dataset_id = d.id) from datasets d").fetchall()))`;
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' }));
}

describe('a dataset import beside other writers', () => {
  it('leaves the library to them while it reads its file, and keeps nothing in staging', async () => {
    const { db, file, dir } = freshLibrary();
    const other = addPrompt(db, 1);
    const elsewhere = new Database(file, { timeout: 0 });
    const names: string[] = [];
    // onRows is called while the rows are read (here once, when the file is read): a training writing its metrics.
    const report = await importDataset(db, agNews, {
      ...agNewsMapping,
      onRows: (rows) => {
        renamePrompt(elsewhere, other, `renamed at ${rows} rows`);
        names.push(`renamed at ${rows} rows`);
      },
    });
    expect(names).toEqual(['renamed at 7600 rows']);
    expect(storedDatasets(file)).toEqual([[report.id, report.id, 7600]]);
    expect(readdirSync(join(dir, STAGING_FOLDER))).toEqual([]);
    elsewhere.close();
    db.close();
  });

  it('that fails keeps nothing, in the library or in staging', async () => {
    const { db, file, dir } = freshLibrary();
    const broken = join(dir, 'broken.csv');
    const lines = readFileSync(agNews, 'utf8').split('\n').slice(0, 5000);
    writeFileSync(broken, `${lines.join('\n')}\n"1","An unclosed quote,"no end\n`);
    await expect(importDataset(db, broken, agNewsMapping)).rejects.toThrow(/broken\.csv:5001:/);
    expect(storedDatasets(file)).toEqual([]);
    expect(readdirSync(join(dir, STAGING_FOLDER))).toEqual([]);
    db.close();
  });
});

it('an import removes what imports of ended processes left in staging, and nothing of a running one', async () => {
  const { db, dir } = freshLibrary();
  const folder = join(dir, STAGING_FOLDER);
  mkdirSync(folder);
  const ended = spawnSync(process.execPath, ['-e', '']).pid;
  const left = [`import-${ended}-0a1b.sqlite`, `import-${ended}-0a1b.sqlite-journal`, `import-${process.pid}-2c3d.sqlite`];
  for (const name of left) writeFileSync(join(folder, name), '');
  await importDataset(db, join(shared, 'data/cb/val.jsonl'), { textColumns: ['premise', 'hypothesis'], labelColumn: 'label' });
  expect(readdirSync(folder)).toEqual([`import-${process.pid}-2c3d.sqlite`]);
  db.close();
});

it('a write that gives up waiting for another process’s lock says so, on the command line and in the app', () => {
  const { db, file } = freshLibrary();
  const id = addPrompt(db, 1);
  const elsewhere = new Database(file, { timeout: 0 });
  let thrown: unknown;
  writeTransaction(db, () => {
    try {
      renamePrompt(elsewhere, id, 'renamed elsewhere');
    } catch (error) {
      thrown = error;
    }
  });
  expect((thrown as { code?: string }).code).toBe('SQLITE_BUSY');
  const busy = asLibraryBusyError(thrown)!;
  expect(busy.code).toBe('library-busy');
  expect(busy.message).toMatch(/^The library is busy: another process held its write lock for over 5 s .* `sprout train --resume RUN`\.$/);
  expect(toErrorShape(thrown)).toMatchObject({
    code: 'library-busy',
    message: expect.stringMatching(/not saved\. Try again once that has finished\.$/),
  });
  expect(asLibraryBusyError(new Error('other'))).toBeUndefined();
  elsewhere.close();
  db.close();
});

describe('library transactions', () => {
  it('are all begun by writeTransaction (main/library/db.ts), never as better-sqlite3’s deferred transaction()', () => {
    const sources = readdirSync(join(repoRoot, 'main'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const deferred = sources.filter(
      (f) => f !== join('library', 'db.ts') && /\.transaction\(/.test(readFileSync(join(repoRoot, 'main', f), 'utf8')),
    );
    expect(deferred).toEqual([]);
  });
});
