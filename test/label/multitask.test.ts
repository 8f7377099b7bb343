import { execFile, spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLabelJob, type LabelEngine } from '../../main/label/job.js';
import { promptFromLibrary } from '../../main/label/library-prompt.js';
import { libraryPath, openLibrary, type LibraryDb } from '../../main/library/db.js';
import { insertPrompt } from '../../main/library/prompts.js';
import { insertTask } from '../../main/library/tasks.js';
import { loadPromptModel } from '../../main/runtime/model.js';
import type { PromptModel } from '../../main/runtime/types.js';
import { loadTokenizer } from '../../main/tokenizer/index.js';
import { readJob, waitForJob } from './job-row.js';
import { data, fixedPrompt, repoRoot, tempDir, tinyModel } from './helpers.js';

const run = promisify(execFile);
const cli = join(repoRoot, 'out/cli.js');
const readJsonl = (file: string) =>
  readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, any>);
const toJsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

let model: PromptModel;
let dir: string;
/** A mixed file: CB rows (premise, hypothesis), SST-2 rows (sentence) and two rows of a task with no prompt. */
let mixedFile: string;
let cbRows: Record<string, string>[];
let sstRows: Record<string, string>[];

beforeAll(async () => {
  model = await loadPromptModel(tinyModel, { device: 'cpu' });
  dir = tempDir();
  cbRows = readJsonl(data('cb/val.jsonl'))
    .slice(0, 30)
    .map((r) => ({ task: 'cb', premise: r.premise, hypothesis: r.hypothesis }));
  sstRows = readFileSync(data('sst2/dev.tsv'), 'utf8')
    .split('\n')
    .slice(1, 41)
    .map((l) => ({ task: 'sst2', sentence: l.split('\t')[0] }));
  // Every record has every column (as a CSV would); the other task's columns are empty.
  const row = (r: Record<string, string>) => ({
    task: r.task,
    premise: r.premise ?? '',
    hypothesis: r.hypothesis ?? '',
    sentence: r.sentence ?? '',
  });
  const mixed: Record<string, string>[] = [];
  for (let i = 0; i < 40; i++) {
    if (i < cbRows.length) mixed.push(row(cbRows[i]));
    mixed.push(row(sstRows[i]));
    if (i === 5 || i === 20) mixed.push(row({ task: 'qqp', sentence: 'a task without a prompt' }));
  }
  mixedFile = join(dir, 'mixed.jsonl');
  writeFileSync(mixedFile, toJsonl(mixed));
});
afterAll(() => model.dispose());

/** Two library prompts with their tasks: CB (two columns, verbaliser yes/no/maybe) and SST-2 (one column). */
function library(home: string): { db: LibraryDb; cb: number; sst: number } {
  const db = openLibrary(libraryPath(home));
  const modelRef = { id: null, path: tinyModel, summary: null };
  const cbTask = insertTask(db, {
    name: 'cb',
    datasetId: null,
    template: 'premise: {premise} hypothesis: {hypothesis}',
    verbalizer: { entailment: 'yes', contradiction: 'no', neutral: 'maybe' },
    labelSet: ['entailment', 'contradiction', 'neutral'],
  });
  const sstTask = insertTask(db, {
    name: 'sst2',
    datasetId: null,
    template: 'sentence: {sentence}',
    verbalizer: { negative: 'negative', positive: 'positive' },
    labelSet: ['negative', 'positive'],
  });
  const cb = insertPrompt(db, {
    name: 'cb',
    model: modelRef,
    length: 4,
    dModel: 64,
    embedding: fixedPrompt(model, 4, 1).data,
    init: 'random',
    taskId: cbTask.id,
  });
  const sst = insertPrompt(db, {
    name: 'sst2',
    model: modelRef,
    length: 6,
    dModel: 64,
    embedding: fixedPrompt(model, 6, 2).data,
    init: 'random',
    taskId: sstTask.id,
  });
  return { db, cb, sst };
}

async function engineOf(db: LibraryDb, ids: number[]): Promise<LabelEngine> {
  return {
    model,
    tokenizer: await loadTokenizer(tinyModel),
    modelRef: tinyModel,
    prompts: ids.map((id) => promptFromLibrary(db, String(id)).prompt),
  };
}

