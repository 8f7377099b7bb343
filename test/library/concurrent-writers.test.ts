import Database from 'better-sqlite3';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LibraryDb } from '../../main/library/db.js';
import { deletePrompt, duplicatePrompt, renamePrompt, tagPrompt } from '../../main/library/prompts.js';
import { findOrInsertTask } from '../../main/library/tasks.js';
import { repoRoot } from '../train/fixtures.js';
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

describe('library transactions', () => {
  it('are all begun by writeTransaction (main/library/db.ts), never as better-sqlite3’s deferred transaction()', () => {
    const sources = readdirSync(join(repoRoot, 'main'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const deferred = sources.filter(
      (f) => f !== join('library', 'db.ts') && /\.transaction\(/.test(readFileSync(join(repoRoot, 'main', f), 'utf8')),
    );
    expect(deferred).toEqual([]);
  });
});
