/**
 * What the app shows for work of another process and for transfer probes: a `sprout train` going on beside the
 * app is "running" (not "interrupted") until it is killed; a probe's prompt is neither a library prompt nor a
 * transfer source; a prompt trained on a symlinked path of the app's model folder is a transfer source.
 */
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listPrompts } from '../../main/library/prompts.js';
import { createRun } from '../../main/library/runs.js';
import { rankSources, sameBaseModel } from '../../main/transfer/rank.js';
import { sprout, type Exit } from '../fault/spawn.js';
import { writePromptFiles } from '../label/prompt-fixture.js';
import { addPrompt, freshLibrary, TINY_MODEL } from '../library/helpers.js';
import { data, Harness, tinyModel } from './harness.js';

describe('a run of another process', () => {
  const h = new Harness();
  afterAll(() => h.close());

  it('is running while `sprout train` trains it, interrupted once that process was killed, and not resumable meanwhile', async () => {
    let kill!: (s: NodeJS.Signals) => void;
    let stepped!: () => void;
    const atStep = new Promise<void>((resolve) => (stepped = resolve));
    const args = [
      'train',
      '--model',
      tinyModel,
      '--device',
      'cpu',
      '--threads',
      '1',
      '--data',
      data('cola/in_domain_train.tsv'),
      '--no-header',
      '--quoting',
      'none',
      '--limit',
      '64',
      '--text-column',
      '3',
      '--label-column',
      '1',
      '--verbalizer',
      '0=unacceptable,1=acceptable',
      '--prompt-length',
      '2',
      '--batch-size',
      '2',
      '--steps',
      '1000000',
      '--checkpoint-every',
      '1000000',
      '--name',
      'cli-run',
    ];
    const exited: Promise<Exit> = sprout(args, h.home, (line, k) => {
      kill = k;
      if (/^time estimate: /.test(line)) stepped();
    });
    await atStep;
    try {
      const [running] = (await h.call('train.list', {})).filter((r) => r.name === 'cli-run');
      expect(running.status).toBe('running');
      expect(await h.failure('train.resume', { runId: running.runId })).toBe('run-elsewhere');
    } finally {
      kill('SIGKILL');
    }
    expect((await exited).signal).toBe('SIGKILL');
    const [after] = (await h.call('train.list', {})).filter((r) => r.name === 'cli-run');
    expect(after.status).toBe('interrupted');
  });

  it('a labelling job `sprout label` runs cannot be resumed or cancelled in the app meanwhile', async () => {
    const [promptFile] = await writePromptFiles(h.scratch, [1]);
    let kill!: (s: NodeJS.Signals) => void;
    let held!: (pid: number) => void;
    const holding = new Promise<number>((resolve) => (held = resolve));
    const args = [
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
      join(h.scratch, 'cb.csv'),
    ];
    const exited = sprout(args, h.home, (line, k, pid) => {
      kill = k;
      // Held still at its first progress line, so the app's calls meet it however slow the machine is.
      if (/^label-\w+: 0\//.test(line)) {
        k('SIGSTOP');
        held(pid);
      }
    });
    // A job that ends without that line fails here with its stderr, not at the test's timeout.
    const pid = await Promise.race([holding, exited]);
    if (typeof pid !== 'number') throw new Error(`sprout label ended before its first progress line:\n${pid.stderr}`);
    try {
      const [job] = await h.call('label.list', {});
      for (const op of ['label.resume', 'label.cancel'] as const) {
        await expect(h.call(op, { jobId: job.jobId })).rejects.toThrow(
          `label-job-elsewhere: Labelling job ${job.jobId} is being labelled by process ${pid}`,
        );
      }
      expect((await h.call('label.status', { jobId: job.jobId })).status).toBe('running');
    } finally {
      kill('SIGKILL');
      kill('SIGCONT');
    }
    expect((await exited).signal).toBe('SIGKILL');
  });
});

describe('transfer probes and model identity', () => {
  it('a probe run’s prompt is not listed and not ranked; a prompt from a symlinked model path is', () => {
    const { db } = freshLibrary();
    const folder = mkdtempSync(join(tmpdir(), 'sprout-model-'));
    const link = join(mkdtempSync(join(tmpdir(), 'sprout-link-')), 'model');
    symlinkSync(folder, link);
    const base = { id: 'local/model', path: folder, dModel: 4 };
    const probeRun = createRun(db, {
      taskId: null,
      modelId: null,
      modelPath: folder,
      config: { name: 'transfer probe', purpose: 'probe' },
      status: 'done',
      plannedSteps: 1,
    });
    const probe = addPrompt(db, 1, { model: { id: null, path: folder, summary: null }, runId: probeRun.id, name: 'transfer probe' });
    const fromCli = addPrompt(db, 2, { model: { id: null, path: link, summary: null }, name: 'trained by the CLI' });
    const other = addPrompt(db, 3, { model: TINY_MODEL, name: 'another model' });
    expect(listPrompts(db).map((p) => p.id)).toEqual([fromCli, other]);
    expect(sameBaseModel({ id: null, path: link, summary: null }, 4, base)).toBe(true);
    expect(sameBaseModel({ id: 'local/other', path: link, summary: null }, 4, base)).toBe(true);
    expect(sameBaseModel({ id: null, path: link, summary: null }, 8, base)).toBe(false);
    const target = { length: 3, data: Float32Array.from({ length: 12 }, (_, i) => 1 + i / 8) };
    expect(rankSources(db, [{ matrix: target, init: null }], base, { metric: 'avg-token' }).map((s) => s.id)).toEqual([fromCli]);
    expect(probe).toBeGreaterThan(0);
  });
});