describe('a multi-task labelling job', () => {
  it("labels each row with its task's prompt in one pass, as separate jobs per task would", async () => {
    const home = tempDir();
    const { db, cb, sst } = library(home);
    const cbOut = join(dir, 'cb-alone.jsonl');
    const sstOut = join(dir, 'sst-alone.jsonl');
    await startLabelJob(db, await engineOf(db, [cb]), { input: writeRows('cb.jsonl', cbRows), output: cbOut, batchSize: 8 });
    await startLabelJob(db, await engineOf(db, [sst]), { input: writeRows('sst.jsonl', sstRows), output: sstOut, batchSize: 8 });
    const out = join(dir, 'mixed-out.jsonl');
    const summary = await startLabelJob(db, await engineOf(db, [cb, sst]), {
      input: mixedFile,
      output: out,
      batchSize: 8,
      commitRows: 16,
      routing: { by: 'task-column', column: 'task', keys: ['cb', 'sst2'] },
    });
    expect(summary).toMatchObject({
      status: 'done',
      rows: 72,
      labelled: 70,
      skipped: 2,
      skipped_reasons: { 'no prompt for task "qqp"': 2 },
    });
    const rows = readJsonl(out);
    const alone = { cb: readJsonl(cbOut), sst2: readJsonl(sstOut) };
    const seen = { cb: 0, sst2: 0 };
    const union = ['entailment', 'contradiction', 'neutral', 'negative', 'positive'];
    for (const row of rows) {
      expect(Object.keys(row).slice(-8)).toEqual(['predicted_label', 'confidence', ...union.map((l) => `p_${l}`), 'skipped_reason']);
      if (row.task === 'qqp') {
        expect(row).toMatchObject({ predicted_label: null, skipped_reason: 'no prompt for task "qqp"' });
        continue;
      }
      const expected = alone[row.task as 'cb' | 'sst2'][seen[row.task as 'cb' | 'sst2']++];
      expect(row.predicted_label).toBe(expected.predicted_label);
      for (const l of union) {
        if (expected[`p_${l}`] === undefined) expect(row[`p_${l}`]).toBeNull();
        else expect(Math.abs(row[`p_${l}`] - expected[`p_${l}`])).toBeLessThan(2e-6);
      }
    }
    expect(seen).toEqual({ cb: 30, sst2: 40 });
    const counted = Object.values(summary.label_counts).reduce((a, b) => a + b, 0);
    expect(counted).toBe(70);
    expect(
      Object.keys(summary.label_counts).every((k) => /^(cb:(entailment|contradiction|neutral)|sst2:(negative|positive))$/.test(k)),
    ).toBe(true);
    db.close();
  });

  it('labels several text columns with their own prompts into suffixed columns', async () => {
    const home = tempDir();
    const { db, sst } = library(home);
    // A second one-column prompt: the SST-2 task read from another column.
    const input = writeRows(
      'pairs.jsonl',
      sstRows.slice(0, 20).map((r, i) => ({ first: r.sentence, second: i === 3 ? '' : sstRows[39 - i].sentence })),
    );
    const out = join(dir, 'pairs-out.jsonl');
    const summary = await startLabelJob(db, await engineOf(db, [sst, sst]), {
      input,
      output: out,
      batchSize: 8,
      routing: { by: 'text-column', columns: ['first', 'second'] },
    });
    expect(summary).toMatchObject({ rows: 20, labelled: 20, skipped_reasons: { 'second: empty text': 1 } });
    const rows = readJsonl(out);
    expect(Object.keys(rows[0])).toEqual([
      'first',
      'second',
      'predicted_label_first',
      'confidence_first',
      'p_negative_first',
      'p_positive_first',
      'predicted_label_second',
      'confidence_second',
      'p_negative_second',
      'p_positive_second',
      'skipped_reason',
    ]);
    const alone = join(dir, 'sst-first40.jsonl');
    await startLabelJob(db, await engineOf(db, [sst]), { input: writeRows('sst40.jsonl', sstRows), output: alone, batchSize: 8 });
    const single = readJsonl(alone);
    rows.forEach((row, i) => {
      expect(Math.abs(row.p_positive_first - single[i].p_positive)).toBeLessThan(2e-6);
      if (i === 3)
        expect(row).toMatchObject({ predicted_label_second: null, p_positive_second: null, skipped_reason: 'second: empty text' });
      else expect(Math.abs(row.p_positive_second - single[39 - i].p_positive)).toBeLessThan(2e-6);
    });
    // A two-column template cannot be pointed at one column.
    const twoColumns = promptFromLibrary(db, 'cb').prompt;
    await expect(
      startLabelJob(
        db,
        { ...(await engineOf(db, [])), prompts: [twoColumns] },
        { input, output: join(dir, 'no.jsonl'), routing: { by: 'text-column', columns: ['first'] } },
      ),
    ).rejects.toThrow(/reads 2 columns/);
    db.close();
  });

  it('resumes after kill -9 to a file byte-identical to an uninterrupted run (CLI)', async () => {
    const args = (out: string) => [
      'label',
      '--task-column',
      'task',
      '--prompt',
      'cb=cb',
      '--prompt',
      'sst2=sst2',
      '--input',
      mixedFile,
      '--output',
      out,
      '--batch-size',
      '4',
      '--commit-every',
      '4',
      '--device',
      'cpu',
    ];
    const homeWhole = tempDir();
    library(homeWhole).db.close();
    const whole = join(dir, 'whole.csv');
    const { stdout } = await run(process.execPath, [cli, ...args(whole)], { env: { ...process.env, SPROUT_HOME: homeWhole } });
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toMatchObject({ status: 'done', rows: 72, labelled: 70 });
    expect(readFileSync(whole, 'utf8').split('\n')[0]).toBe(
      'task,premise,hypothesis,sentence,predicted_label,confidence,p_entailment,p_contradiction,p_neutral,p_negative,p_positive,skipped_reason',
    );

    const home = tempDir();
    library(home).db.close();
    const cut = join(dir, 'cut.csv');
    const child = spawn(process.execPath, [cli, ...args(cut)], { env: { ...process.env, SPROUT_HOME: home }, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    await waitForJob(libraryPath(home), child, (j) => j.rows_done >= 24);
    child.kill('SIGKILL');
    await exited;
    const job = readJob(libraryPath(home))!;
    expect(job.status).toBe('running');
    expect(job.rows_done).toBeLessThan(72);
    expect(statSync(cut).size).toBeGreaterThanOrEqual(job.output_bytes);
    const resumed = await run(process.execPath, [cli, 'label', '--resume', job.id, '--device', 'cpu'], {
      env: { ...process.env, SPROUT_HOME: home },
    });
    expect(JSON.parse(resumed.stdout.trim().split('\n').pop()!)).toMatchObject({ status: 'done', rows: 72, labelled: 70, skipped: 2 });
    expect(readFileSync(cut).equals(readFileSync(whole))).toBe(true);
  });
});

function writeRows(name: string, rows: object[]): string {
  const file = join(dir, name);
  writeFileSync(file, toJsonl(rows));
  return file;
}
