import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readT5Config } from '../../main/checkpoint/checkpoint.js';
import { libraryPath, openLibrary } from '../../main/library/db.js';
import { createRun } from '../../main/library/runs.js';
import { requirePrompt } from '../../main/library/prompts.js';
import { PROMPT_TENSOR, TASK_EMBEDDING_FILE } from '../../main/train/run-store.js';
import { readTensorFile } from '../../main/train/tensor-file.js';
import { avgTokenSimilarity, perTokenSimilarity } from '../../main/transfer/similarity.js';
import { repoRoot, tempDir } from '../checkpoint/helpers.js';
import { addPrompt, addTaskRecord } from '../library/helpers.js';
import { lastJson, sprout } from '../fault/spawn.js';
import { COLA_TSV_FLAGS, shared, tinyModel } from '../train/fixtures.js';

const run = promisify(execFile);

async function rank(home: string, args: string[]): Promise<Record<string, any>> {
  const { stdout } = await run(process.execPath, [join(repoRoot, 'out/cli.js'), 'transfer', 'rank', '--json', ...args], {
    env: { PATH: process.env.PATH ?? '', SPROUT_HOME: home },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

const d = readT5Config(tinyModel).dModel;
const P = 4;
const prompt = (f: (i: number, k: number) => number) => Float32Array.from({ length: P * d }, (_, x) => f(Math.floor(x / d), x % d));

describe('sprout transfer rank (spawned)', () => {
  it('ranks from a stored target, uses best/trial/mix, and probes a target that has none on the tiny model', async () => {
    const home = tempDir('sprout-home-');
    let db = openLibrary(libraryPath(home));
    const model = { id: null, path: tinyModel, summary: null };
    const { datasetId, taskId } = addTaskRecord(db, 'cola');
    // The target's stored embeddings count where their runs trained as a probe would: prompt length P, the engine's
    // batch (32) and optimiser, the embedding taken at the library's usual step (3).
    const ranAs = (config: Record<string, unknown>) => createRun(db, { taskId, config, status: 'done' }).id;
    const base = prompt((i, k) => Math.sin(1 + i * 7 + k));
    const start = prompt((i, k) => 0.5 * Math.cos(2 + i + 5 * k));
    const target = addPrompt(db, 0, {
      name: 'cola run',
      model,
      length: P,
      dModel: d,
      embedding: base,
      taskEmbedding: base,
      taskEmbeddingStep: 3,
      initEmbedding: start,
      taskId,
      runId: ranAs({ promptLength: P }),
    });
    // Nothing else in the library: no source to compare, so no probe either (the dataset has no rows to probe on).
    db.close();
    const alone = await rank(home, ['--dataset', String(datasetId), '--model', tinyModel]);
    expect(alone).toMatchObject({ ranking: [], best: null, target: { kind: 'stored', embeddings: [] } });
    db = openLibrary(libraryPath(home));
    const nearEmbedding = prompt((i, k) => Math.sin(1 + i * 7 + k) + 0.01 * Math.cos(k));
    const near = addPrompt(db, 0, {
      name: 'near',
      model,
      length: P,
      dModel: d,
      embedding: nearEmbedding,
      taskEmbeddingStep: 3,
      taskEmbedding: nearEmbedding,
      initEmbedding: start,
    });
    const farEmbedding = prompt((i, k) => Math.cos(3 * k + i));
    const far = addPrompt(db, 0, {
      name: 'far',
      model,
      length: P,
      dModel: d,
      embedding: farEmbedding,
      taskEmbeddingStep: 3,
      taskEmbedding: farEmbedding,
      initEmbedding: base,
    });
    db.close();
    const diff = (a: Float32Array, b: Float32Array) => ({ length: P, data: a.map((x, i) => x - b[i]) });

    // One task embedding of the target's dataset is stored: compared alone, no probe.
    const best = await rank(home, ['--dataset', String(datasetId), '--model', tinyModel, '--probes', '1', '--prompt-length', String(P)]);
    expect(best.target).toEqual({
      kind: 'stored',
      dataset_ids: [datasetId],
      embeddings: [{ prompt_id: target, step: 3, probe_run_id: null, seed: null }],
    });
    expect(best.ranking.map((r: { id: number }) => r.id)).toEqual([near, far]);
    expect(best).toMatchObject({ use: 'best', best: near, init: `prompt:${near}`, metric: 'shift-avg-token' });
    // Every metric is reported; the shift ones compare each task embedding minus its own starting point.
    expect(best.ranking[1].shift_avg_token).toBeCloseTo(avgTokenSimilarity(diff(base, start), diff(farEmbedding, base), d), 12);
    expect(best.ranking[1].shift_per_token).toBeCloseTo(perTokenSimilarity(diff(base, start), diff(farEmbedding, base), d), 12);
    expect(best.ranking[1].avg_token).toBeCloseTo(avgTokenSimilarity({ length: P, data: base }, { length: P, data: farEmbedding }, d), 12);
    expect(best.ranking[1].score).toBe(best.ranking[1].shift_avg_token);
    // A source whose own training did not beat its majority class learnt nothing to pass on: the most similar one is
    // passed over, and "far", dissimilar (below 0), is no recommendation either (its headline is the test split's,
    // judged by that split's own baselines).
    const learntNothing = {
      metric: 'mcc',
      best: { step: 3, mcc: 0.31 },
      baselines: { majority: { mcc: 0 }, zero_shot: { mcc: 0.02 } },
      test: { step: 3, mcc: 0, majority: { mcc: 0 }, zero_shot: { mcc: 0.01 } },
    };
    db = openLibrary(libraryPath(home));
    db.prepare('UPDATE prompts SET metrics = ? WHERE id = ?').run(JSON.stringify(learntNothing), near);
    db.close();
    const passing = await rank(home, ['--dataset', String(datasetId), '--model', tinyModel, '--probes', '1', '--prompt-length', String(P)]);
    expect(passing.ranking.map((r: { id: number }) => r.id)).toEqual([near, far]);
    expect(passing.ranking[1].score).toBeLessThan(0);
    expect(passing).toMatchObject({ best: null, passed_over: [near], init: null });
    db = openLibrary(libraryPath(home));
    db.prepare('UPDATE prompts SET metrics = ? WHERE id = ?').run(JSON.stringify({ ...learntNothing, test: null }), near);
    db.close();
    // Without a test split its best validation score, above both baselines, is the headline: near learnt its task.
    expect(
      await rank(home, ['--dataset', String(datasetId), '--model', tinyModel, '--probes', '1', '--prompt-length', String(P)]),
    ).toMatchObject({
      best: near,
      passed_over: [],
    });
    const trial = await rank(home, [
      '--prompt',
      String(target),
      '--model',
      tinyModel,
      '--use',
      'trial',
      '--top-k',
      '2',
      '--metric',
      'per-token',
    ]);
    expect(trial).toMatchObject({ metric: 'per-token', top_k: [near, far], trial_inits: [`prompt:${near}`, `prompt:${far}`], init: null });
    expect(trial.ranking[0].score).toBe(trial.ranking[0].per_token);

    // A file imported as a dataset (same sha256) whose task has a stored embedding needs no probe.
    const outOfDomain = join(shared, 'data/cola/out_of_domain_dev.tsv');
    const sha = createHash('sha256').update(readFileSync(outOfDomain)).digest('hex');
    const again = openLibrary(libraryPath(home));
    const { datasetId: ood, taskId: oodTask } = addTaskRecord(again, 'cola ood', sha);
    const oodPrompt = addPrompt(again, 0, {
      name: 'ood run',
      model,
      length: P,
      dModel: d,
      embedding: farEmbedding,
      taskEmbedding: farEmbedding,
      taskEmbeddingStep: 3,
      initEmbedding: base,
      taskId: oodTask,
      runId: createRun(again, { taskId: oodTask, config: { promptLength: P, batchSize: 8 }, status: 'done' }).id,
    });
    again.close();
    const byFile = await rank(home, [
      '--data',
      outOfDomain,
      '--model',
      tinyModel,
      '--probes',
      '1',
      '--prompt-length',
      String(P),
      '--batch-size',
      '8',
    ]);
    expect(byFile.target).toMatchObject({ kind: 'stored', dataset_ids: [ood], embeddings: [{ prompt_id: oodPrompt, step: 3 }] });
    expect(byFile.ranking.map((r: { id: number }) => r.id)[0]).toBe(far);
    expect(byFile.ranking).toHaveLength(3);
    expect(byFile.ranking[0].avg_token).toBeCloseTo(1, 12);
    expect(byFile.ranking[0].shift_avg_token).toBeCloseTo(1, 12);

    // A target file with no imported dataset and no run: two 3-step probes on the tiny model, seeds 0 and 1.
    const probed = await rank(home, [
      '--data',
      join(shared, 'data/cola/in_domain_train.tsv'),
      '--no-header',
      '--quoting',
      'none',
      // CoLA's first 18 rows are all acceptable: 32 hold both labels, which training needs.
      '--limit',
      '32',
      '--text-column',
      '3',
      '--label-column',
      '1',
      '--verbalizer',
      '0=unacceptable,1=acceptable',
      '--prompt-length',
      String(P),
      '--batch-size',
      '4',
      '--probes',
      '2',
      '--probe-steps',
      '3',
      '--device',
      'cpu',
      '--threads',
      '1',
      '--model',
      tinyModel,
      '--use',
      'mix',
      '--top-k',
      '2',
    ]);
    expect(probed.target).toMatchObject({ kind: 'probe', dataset_ids: [] });
    expect(probed.target.embeddings.map((e: Record<string, unknown>) => [e.step, e.seed])).toEqual([
      [3, 0],
      [3, 1],
    ]);
    const after = openLibrary(libraryPath(home));
    const probes = probed.target.embeddings.map((e: { probe_run_id: number; prompt_id: number }) => {
      const config = JSON.parse((after.prepare('SELECT config FROM runs WHERE id = ?').get(e.probe_run_id) as { config: string }).config);
      return {
        config: config as Record<string, unknown>,
        te: readTensorFile(join(home, 'runs', String(e.probe_run_id), TASK_EMBEDDING_FILE)).tensors.get(PROMPT_TENSOR)!
          .data as Float32Array,
        start: requirePrompt(after, e.prompt_id).initEmbedding!,
      };
    });
    // The probes train with the sources' recipe as given (batch size, prompt length), each with its own seed, on the
    // threads asked for.
    for (const p of probes) expect([p.config.batchSize, p.config.promptLength, p.config.threads]).toEqual([4, P, 1]);
    expect(probes.map((p: { config: Record<string, unknown> }) => p.config.seed)).toEqual([0, 1]);
    expect(probes[0].te).not.toEqual(probes[1].te);
    const mean = (f: (p: (typeof probes)[number]) => number) => probes.map(f).reduce((a: number, b: number) => a + b, 0) / probes.length;
    for (const r of probed.ranking) {
      const source = requirePrompt(after, r.id);
      const te = { length: P, data: source.taskEmbedding! };
      const avg = (p: (typeof probes)[number]) => avgTokenSimilarity({ length: P, data: p.te }, te, d);
      const shifted = (p: (typeof probes)[number]) =>
        avgTokenSimilarity(diff(p.te, p.start), diff(source.taskEmbedding!, source.initEmbedding!), d);
      expect(r.by_target.map((t: Record<string, number>) => t.avg_token)).toEqual(
        probes.map(avg).map((v: number) => expect.closeTo(v, 12)),
      );
      expect(r.avg_token).toBeCloseTo(mean(avg), 12);
      expect(r.per_token).toBeCloseTo(
        mean((p) => perTokenSimilarity({ length: P, data: p.te }, te, d)),
        12,
      );
      expect(r.shift_avg_token).toBeCloseTo(mean(shifted), 12);
    }
    expect(probed.ranking.map((r: { id: number }) => r.id).sort()).toEqual([target, near, far, oodPrompt].sort());
    const mixed = requirePrompt(after, probed.mixed_prompt_id);
    expect(mixed.init).toBe(
      `mix:${probed.weights.map((w: { id: number; weight: number }) => `${w.id}=${w.weight.toPrecision(6)}`).join(',')}`,
    );
    expect(probed.init).toBe(`prompt:${probed.mixed_prompt_id}`);
    after.close();
  });

  it('probes an imported file as its dataset, then reuses those probes and adds one of an unused seed', async () => {
    const home = tempDir('sprout-home-');
    const file = join(shared, 'data/cola/out_of_domain_dev.tsv');
    const imported = await run(process.execPath, [join(repoRoot, 'out/cli.js'), 'data', 'import', file, ...COLA_TSV_FLAGS, '--json'], {
      env: { PATH: process.env.PATH ?? '', SPROUT_HOME: home },
    });
    const datasetId = (JSON.parse(imported.stdout.trim().split('\n').at(-1)!) as { id: number }).id;
    const db = openLibrary(libraryPath(home));
    const start = prompt((i, k) => Math.cos(i + k));
    const source = addPrompt(db, 0, {
      name: 'a source',
      model: { id: null, path: tinyModel, summary: null },
      length: P,
      dModel: d,
      embedding: start,
      taskEmbedding: prompt((i, k) => Math.sin(i * k)),
      taskEmbeddingStep: 2,
      initEmbedding: start,
    });
    db.close();
    const flags = [
      '--data',
      file,
      '--verbalizer',
      '0=unacceptable,1=acceptable',
      '--model',
      tinyModel,
      '--prompt-length',
      String(P),
      '--batch-size',
      '4',
      '--probe-steps',
      '2',
      '--device',
      'cpu',
    ];
    const firstRun = await sprout(['transfer', 'rank', '--json', ...flags, '--probes', '1', '--seed', '1'], home);
    expect(firstRun.code).toBe(0);
    // The probe's steps are reported on stderr as it trains (the last one always).
    expect(firstRun.stderr).toMatch(/^probe 1 of 1: step 2\/2 · loss \d+\.\d{4}/m);
    const first = lastJson(firstRun) as Record<string, any>;
    expect(first.target).toMatchObject({ kind: 'probe', dataset_ids: [datasetId], embeddings: [{ step: 2, seed: 1 }] });
    const second = await rank(home, [...flags, '--probes', '2', '--seed', '1']);
    expect(second.target.kind).toBe('probe');
    expect(second.target.embeddings.map((e: Record<string, unknown>) => [e.prompt_id, e.seed, e.probe_run_id === null])).toEqual([
      [first.target.embeddings[0].prompt_id, 1, true],
      [expect.any(Number), 2, false],
    ]);
    const after = openLibrary(libraryPath(home));
    const config = JSON.parse(
      (after.prepare('SELECT config FROM runs WHERE id = ?').get(second.target.embeddings[1].probe_run_id) as { config: string }).config,
    ) as { train: unknown; seed: number };
    after.close();
    // The probe trained on the imported dataset (its training split), not on the file read anew.
    expect(config.train).toEqual({ dataset: datasetId });
    expect(second.ranking.map((r: { id: number }) => r.id)).toEqual([source]);
    expect(second.ranking[0].by_target).toHaveLength(2);

    // Ctrl-C during a probe far longer than the test: the probe stops, the command says what is kept and exits 130.
    // (Probes of 100,000 steps: the stored 2-step ones are not trained alike, so none counts.)
    const long = flags.map((f, i) => (flags[i - 1] === '--probe-steps' ? '100000' : f));
    const stopped = await sprout(['transfer', 'rank', ...long, '--probes', '3', '--seed', '1'], home, (line, kill) => {
      if (line.startsWith('Probing the target task (1 of 3')) kill('SIGINT');
    });
    expect(stopped.code).toBe(130);
    expect(stopped.stdout).toBe('');
    expect(stopped.stderr).toContain(
      'sprout: The ranking was stopped. No probe run had finished; ranking this task again reuses what is kept.',
    );
    const last = openLibrary(libraryPath(home));
    const runs = last.prepare('SELECT status, config FROM runs ORDER BY id').all() as { status: string; config: string }[];
    last.close();
    expect(runs.map((r) => r.status)).toEqual(['done', 'done', 'cancelled']);
    expect(JSON.parse(runs[2].config)).toMatchObject({ steps: 100_000, seed: 1 });
  });
});
