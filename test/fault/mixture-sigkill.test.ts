/**
 * A mixture killed with SIGKILL, then `--resume`d, ends with the prompts an uninterrupted mixture keeps: the same
 * float32 bits in each prompt file and library row, the same losses and evaluations recorded.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importDataset } from '../../main/library/import-dataset.js';
import { libraryPath, openLibrary } from '../../main/library/db.js';
import { runMetrics } from '../../main/library/runs.js';
import { loadCheckpoint, PROMPT_TENSOR } from '../../main/train/run-store.js';
import { readTensorFile } from '../../main/train/tensor-file.js';
import { shared, tinyModel } from '../train/fixtures.js';
import { lastJson, sprout, type Exit } from './spawn.js';

const STEPS = 30;

/** The first lines of one of ../shared/data's files, as they are. */
function head(from: string, n: number): string {
  const file = join(mkdtempSync(join(tmpdir(), 'sprout-fault-data-')), from.replace('/', '-'));
  writeFileSync(
    file,
    `${readFileSync(join(shared, 'data', from), 'utf8')
      .split('\n')
      .slice(0, n)
      .join('\n')}\n`,
  );
  return file;
}

/** A home with CB and RTE imported as datasets 1 and 2 (the first rows of their own files). */
async function homeWithData(): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), 'sprout-fault-mixture-'));
  const db = openLibrary(libraryPath(home));
  try {
    await importDataset(db, head('cb/train.jsonl', 40), {
      name: 'cb',
      template: '{premise} {hypothesis}',
      labelColumn: 'label',
      validationFile: head('cb/val.jsonl', 8),
    });
    await importDataset(db, head('rte/train.tsv', 41), {
      name: 'rte',
      template: '{sentence1} {sentence2}',
      labelColumn: 'label',
      quoting: 'none',
      validationFile: head('rte/dev.tsv', 9),
    });
  } finally {
    db.close();
  }
  return home;
}

const args = [
  'train',
  '--model',
  tinyModel,
  '--device',
  'cpu',
  '--threads',
  '1',
  '--mixture',
  'dataset:1',
  '--mixture',
  'dataset:2',
  '--max-input-length',
  '64',
  '--prompt-length',
  '4',
  '--batch-size',
  '4',
  '--steps',
  String(STEPS),
  '--eval-every',
  '10',
  '--checkpoint-every',
  '3',
  '--seed',
  '11',
  '--dropout',
  '0.1',
];

function outcome(home: string, run: Exit) {
  const summary = lastJson(run) as { run_id: number; status: string; tasks: { prompt_id: number; prompt_file: string; best: unknown }[] };
  const db = openLibrary(libraryPath(home));
  try {
    const blobs = summary.tasks.map(
      (t) => (db.prepare('SELECT embedding FROM prompts WHERE id = ?').get(t.prompt_id) as { embedding: Buffer }).embedding,
    );
    const files = summary.tasks.map((t) =>
      Buffer.from((readTensorFile(t.prompt_file).tensors.get(PROMPT_TENSOR)!.data as Float32Array).buffer),
    );
    return { summary, blobs, files, metrics: runMetrics(db, summary.run_id) };
  } finally {
    db.close();
  }
}

describe('a mixture survives SIGKILL', () => {
  let baseline: ReturnType<typeof outcome>;

  beforeAll(async () => {
    const home = await homeWithData();
    const straight = await sprout(args, home);
    expect(straight.code, straight.stderr).toBe(0);
    baseline = outcome(home, straight);
  });

  it('killed after step 13, resumed, the same prompts bit for bit', { timeout: 180_000 }, async () => {
    const home = await homeWithData();
    let sent = false;
    const killed = await sprout(args, home, (line, kill) => {
      const m = /^step (\d+)\//.exec(line);
      if (!sent && m && Number(m[1]) >= 13) {
        sent = true;
        kill('SIGKILL');
      }
    });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const runId = /^run (\d+)/m.exec(killed.stderr)![1];
    const saved = loadCheckpoint(join(home, 'runs', runId))!.step;
    expect(saved).toBeGreaterThan(0);
    const resumed = await sprout(['train', '--resume', runId], home);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`run ${runId} resumed at step ${saved}:`);
    const got = outcome(home, resumed);
    expect(got.summary.status).toBe('completed');
    got.files.forEach((f, k) => expect(f.equals(baseline.files[k])).toBe(true));
    got.blobs.forEach((b, k) => expect(b.equals(baseline.blobs[k])).toBe(true));
    expect(got.metrics).toEqual(baseline.metrics);
    expect(got.summary.tasks.map((t) => t.best)).toEqual(baseline.summary.tasks.map((t) => t.best));
  });
});
