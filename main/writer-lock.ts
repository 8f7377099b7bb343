/**
 * One writer per training run and per labelling job, across processes (the app, `sprout serve`, `sprout train`,
 * `sprout label`) and across the app's worker threads. A writer holds an exclusive SQLite lock on
 * <data dir>/locks/<kind>-<id>.lock for as long as it writes. The operating system drops that lock when the
 * process ends however it ends, so a kill -9 leaves nothing stale behind and a reused pid cannot pose as the
 * owner (a pid file alone can do neither). <kind>-<id>.json beside it names the holder for the refusal message.
 */
import Database from 'better-sqlite3';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SproutError } from './errors.js';
import { tempPathBeside } from './temp-path.js';

export interface WriterTarget {
  dataDir: string;
  kind: 'run' | 'label-job';
  id: string | number;
}

/** What the holder does, in the refusal's words: "run 5 is being resumed by process 1234". */
export type WriterAction = 'trained' | 'resumed' | 'labelled';

export interface Writer {
  pid: number;
  action: WriterAction;
  since: string;
}

const describe: Record<WriterTarget['kind'], { noun: string; code: string; hint: string }> = {
  run: {
    noun: 'Run',
    code: 'run-elsewhere',
    hint: 'Wait for it to end, or stop it where it runs (Ctrl-C or Cancel keeps a checkpoint), then resume it.',
  },
  'label-job': {
    noun: 'Labelling job',
    code: 'label-job-elsewhere',
    hint: 'Wait for it to end, or stop it where it runs (Ctrl-C or Cancel keeps every committed row), then resume it.',
  },
};

/** A probe may hold the lock for a moment; a claimant waits that long before it takes the lock for held. */
const CLAIM_WAIT_MS = 250;

function files(target: WriterTarget): { lock: string; holder: string } {
  const base = join(target.dataDir, 'locks', `${target.kind}-${target.id}`);
  return { lock: `${base}.lock`, holder: `${base}.json` };
}

const isBusy = (error: unknown) =>
  (error as { code?: string }).code === 'SQLITE_BUSY' || (error as { code?: string }).code === 'SQLITE_LOCKED';

/** Who holds the target, read from the holder file; null fields when it was not written yet. */
function holderOf(file: string): Writer | null {
  try {
    const w = JSON.parse(readFileSync(file, 'utf8')) as Partial<Writer>;
    return Number.isInteger(w.pid) && typeof w.action === 'string' && typeof w.since === 'string' ? (w as Writer) : null;
  } catch {
    return null;
  }
}

function busyError(target: WriterTarget, writer: Writer | null): SproutError {
  const { noun, code, hint } = describe[target.kind];
  const who = writer ? `is being ${writer.action} by process ${writer.pid} (since ${writer.since})` : 'is being written by another process';
  return new SproutError(code, `${noun} ${target.id} ${who}; it has one writer at a time.`, { hint });
}

/**
 * Makes this caller the target's one writer, or throws `run-elsewhere` / `label-job-elsewhere` at once when another
 * holds it (in this process or another). The returned function lets go; call it on every path out.
 */
export function claimWriter(target: WriterTarget, action: WriterAction): () => void {
  const { lock, holder } = files(target);
  mkdirSync(join(target.dataDir, 'locks'), { recursive: true });
  const db = new Database(lock, { timeout: CLAIM_WAIT_MS });
  try {
    db.pragma('journal_mode = OFF');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if (isBusy(error)) throw busyError(target, holderOf(holder));
    throw error;
  }
  const tmp = tempPathBeside(holder);
  writeFileSync(tmp, `${JSON.stringify({ pid: process.pid, action, since: new Date().toISOString() } satisfies Writer)}\n`);
  renameSync(tmp, holder);
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    rmSync(holder, { force: true });
    db.close();
  };
}

/** Whether a writer holds the target (in this process or another) and, when it said so, who. Creates nothing. */
function probe(target: WriterTarget): { held: false } | { held: true; writer: Writer | null } {
  const { lock, holder } = files(target);
  let db: Database.Database;
  try {
    db = new Database(lock, { timeout: 0, fileMustExist: true });
  } catch {
    return { held: false };
  }
  try {
    db.exec('BEGIN IMMEDIATE');
    db.exec('ROLLBACK');
    return { held: false };
  } catch (error) {
    if (!isBusy(error)) throw error;
    return { held: true, writer: holderOf(holder) };
  } finally {
    db.close();
  }
}

/** Whether a writer holds the target now: the app tells a run another process trains from one a crash left behind. */
export function isWritten(target: WriterTarget): boolean {
  return probe(target).held;
}

/** Throws the same refusal as `claimWriter` when another holds the target: a check before minutes of model loading. */
export function refuseIfWritten(target: WriterTarget): void {
  const state = probe(target);
  if (state.held) throw busyError(target, state.writer);
}
