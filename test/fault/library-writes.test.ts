/**
 * The library is SIGKILLed in the middle of every kind of write it does (test/library/integrity.test.ts covers
 * prompt inserts with run progress): dataset import, rename/tag/note, deletes with reparenting and cascades, label
 * job chunk commits with corrections, model registration with tasks and run metrics. After each kill the file must
 * pass integrity_check and foreign_key_check, everything reported as committed must be there, and each mode's
 * invariant (which a torn transaction would break) must hold.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkIntegrity } from '../../main/library/backup.js';
import { mulberry32 } from '../../main/random.js';
import { listDatasets, splitCounts } from '../../main/library/datasets.js';
import { openLibrary, type LibraryDb } from '../../main/library/db.js';
import { getJob } from '../../main/label/jobs.js';
import { listPrompts } from '../../main/library/prompts.js';
import { listModels } from '../../main/library/models.js';
import { listRuns, runMetrics } from '../../main/library/runs.js';
import { listTasks } from '../../main/library/tasks.js';
import { repoRoot, tempDir } from '../checkpoint/helpers.js';
import { shared } from '../train/fixtures.js';
import { CHUNK, EDIT_PROMPTS, LABEL_JOB, MODEL_SLOTS, ROW_BYTES } from './library-writer-sizes.js';

const ROUNDS = 6;
let script = '';
let tinyCsv = '';

beforeAll(() => {
  const dir = tempDir();
  script = join(dir, 'writer.cjs');
  buildSync({
    entryPoints: [join(repoRoot, 'test/fault/library-writer.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    external: ['better-sqlite3'],
    outfile: script,
    logLevel: 'error',
  });
  tinyCsv = join(dir, 'tiny.csv');
  writeFileSync(tinyCsv, 'premise,hypothesis,label\nA cat sat.,A cat,yes\nTwo dogs.,No dog,no\n');
});

/** Runs the writer until it has printed at least `minLines` committed iterations (plus a seeded few), then SIGKILLs it. */
async function writeAndKill(file: string, mode: string, round: number, data: string, minLines: number): Promise<string[]> {
  const child = spawn(process.execPath, [script, file, mode, String(round), data], {
    env: { ...process.env, NODE_PATH: join(repoRoot, 'node_modules') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const target = minLines + Math.floor(mulberry32(round * 31 + mode.length)() * 20);
  const lines: string[] = [];
  let buffered = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<NodeJS.Signals | null>((done) => child.on('exit', (_code, signal) => done(signal)));
  await new Promise<void>((done, fail) => {
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      lines.push(...parts);
      if (lines.length >= target) {
        child.kill('SIGKILL');
        done();
      }
    });
    child.on('exit', () => fail(new Error(`the ${mode} writer exited by itself: ${stderr}`)));
  });
  expect(await exited).toBe('SIGKILL');
  return lines;
}

/** Kills the writer ROUNDS times on one library file, checking it after each kill. */
async function killRounds(mode: string, data: string, check: (db: LibraryDb, printed: string[], round: number) => void): Promise<number> {
  const file = join(tempDir(), 'library.sqlite');
  const printed: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    printed.push(...(await writeAndKill(file, mode, round, data, 5)));
    checkIntegrity(file);
    const db = openLibrary(file);
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.pragma('foreign_key_check')).toEqual([]);
      check(db, printed, round);
    } finally {
      db.close();
    }
  }
  return printed.length;
}

const count = (db: LibraryDb, sql: string, ...params: unknown[]) => (db.prepare(sql).get(...params) as { n: number }).n;
/** `r<round>-<i>` labels in write order. */
const order = (label: string) => {
  const [, round, i] = /^r(\d+)-(\d+)$/.exec(label)!.map(Number);
  return round * 1e9 + i;
};

