import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { buildSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { backupLibrary, checkIntegrity } from '../../main/library/backup.js';
import { openLibrary } from '../../main/library/db.js';
import { fromBlob } from '../../main/library/embedding.js';
import { migrations } from '../../main/library/migrations.js';
import { getPrompt, listPrompts } from '../../main/library/prompts.js';
import { repoRoot, tempDir } from '../checkpoint/helpers.js';
import { addPrompt, freshLibrary } from './helpers.js';

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected an error');
}

/** Starts the writer, waits until it has committed at least `minWrites` more prompts, then SIGKILLs it. */
async function writeAndKill(script: string, file: string, minWrites: number): Promise<number[]> {
  const child = spawn(process.execPath, [script, file], {
    env: { ...process.env, NODE_PATH: join(repoRoot, 'node_modules') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ids: number[] = [];
  let buffered = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<NodeJS.Signals | null>((done) => child.on('exit', (_code, signal) => done(signal)));
  await new Promise<void>((done, fail) => {
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      ids.push(...lines.map(Number));
      // Random extra writes so that the kill lands at a different point of a transaction each time.
      if (ids.length >= minWrites + Math.floor(Math.random() * 20)) {
        child.kill('SIGKILL');
        done();
      }
    });
    child.on('exit', () => fail(new Error(`writer exited: ${stderr}`)));
  });
  expect(await exited).toBe('SIGKILL');
  return ids;
}

describe('library integrity', () => {
  it('migrates a database from every earlier schema version, keeping its rows', () => {
    for (let version = 0; version < migrations.length; version++) {
      const dir = tempDir();
      const file = join(dir, 'library.sqlite');
      const old = new Database(file);
      for (let v = 0; v < version; v++) migrations[v].up(old);
      old.pragma(`user_version = ${version}`);
      if (version >= 1) old.prepare("INSERT INTO models (id, path, summary, added) VALUES ('m', '/m', '{}', 'then')").run();
      old.close();
      const db = openLibrary(file);
      expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
      if (version >= 1) expect(db.prepare('SELECT id FROM models').all()).toEqual([{ id: 'm' }]);
      const id = addPrompt(db, 1);
      expect(getPrompt(db, id)?.name).toBe('prompt 1');
      db.close();
    }
  });

  it('refuses a database from a newer Sprout and reports a corrupt file, leaving both untouched', () => {
    const { db, file, dir } = freshLibrary();
    db.pragma(`user_version = ${migrations.length + 1}`);
    db.close();
    const before = readFileSync(file);
    const tooNew = errorOf(() => openLibrary(file));
    expect(tooNew.code).toBe('library-too-new');
    expect(tooNew.message).toContain(
      `has schema version ${migrations.length + 1}, but this Sprout knows versions up to ${migrations.length}`,
    );
    expect(readFileSync(file).equals(before)).toBe(true);

    const corrupt = join(dir, 'corrupt.sqlite');
    const garbage = Buffer.from('this is not a database, but it is somebody’s file '.repeat(200));
    writeFileSync(corrupt, garbage);
    const bad = errorOf(() => openLibrary(corrupt));
    expect(bad.code).toBe('library-corrupt');
    expect(bad.message).toContain(corrupt);
    expect(readFileSync(corrupt).equals(garbage)).toBe(true);
  });

  it('survives SIGKILL during writes: integrity_check ok, every committed prompt whole, at most the write in flight lost', async () => {
    const dir = tempDir();
    const script = join(dir, 'writer.cjs');
    buildSync({
      entryPoints: [join(repoRoot, 'test/library/kill-writer.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      external: ['better-sqlite3'],
      outfile: script,
      logLevel: 'error',
    });
    const file = join(dir, 'library.sqlite');
    const committed: number[] = [];
    for (let round = 0; round < 4; round++) {
      committed.push(...(await writeAndKill(script, file, 10)));
      checkIntegrity(file);
      const db = openLibrary(file);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.pragma('foreign_key_check')).toEqual([]);
      const prompts = listPrompts(db);
      const ids = prompts.map((p) => p.id);
      for (const id of committed) expect(ids).toContain(id);
      // Only the write in flight can be missing from what was printed; whatever is there is whole.
      expect(ids.length - committed.length).toBeLessThanOrEqual(round + 1);
      for (const p of prompts) {
        expect(p.tags).toEqual(['a', `t${p.name.slice(1)}`]);
        const row = db.prepare('SELECT embedding, task_embedding FROM prompts WHERE id = ?').get(p.id) as {
          embedding: Buffer;
          task_embedding: Buffer;
        };
        expect(new Set(fromBlob(row.embedding))).toEqual(new Set([Number(p.name.slice(1))]));
        expect(row.task_embedding.equals(row.embedding)).toBe(true);
      }
      db.close();
    }
    expect(committed.length).toBeGreaterThanOrEqual(40);
  });

  it('backs up with SQLite’s online backup into a new file that opens with the same prompts', async () => {
    const { db, dir } = freshLibrary();
    const ids = [addPrompt(db, 1, { tags: ['x'] }), addPrompt(db, 2)];
    const target = join(dir, 'backup.sqlite');
    const result = await backupLibrary(db, target);
    expect(result.bytes).toBeGreaterThan(0);
    await expect(backupLibrary(db, target)).rejects.toThrow('The backup file already exists');
    db.close();
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
    const copy = join(tempDir(), 'restored.sqlite');
    copyFileSync(target, copy);
    const restored = openLibrary(copy);
    expect(listPrompts(restored).map((p) => [p.id, p.tags])).toEqual([
      [ids[0], ['x']],
      [ids[1], []],
    ]);
    restored.close();
  });
});
