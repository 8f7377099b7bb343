/**
 * The wizard's journey through the real handlers and dispatch, in process, with the built engine worker, a fresh
 * data folder and the fixture model: import, train with progress, pause/resume/cancel, evaluate, rank transfer
 * sources for a second task and train from the recommended one, label, review, correct, export, the library.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunStatus } from '../../preload/contract.js';
import { loadDatasetRows } from '../../main/library/datasets.js';
import { libraryPath, openLibrary } from '../../main/library/db.js';
import { aboveBaselines } from '../../main/transfer/recommend.js';
import { data, Harness, tinyModel } from './harness.js';

let h: Harness;
let modelId: string;
let cbId: number;
let rteId: number;
let cbRun: RunStatus;
let cbPrompt: number;

const quick = { promptLength: 4, batchSize: 4, evalLimit: 8, seed: 1 } as const;

beforeAll(async () => {
  h = new Harness();
  await h.call('settings.set', { defaultDevice: 'cpu', threads: 1 });
});

afterAll(async () => {
  await h.close();
});

describe('settings and device', () => {
  it('persists settings in the data folder and reports the provider in use', async () => {
    const settings = await h.call('settings.get', {});
    expect(settings).toMatchObject({ dataDir: h.home, defaultDevice: 'cpu', threads: 1, theme: 'system' });
    expect(JSON.parse(readFileSync(join(h.home, 'settings.json'), 'utf8'))).toMatchObject({ defaultDevice: 'cpu', threads: 1 });
    const doctor = await h.call('doctor', {});
    expect(doctor.chosenProvider).toMatchObject({ name: 'cpu', threads: 1, label: 'CPU · 1 thread' });
    expect(await h.failure('settings.set', { hubEndpoint: 'ftp://example.org' })).toBe('invalid-request');
  });
});

describe('models', () => {
  it('imports the fixture folder, lists and verifies it, and refuses relative or missing paths', async () => {
    const model = await h.call('model.import', { path: tinyModel });
    modelId = model.id;
    expect(model).toMatchObject({ id: 'local/tiny-t5-v1_1', path: tinyModel, present: true });
    expect((await h.call('model.list', {})).map((m) => m.id)).toEqual([modelId]);
    expect(await h.call('model.verify', { id: modelId })).toMatchObject({ id: modelId, ok: true, checkedFiles: 0 });
    expect(await h.failure('model.import', { path: 'fixtures/tiny-t5-v1_1' })).toBe('bad-path');
    expect(await h.failure('model.import', { path: `${tinyModel}/../tiny-t5-v1_1` })).toBe('bad-path');
    expect(await h.failure('model.import', { path: join(h.scratch, 'nothing-here') })).toBe('file-not-found');
    const catalogue = await h.call('model.catalogue', {});
    expect(catalogue.length).toBeGreaterThan(5);
    expect(catalogue.every((c) => c.downloadJobId === null)).toBe(true);
  });
});

describe('data', () => {
  it('previews CB with a suggested mapping and label counts', async () => {
    const preview = await h.call('data.preview', { file: data('cb/train.jsonl'), rows: 3 });
    expect(preview.rows).toBe(250);
    expect(preview.firstRows).toHaveLength(3);
    expect(preview.labelColumn).toBe('label');
    expect(preview.suggestion.textColumns).toEqual(['premise', 'hypothesis']);
    expect(Object.values(preview.labels!).reduce((a, b) => a + b, 0)).toBe(250);
    expect(await h.failure('data.preview', { file: data('cb') })).toBe('not-a-file');
  });

  it('imports CB with its validation file, reporting progress and storing the rows', async () => {
    const report = await h.call('data.import', {
      file: data('cb/train.jsonl'),
      validationFile: data('cb/val.jsonl'),
      textColumns: ['premise', 'hypothesis'],
      labelColumn: 'label',
      name: 'cb',
    });
    cbId = report.datasetId;
    expect(report).toMatchObject({
      rows: 306,
      splits: { train: 250, validation: 56, test: 0 },
      labelColumn: 'label',
      textColumns: ['premise', 'hypothesis'],
    });
    expect(Object.keys(report.labels).sort()).toEqual(['contradiction', 'entailment', 'neutral']);
    const progress = h.payloads('import.progress', (p) => p.file === data('cb/train.jsonl'));
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)!.rows).toBeGreaterThan(0);
    const shown = await h.call('data.show', { id: cbId, split: 'validation', limit: 5 });
    expect(shown).toMatchObject({ totalRows: 56, labelSet: ['contradiction', 'entailment', 'neutral'] });
    expect(shown.rows).toHaveLength(5);
    expect(shown.rows[0].text).toContain('hypothesis:');
    const rte = await h.call('data.import', {
      file: data('rte/dev.tsv'),
      textColumns: ['sentence1', 'sentence2'],
      labelColumn: 'label',
      name: 'rte',
      split: 0.2,
    });
    rteId = rte.datasetId;
    expect(rte.rows).toBe(277);
    expect((await h.call('data.list', {})).map((d) => d.name)).toEqual(['cb', 'rte']);
  });
});

describe('training', () => {
  it('trains 6 steps with evaluations every 3, streaming progress, and stores the prompt', async () => {
    const started = await h.call('train.start', { modelId, datasetId: cbId, steps: 6, evalEvery: 3, name: 'cb first', ...quick });
    // Default weights are bf16 on the CPU, converted from the float32 fixture first: the run answers as starting.
    expect(started).toMatchObject({ status: 'starting', preparing: { weights: 'bf16', phase: 'convert' } });
    const runId = started.runId;
    await h.waitFor('training.progress', (p) => p.runId === runId && p.status === 'done');
    const events = h.payloads('training.progress', (p) => p.runId === runId);
    const steps = events.filter((p) => p.loss !== null && p.eval === undefined && p.status === 'running').map((p) => p.step);
    expect(steps).toEqual([1, 2, 3, 4, 5, 6]);
    // The Train step's time estimate: from step 2 on, the first step (which also builds the sessions) left out.
    expect(events.find((p) => p.step === 1 && p.loss !== null)!.stepSeconds).toBeNull();
    expect(events.find((p) => p.step === 2 && p.loss !== null)!.stepSeconds).toBeGreaterThan(0);
    expect(events.filter((p) => p.eval).map((p) => p.eval!.step)).toEqual([3, 6]);
    expect(events.at(-1)).toMatchObject({ status: 'done', step: 6, totalSteps: 6 });
    cbRun = await h.call('train.status', { runId });
    expect(cbRun).toMatchObject({
      status: 'done',
      step: 6,
      totalSteps: 6,
      providerDetail: 'CPU · 1 thread',
      labels: ['contradiction', 'entailment', 'neutral'],
    });
    expect(cbRun.evals.map((e) => e.step)).toEqual([3, 6]);
    expect(cbRun.losses.length).toBeGreaterThan(0);
    expect(cbRun.promptId).not.toBeNull();
    cbPrompt = cbRun.promptId!;
    // CB's labels are imbalanced (few "neutral"), so auto keeps by macro-F1; the majority baseline is over the
    // 8 validation examples evaluated, counted here by Python's json module.
    const firstEight = JSON.parse(
      execFileSync(
        'python3',
        [
          '-c',
          'import json,sys\nprint(json.dumps([json.loads(l)["label"] for l in open(sys.argv[1]) if l.strip()][:8]))',
          data('cb/val.jsonl'),
        ],
        { encoding: 'utf8' },
      ),
    ) as string[];
    const top = Math.max(...['contradiction', 'entailment', 'neutral'].map((l) => firstEight.filter((x) => x === l).length));
    expect(cbRun.judgement.metric?.metric).toBe('macro_f1');
    expect(cbRun.judgement.baselines.majority?.share).toBeCloseTo(top / 8, 6);
    expect(cbRun.judgement.baselines.zero_shot).toMatchObject({ step: 0, examples: 8 });
    const prompt = await h.call('library.show', { id: cbPrompt });
    expect(prompt).toMatchObject({ runId, modelId, length: 4, name: 'cb first', task: { datasetId: cbId } });
    expect((await h.call('train.list', {})).map((r) => r.runId)).toContain(runId);
  });

  it('pauses, resumes and cancels a run, then resumes it from its checkpoint to the end', async () => {
    // Enough steps that the cancel lands part way (it comes a few steps after the resume), few enough that the
    // resumed run's rest stays a small part of the timeout on a busy machine.
    const steps = 40;
    const run = await h.call('train.start', { modelId, datasetId: cbId, steps, evalEvery: steps, ...quick });
    const runId = run.runId;
    await h.waitFor('training.progress', (p) => p.runId === runId && p.step >= 2);
    // Pause answers once the trainer has stopped between steps, so the step it reports no longer moves.
    const held = await h.call('train.pause', { runId });
    expect(held.status).toBe('paused');
    const heldAt = held.step;
    expect(h.payloads('training.progress', (p) => p.runId === runId).at(-1)).toMatchObject({ status: 'paused', step: heldAt });
    expect((await h.call('train.status', { runId })).step).toBe(heldAt);
    // A paused run makes no progress, so it shows no rate and no time left.
    expect(await h.call('train.status', { runId })).toMatchObject({ stepsPerSecond: null, examplesPerSecond: null, etaSeconds: null });
    expect((await h.call('train.resume', { runId })).status).toBe('running');
    await h.waitFor('training.progress', (p) => p.runId === runId && p.step >= heldAt + 2);
    const cancelled = await h.call('train.cancel', { runId });
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.promptId).toBeNull();
    expect(cancelled.step).toBeLessThan(steps);
    expect(await h.failure('train.pause', { runId })).toBe('run-not-running');
    const resumed = await h.call('train.resume', { runId });
    // The resumed run first verifies the bf16 weights converted for the runs before it, so it answers as starting.
    expect(resumed).toMatchObject({ status: 'starting', preparing: { weights: 'bf16', phase: 'verify' } });
    expect(resumed.step).toBeGreaterThan(0);
    await h.waitFor('training.progress', (p) => p.runId === runId && p.status === 'done');
    expect(await h.call('train.status', { runId })).toMatchObject({ status: 'done', step: steps });
  });

  it('answers mistakes with their own codes', async () => {
    expect(await h.failure('train.start', { modelId: 'nope', datasetId: cbId })).toBe('unknown-model');
    expect(await h.failure('train.start', { modelId, datasetId: 999 })).toBe('unknown-dataset');
    expect(await h.failure('train.status', { runId: 999 })).toBe('run-not-found');
  });
});

describe('evaluation', () => {
  it('reports accuracy, macro-F1, confusion and the worst examples on the validation split', async () => {
    const report = await h.call('eval.report', { runId: cbRun.runId, worst: 5 });
    expect(report).toMatchObject({
      promptId: cbPrompt,
      datasetId: cbId,
      split: 'validation',
      examples: 56,
      labels: ['contradiction', 'entailment', 'neutral'],
    });
    expect(report.confusion.flat().reduce((a, b) => a + b, 0)).toBe(56);
    const correct = report.confusion.reduce((s, row, i) => s + row[i], 0);
    expect(report.accuracy).toBeCloseTo(correct / 56, 12);
    expect(report.perClass.map((c) => c.support).reduce((a, b) => a + b, 0)).toBe(56);
    expect(report.worst).toHaveLength(5);
    const probs = report.worst.map((w) => w.goldProbability);
    expect(probs).toEqual([...probs].sort((a, b) => a - b));
  });
});

describe('transfer', () => {
  it('ranks the CB prompts for RTE through probe runs and trains RTE from the recommended one', async () => {
    const request = {
      modelId,
      datasetId: rteId,
      probes: 2,
      probeSteps: 2,
      probe: { batchSize: 3, promptLength: 4, optimizer: 'adam' as const, lr: 0.02 },
    };
    const from = h.events.length;
    const ranking = await h.call('transfer.rank', request);
    expect(ranking.target.kind).toBe('probe');
    // Each probe's steps, in order, for the Prompt step's progress bar.
    expect(h.payloads('transfer.progress', (p) => p.datasetId === rteId, from).map((p) => [p.probe, p.probes, p.step, p.steps])).toEqual([
      [1, 2, 1, 2],
      [1, 2, 2, 2],
      [2, 2, 1, 2],
      [2, 2, 2, 2],
    ]);
    expect(ranking.target.embeddings.map((e) => [e.step, e.runId !== null])).toEqual([
      [2, true],
      [2, true],
    ]);
    // The probes trained as the task's runs will (the Prompt step's settings, and the threads Settings allow), so they
    // are compared with sources trained alike; each with its own seed, since one probe is a draw of its seed.
    const db = openLibrary(libraryPath(h.home));
    try {
      const configs = ranking.target.embeddings.map(
        (e) =>
          JSON.parse((db.prepare('SELECT config FROM runs WHERE id = ?').get(e.runId) as { config: string }).config) as Record<
            string,
            unknown
          >,
      );
      for (const probe of configs)
        expect([probe.batchSize, probe.promptLength, probe.optimizer, probe.threads]).toEqual([3, 4, { kind: 'adam', lr: 0.02 }, 1]);
      expect(configs.map((c) => c.seed)).toEqual([0, 1]);
    } finally {
      db.close();
    }
    // Asked again, the ranking reuses the stored probes and probes no more.
    const before = h.events.length;
    const reranked = await h.call('transfer.rank', request);
    expect(reranked.target.kind).toBe('stored');
    expect(h.payloads('transfer.progress', () => true, before)).toEqual([]);
    // One more early prompt asked for: the two stored ones are kept, a third probe (the next seed) is trained.
    const third = h.events.length;
    const more = await h.call('transfer.rank', { ...request, probes: 3 });
    expect(more.target.kind).toBe('probe');
    expect(more.target.embeddings.filter((e) => e.runId !== null)).toHaveLength(1);
    expect(h.payloads('transfer.progress', () => true, third).map((p) => [p.probe, p.probes, p.step])).toEqual([
      [3, 3, 1],
      [3, 3, 2],
    ]);
    expect(reranked.target.embeddings.map((e) => e.promptId).sort()).toEqual(ranking.target.embeddings.map((e) => e.promptId).sort());
    expect(reranked.candidates.map((c) => c.promptId)).toEqual(ranking.candidates.map((c) => c.promptId));
    reranked.candidates.forEach((c, i) =>
      expect(c.similarity['avg-token']).toBeCloseTo(ranking.candidates[i].similarity['avg-token']!, 12),
    );
    const ids = ranking.candidates.map((c) => c.promptId);
    expect(ids).toContain(cbPrompt);
    for (const e of ranking.target.embeddings) expect(ids).not.toContain(e.promptId);
    // Every candidate was trained here, so its starting point is stored and every metric has a value.
    expect(ranking.metric).toBe('shift-avg-token');
    for (const c of ranking.candidates) {
      for (const value of Object.values(c.similarity)) {
        expect(value).toBeGreaterThanOrEqual(-1);
        expect(value).toBeLessThanOrEqual(1);
      }
    }
    const scores = ranking.candidates.map((c) => c.similarity['shift-avg-token']!);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    // The most similar source (above 0) that learnt its own task; those above it that did not are said to be passed over.
    const learnt = ranking.candidates.findIndex((c, i) => scores[i] > 0 && aboveBaselines(c.metrics));
    expect(ranking.recommended).toBe(learnt < 0 ? null : ranking.candidates[learnt].promptId);
    const passedOver = ranking.candidates.slice(0, learnt < 0 ? undefined : learnt).filter((_, i) => scores[i] > 0);
    for (const c of passedOver) expect(ranking.reason).toContain(`“${c.name}” (`);
    expect(ranking.reason.includes('passed over')).toBe(passedOver.length > 0);
    expect(ranking.reason).not.toMatch(/prompt:\d/);
    const source = ranking.recommended ?? cbPrompt;
    const run = await h.call('train.start', {
      modelId,
      datasetId: rteId,
      steps: 3,
      evalEvery: 3,
      init: `prompt:${source}`,
      name: 'rte from cb',
      ...quick,
    });
    await h.waitFor('training.progress', (p) => p.runId === run.runId && p.status === 'done');
    const done = await h.call('train.status', { runId: run.runId });
    const shown = await h.call('library.show', { id: done.promptId! });
    expect(shown.parentId).toBe(source);
    expect(shown.lineage[0].id).toBe(source);
    expect(shown.init).toBe(`prompt:${source}`);
    // That RTE run trained otherwise than the probes (from the CB prompt, batch 4, Adafactor, its embedding at step 3),
    // so ranking again compares the newest stored probes; a run of RTE trained as the probes are counts, and comes
    // first as the newest.
    const stored = await h.call('transfer.rank', request);
    expect(stored.target.embeddings.map((e) => e.promptId)).toEqual([
      more.target.embeddings[2].promptId,
      ranking.target.embeddings[1].promptId,
    ]);
    const alike = await h.call('train.start', {
      modelId,
      datasetId: rteId,
      steps: 2,
      evalEvery: 2,
      evalLimit: 8,
      seed: 7,
      promptLength: 4,
      batchSize: 3,
      optimizer: 'adam',
      lr: 0.02,
      name: 'rte as the probes',
    });
    await h.waitFor('training.progress', (p) => p.runId === alike.runId && p.status === 'done');
    const alikePrompt = (await h.call('train.status', { runId: alike.runId })).promptId;
    const again = await h.call('transfer.rank', request);
    expect(again.target.kind).toBe('stored');
    expect(again.target.embeddings.map((e) => e.promptId)).toEqual([alikePrompt, more.target.embeddings[2].promptId]);
    expect(again.target.embeddings).not.toContainEqual(expect.objectContaining({ promptId: done.promptId }));
  });

  it('stops a ranking midway when asked (the Prompt step left or Stop pressed), and the next ranking counts only finished probes', async () => {
    expect(await h.call('transfer.cancel', { datasetId: rteId })).toEqual({ stopped: 0 });
    // No stored embedding of RTE was taken at step 100,000, and a probe this long is still training when the stop arrives.
    const request = {
      modelId,
      datasetId: rteId,
      probes: 5,
      probe: { batchSize: 3, promptLength: 4, optimizer: 'adam' as const, lr: 0.02 },
    };
    const ranking = h.failure('transfer.rank', { ...request, probeSteps: 100_000 });
    await h.waitFor('transfer.progress', (p) => p.datasetId === rteId && p.steps === 100_000);
    expect(await h.call('transfer.cancel', { datasetId: rteId })).toEqual({ stopped: 1 });
    expect(await ranking).toBe('cancelled');
    const db = openLibrary(libraryPath(h.home));
    try {
      const stopped = db.prepare('SELECT status, config, step FROM runs ORDER BY id DESC LIMIT 1').get() as {
        status: string;
        config: string;
        step: number;
      };
      expect(stopped.status).toBe('cancelled');
      expect(stopped.step).toBeLessThan(100_000);
      expect(JSON.parse(stopped.config)).toMatchObject({ name: 'transfer probe', steps: 100_000, seed: 0 });
    } finally {
      db.close();
    }
    // The stopped probe left no task embedding: asked again at 2 steps, the four stored alike (three probes and the run
    // trained as they are) and one new probe, which the worker is free to train.
    const from = h.events.length;
    const ranked = await h.call('transfer.rank', { ...request, probeSteps: 2 });
    expect(ranked.target.embeddings.filter((e) => e.runId !== null)).toHaveLength(1);
    expect(h.payloads('transfer.progress', () => true, from).map((p) => [p.probe, p.probes, p.step])).toEqual([
      [5, 5, 1],
      [5, 5, 2],
    ]);
  });
});

describe('labelling', () => {
  it('labels a file with progress, then reviews, corrects, saves and exports', async () => {
    const output = join(h.scratch, 'cb-val-labelled.csv');
    const job = await h.call('label.start', {
      promptId: cbPrompt,
      input: data('cb/val.jsonl'),
      textColumns: ['premise', 'hypothesis'],
      goldColumn: 'label',
      output,
      outputFormat: 'csv',
      batchSize: 8,
    });
    const jobId = job.jobId;
    await h.waitFor('labelling.progress', (p) => p.jobId === jobId && p.status === 'done');
    const progress = h.payloads('labelling.progress', (p) => p.jobId === jobId);
    expect(progress.map((p) => p.rows)).toEqual([...progress.map((p) => p.rows)].sort((a, b) => a - b));
    expect(progress.at(-1)).toMatchObject({ rows: 56, totalRows: 56, status: 'done' });
    const lines = readFileSync(output, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(57);
    expect(lines[0]).toContain('predicted_label');
    expect(await h.call('label.status', { jobId })).toMatchObject({ status: 'done', rowsDone: 56, labelled: 56 });

    const page = await h.call('label.review', { jobId, limit: 10 });
    expect(page.total).toBe(56);
    expect(page.labels).toEqual(['contradiction', 'entailment', 'neutral']);
    const confidences = page.rows.map((r) => r.confidence);
    expect(confidences).toEqual([...confidences].sort((a, b) => a - b));
    const target = page.rows[0];
    const fix = page.labels.find((l) => l !== target.predicted)!;
    expect(await h.call('label.correct', { jobId, row: target.row, label: fix })).toMatchObject({ row: target.row, corrected: fix });
    expect(await h.failure('label.correct', { jobId, row: target.row, label: 'maybe' })).toBe('label-unknown-label');

    const saved = await h.call('label.saveCorrections', { jobId, name: 'cb reviewed', include: 'all', split: 0 });
    expect(saved.splits.train + saved.splits.validation).toBe(56);
    const db = openLibrary(libraryPath(h.home));
    const stored = loadDatasetRows(db, saved.id, 'train');
    db.close();
    expect(stored).toHaveLength(56);
    expect(stored.filter((r) => r.text === target.text).map((r) => r.label)).toEqual([fix]);

    const exported = join(h.scratch, 'cb-val-reviewed.csv');
    expect(await h.call('label.export', { jobId, file: exported })).toEqual({
      file: exported,
      format: 'csv',
      rows: 56,
      reviewed: 1,
      corrected: 1,
    });
    const rows = readFileSync(exported, 'utf8').trimEnd().split('\n');
    expect(rows[0].split(',').at(-1)).toBe('label_source');
    expect(rows.filter((r) => r.endsWith(',person'))).toHaveLength(1);
    expect(rows.filter((r) => r.endsWith(',model'))).toHaveLength(55);

    expect(await h.failure('label.start', { promptId: cbPrompt, input: data('cb/val.jsonl'), output: join(h.home, 'escape.csv') })).toBe(
      'output-in-data-dir',
    );
    expect(await h.failure('label.start', { promptId: cbPrompt, input: data('cb/val.jsonl'), output: 'out.csv' })).toBe('bad-path');
    expect(await h.failure('label.export', { jobId, file: output })).toBe('label-export-overwrites');

    // The job owns its output: the app asks which job a file belongs to, and overwriting it needs that job named.
    expect(await h.call('label.checkOutput', { file: output })).toMatchObject({
      file: output,
      exists: true,
      owner: { jobId, outputState: 'intact', outputNote: null },
    });
    expect(await h.call('label.checkOutput', { file: join(h.scratch, 'new.csv') })).toEqual({
      file: join(h.scratch, 'new.csv'),
      exists: false,
      owner: null,
    });
    const again = { promptId: cbPrompt, input: data('cb/val.jsonl'), textColumns: ['premise', 'hypothesis'], output, overwrite: true };
    expect(await h.failure('label.start', again)).toBe('label-output-owned');
    expect(await h.failure('label.export', { jobId, file: exported })).toBe('file-exists');
    const input = join(h.scratch, 'cb-val.jsonl');
    writeFileSync(input, readFileSync(data('cb/val.jsonl')));
    const suggested = (await h.call('label.defaultOutput', { promptId: cbPrompt, input, format: 'tsv' })).output;
    expect(suggested).toBe(join(h.scratch, 'cb-val.cb-first.labelled.tsv'));
  });

  it('cancels a job part way and resumes it to the same output', async () => {
    const input = join(h.scratch, 'many.jsonl');
    const rows = readFileSync(data('cb/train.jsonl'), 'utf8');
    writeFileSync(input, rows);
    const output = join(h.scratch, 'many.jsonl.out.jsonl');
    const job = await h.call('label.start', { promptId: cbPrompt, input, textColumns: ['premise', 'hypothesis'], output, batchSize: 4 });
    await h.waitFor('labelling.progress', (p) => p.jobId === job.jobId && p.rows > 0);
    const cancelled = await h.call('label.cancel', { jobId: job.jobId });
    expect(['cancelled', 'done']).toContain(cancelled.status);
    await h.call('label.resume', { jobId: job.jobId });
    await h.waitFor('labelling.progress', (p) => p.jobId === job.jobId && p.status === 'done');
    expect(readFileSync(output, 'utf8').trimEnd().split('\n')).toHaveLength(250);
    expect(await h.call('label.status', { jobId: job.jobId })).toMatchObject({ status: 'done', rowsDone: 250 });
  });
});

describe('library', () => {
  it('renames, tags, notes, maps, exports and imports PEFT, and guards deletes', async () => {
    expect((await h.call('library.rename', { id: cbPrompt, name: 'cb v1' })).name).toBe('cb v1');
    // Its labelling jobs name it as it is called now, not as it was when they ran.
    const jobs = (await h.call('label.list', {})).filter((j) => j.input === data('cb/val.jsonl'));
    expect(jobs.length).toBeGreaterThan(0);
    for (const j of jobs) expect(j.promptNames).toEqual(['cb v1']);
    expect((await h.call('library.tag', { id: cbPrompt, add: ['nli', 'first'] })).tags).toEqual(['first', 'nli']);
    expect((await h.call('library.note', { id: cbPrompt, notes: 'six steps' })).notes).toBe('six steps');
    expect((await h.call('library.list', { tag: 'nli' })).map((p) => p.id)).toEqual([cbPrompt]);
    expect((await h.call('library.list', { search: 'cb v' })).map((p) => p.id)).toEqual([cbPrompt]);

    const all = await h.call('library.list', { modelId });
    const map = await h.call('library.similarityMap', { modelId });
    expect(map.points.map((p) => p.promptId).sort()).toEqual(all.map((p) => p.id).sort());
    for (const p of map.points) expect(Math.max(Math.abs(p.x), Math.abs(p.y))).toBeLessThanOrEqual(1 + 1e-12);
    expect(map.explained[0]).toBeGreaterThanOrEqual(map.explained[1]);
    expect(map.explained[0] + map.explained[1]).toBeLessThanOrEqual(1 + 1e-9);

    const dir = join(h.scratch, 'peft-cb');
    expect(await h.call('library.exportPeft', { id: cbPrompt, dir })).toEqual({
      dir,
      files: ['adapter_config.json', 'adapter_model.safetensors'],
    });
    expect(existsSync(join(dir, 'adapter_model.safetensors'))).toBe(true);
    expect(await h.failure('library.exportPeft', { id: cbPrompt, dir: join(h.home, 'runs') })).toBe('output-in-data-dir');
    const imported = await h.call('library.importPeft', { dir, name: 'cb via peft', modelId });
    expect(imported).toMatchObject({ name: 'cb via peft', init: 'peft', length: 4, modelId });

    const children = (await h.call('library.show', { id: cbPrompt })).children;
    expect(children.length).toBeGreaterThan(0);
    expect(await h.failure('library.delete', { id: cbPrompt })).toBe('prompt-has-derived');
    expect(await h.call('library.delete', { id: imported.id })).toEqual({ removed: true, children: 0 });
  });

  it('sums up the home screen', async () => {
    const home = await h.call('home.summary', {});
    expect(home.device.label).toBe('CPU · 1 thread');
    expect(home.models.map((m) => m.id)).toEqual([modelId]);
    expect(home.datasets).toBe(3);
    expect(home.runs.length).toBeGreaterThan(0);
    expect(home.runs.every((r) => r.name !== 'transfer probe')).toBe(true);
    expect(home.labelJobs.length).toBe(2);
    expect(home.prompts[0].id).toBeGreaterThan(home.prompts.at(-1)!.id);
  });
});