describe('library killed during each kind of write', () => {
  it('dataset import: every reported import whole, no half-imported dataset', async () => {
    const cb = join(shared, 'data/cb/train.jsonl');
    const n = await killRounds('import', cb, (db, printed, round) => {
      const reported = new Map(printed.map((l) => l.split(' ').map(Number) as [number, number]));
      const datasets = listDatasets(db);
      for (const id of reported.keys()) expect(datasets.map((d) => d.id)).toContain(id);
      // Only an import that committed but had not printed yet can be extra.
      expect(datasets.length - reported.size).toBeLessThanOrEqual(round + 1);
      for (const d of datasets) {
        const counts = splitCounts(db, d.id);
        expect(counts.train + counts.validation).toBe(250);
        expect([d.report.rows, d.report.id]).toEqual([250, d.id]);
        expect(d.labelSet).toEqual(['contradiction', 'entailment', 'neutral']);
      }
    });
    expect(n).toBeGreaterThanOrEqual(5 * ROUNDS);
  });

  it('rename, tag and note: one generation tag per prompt, nothing older than what was reported', async () => {
    const n = await killRounds('edit', '', (db, printed) => {
      const prompts = listPrompts(db);
      expect(prompts).toHaveLength(EDIT_PROMPTS);
      const last = new Map(
        printed
          .filter((l) => l !== 'setup')
          .map((l) => l.split(' '))
          .map(([id, label]) => [Number(id), label]),
      );
      for (const p of prompts) {
        const gen = p.tags.filter((t) => t.startsWith('gen-'));
        expect(gen).toHaveLength(1);
        const reported = last.get(p.id);
        if (!reported) continue;
        const notes = (db.prepare('SELECT notes FROM prompts WHERE id = ?').get(p.id) as { notes: string }).notes;
        for (const label of [p.name, notes, gen[0].slice(4)]) expect(order(label)).toBeGreaterThanOrEqual(order(reported));
      }
    });
    expect(n).toBeGreaterThanOrEqual(5 * ROUNDS);
  });

  it('deletes: forced deletes reparent, cascades leave no orphan tags, rows or task links', async () => {
    const n = await killRounds('delete', tinyCsv, (db, printed, round) => {
      const prompts = listPrompts(db);
      const done = printed.length;
      // Each iteration keeps one prompt and deletes the rest; only the iteration in flight can leave more.
      expect(prompts.filter((p) => p.name.startsWith('keep-')).length).toBeGreaterThanOrEqual(done);
      expect(prompts.filter((p) => p.name.startsWith('del-')).length).toBeLessThanOrEqual(2 * (round + 1));
      for (const p of prompts.filter((q) => q.name.startsWith('keep-'))) {
        const parent = p.parentId === null ? null : prompts.find((q) => q.id === p.parentId);
        if (parent !== null) expect(parent?.name).toMatch(/^del-/);
      }
      expect(listDatasets(db).length).toBeLessThanOrEqual(round + 1);
      expect(count(db, 'SELECT count(*) AS n FROM prompt_tags WHERE prompt_id NOT IN (SELECT id FROM prompts)')).toBe(0);
      expect(count(db, 'SELECT count(*) AS n FROM dataset_rows WHERE dataset_id NOT IN (SELECT id FROM datasets)')).toBe(0);
      const linked = listTasks(db).filter((t) => t.datasetId !== null);
      expect(linked.length).toBeLessThanOrEqual(round + 1);
    });
    expect(n).toBeGreaterThanOrEqual(5 * ROUNDS);
  });

  it('label job chunk commits: rows, progress, output length and totals always agree; corrections saved whole', async () => {
    const n = await killRounds('label', '', (db, printed) => {
      const job = getJob(db, LABEL_JOB)!;
      const reported = Math.max(...printed.map(Number));
      expect(job.rowsDone).toBeGreaterThanOrEqual(reported);
      expect(job.rowsDone).toBeLessThanOrEqual(reported + CHUNK);
      expect(count(db, 'SELECT count(*) AS n FROM label_rows WHERE job_id = ?', LABEL_JOB)).toBe(job.rowsDone);
      expect(count(db, 'SELECT count(DISTINCT row) AS n FROM label_rows WHERE job_id = ? AND row < ?', LABEL_JOB, job.rowsDone)).toBe(
        job.rowsDone,
      );
      expect([job.stats.labelled, job.outputBytes]).toEqual([job.rowsDone, job.rowsDone * ROW_BYTES]);
      for (const d of listDatasets(db)) {
        const upTo = Number(/^fixed-(\d+)$/.exec(d.name)![1]);
        const corrected = count(
          db,
          'SELECT count(*) AS n FROM label_rows WHERE job_id = ? AND corrected IS NOT NULL AND row < ?',
          LABEL_JOB,
          upTo,
        );
        expect(splitCounts(db, d.id).train).toBe(corrected);
      }
    });
    expect(n).toBeGreaterThanOrEqual(5 * ROUNDS);
  });

  it('model registration, tasks, run progress and metrics: every row whole, no duplicate task', async () => {
    const n = await killRounds('register', '', (db, printed, round) => {
      for (const m of listModels(db)) {
        const i = Number(m.sha);
        expect([m.id, m.path, m.summary.parameters, m.summary.weightBytes]).toEqual([`hub/m${i % MODEL_SLOTS}`, `/models/${i}`, i, 4 * i]);
      }
      const tasks = listTasks(db);
      expect(new Set(tasks.map((t) => t.template)).size).toBe(tasks.length);
      const runs = listRuns(db);
      expect(runs).toHaveLength(round + 1);
      for (const run of runs) {
        const steps = runMetrics(db, run.id).map((m) => m.step);
        expect(steps).toEqual(Array.from({ length: steps.length }, (_, k) => k + 1));
        // The step is updated right after the metric is recorded, in its own transaction.
        expect(steps.length - run.step).toBeGreaterThanOrEqual(0);
        expect(steps.length - run.step).toBeLessThanOrEqual(1);
      }
      expect(runs.at(-1)!.step).toBeGreaterThanOrEqual(Number(printed.at(-1)));
    });
    expect(n).toBeGreaterThanOrEqual(5 * ROUNDS);
  });
});
