/**
 * One writer per run and per labelling job across processes: while one `sprout train --resume R` (or
 * `sprout label --resume J`) holds the run, a second is refused at once, naming the first one's pid, and the run
 * ends with one prompt (the job with each row once). The holder is held still with SIGSTOP while the second
 * starts, so the two overlap however fast or slow the machine is; a SIGKILLed holder leaves no lock behind.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { libraryPath, openLibrary } from '../../main/library/db.js';
import { data, tempDir, tinyModel } from '../label/helpers.js';
import { writePromptFiles } from '../label/prompt-fixture.js';
import { sprout, type Exit } from './spawn.js';
import { shared } from '../train/fixtures.js';

/** Starts `args`; once a stderr line matches `hold`, stops it (SIGSTOP) and runs `second` beside it, then lets it go on. */
async function overlap(args: string[], home: string, hold: RegExp, second: string[]): Promise<{ first: Exit; second: Exit; pid: number }> {
  let secondRun!: Promise<Exit>;
  let pid = 0;
  const first = await sprout(args, home, (line, kill, childPid) => {
    if (pid || !hold.test(line)) return;
    pid = childPid;
    kill('SIGSTOP');
    secondRun = sprout(second, home).finally(() => kill('SIGCONT'));
  });
  expect(pid, first.stderr).toBeGreaterThan(0);
  return { first, second: await secondRun, pid };
}

/** Runs `args` and SIGKILLs it once a stderr line matches `at`. */
async function killAt(args: string[], home: string, at: RegExp): Promise<Exit> {
  const killed = await sprout(args, home, (line, kill) => at.test(line) && kill('SIGKILL'));
  expect(killed.signal, killed.stderr).toBe('SIGKILL');
  return killed;
}

const count = (home: string, sql: string, ...params: unknown[]): number => {
  const db = openLibrary(libraryPath(home));
  try {
    return (db.prepare(sql).get(...params) as { n: number }).n;
  } finally {
    db.close();
  }
};

/** A few steps of the tiny T5 that checkpoint every other step: just enough to resume from a checkpoint. */
const train = [
  'train',
  '--model',
  tinyModel,
  '--device',
  'cpu',
  '--threads',
  '1',
  '--data',
  join(shared, 'data/cb/train.jsonl'),
  // CB's first 23 rows are all entailment: 40 hold other labels too, which training needs.
  '--limit',
  '40',
  '--text-column',
  'premise',
  '--label-column',
  'label',
  '--max-input-length',
  '32',
  '--prompt-length',
  '2',
  '--batch-size',
  '2',
  '--steps',
  '8',
  '--checkpoint-every',
  '2',
];

describe('one writer per run and per job', () => {
  it('a second `sprout train --resume R` is refused at once while the first trains; the run keeps one prompt', async () => {
    const home = tempDir('sprout-writer-');
    const killed = await killAt(train, home, /^step [2-9]\d*\//);
    const runId = /^run (\d+):/m.exec(killed.stderr)![1];
    const resume = ['train', '--resume', runId];
    const { first, second, pid } = await overlap(resume, home, new RegExp(`^run ${runId}\\b`), resume);
    expect(second.code, second.stderr).not.toBe(0);
    expect(second.stderr).toContain(`Run ${runId} is being resumed by process ${pid}`);
    // Refused before loading anything: it never reported the run starting.
    expect(second.stderr).not.toMatch(/^run \d+ resumed/m);
    expect(first.code, first.stderr).toBe(0);
    expect(count(home, 'SELECT count(*) AS n FROM prompts WHERE run_id = ?', Number(runId))).toBe(1);
  });

  it('a second `sprout label --resume J` is refused at once while the first labels; every row is stored once', async () => {
    const home = tempDir('sprout-writer-');
    const [promptFile] = await writePromptFiles(home, [1]);
    // Outside the data folder (SPROUT_HOME), as a person's output must be.
    const output = join(tempDir('sprout-writer-out-'), 'cb-val.csv');
    const start = [
      'label',
      '--prompt-file',
      promptFile,
      '--model',
      tinyModel,
      '--labels',
      'entailment,not_entailment',
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
    const killed = await killAt(start, home, /^label-\w+: 0\/56 rows/);
    const jobId = /^(label-\w+):/m.exec(killed.stderr)![1];
    const resume = ['label', '--resume', jobId, '--device', 'cpu'];
    const { first, second, pid } = await overlap(resume, home, new RegExp(`^${jobId}: \\d+/56 rows`), resume);
    expect(second.code, second.stderr).not.toBe(0);
    expect(second.stderr).toContain(`Labelling job ${jobId} is being resumed by process ${pid}`);
    expect(second.stderr).not.toContain('labelling on');
    expect(first.code, first.stderr).toBe(0);
    expect(count(home, 'SELECT count(DISTINCT row) AS n FROM label_rows WHERE job_id = ?', jobId)).toBe(56);
    expect(count(home, 'SELECT count(*) AS n FROM label_rows WHERE job_id = ?', jobId)).toBe(56);
    // Python's csv module reads the output: a header and each row once.
    const rows = execFileSync(
      'python3',
      ['-c', 'import csv, sys; print(sum(1 for _ in csv.reader(open(sys.argv[1], newline=""))))', output],
      { encoding: 'utf8' },
    );
    expect(Number(rows)).toBe(56 + 1);
  });
});
