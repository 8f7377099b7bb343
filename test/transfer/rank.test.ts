import { describe, expect, it } from 'vitest';
import { requirePrompt } from '../../main/library/prompts.js';
import { findOrInsertTask } from '../../main/library/tasks.js';
import { insertMixedPrompt, mixWeights, rankSources } from '../../main/transfer/rank.js';
import { probeRecipe } from '../../main/transfer/probe.js';
import { targetEmbeddings, unusedSeeds, type ProbePlan } from '../../main/transfer/target-set.js';
import { avgTokenSimilarity, perTokenSimilarity, type SimilarityMetric } from '../../main/transfer/similarity.js';
import { mulberry32 } from '../../main/random.js';
import { addPrompt, freshLibrary, TINY_MODEL } from '../library/helpers.js';

const D = 8;
const P = 4;

const rng = mulberry32;

type Rows = number[][];
const rows = (data: Float32Array, length: number): Rows => Array.from({ length }, (_, i) => [...data.subarray(i * D, (i + 1) * D)]);
const flat = (r: Rows): Float32Array => Float32Array.from(r.flat());

// The formulas as written in SPoT, on plain arrays.
const dot = (a: number[], b: number[]) => a.reduce((s, x, k) => s + x * b[k], 0);
const cos = (a: number[], b: number[]) => dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));
const mean = (r: Rows) => r[0].map((_, k) => r.reduce((s, row) => s + row[k], 0) / r.length);
const avgToken = (a: Rows, b: Rows) => cos(mean(a), mean(b));
const perToken = (a: Rows, b: Rows) => a.flatMap((x) => b.map((y) => cos(x, y))).reduce((s, v) => s + v, 0) / (a.length * b.length);

describe('SPoT ranking', () => {
  const next = rng(7);
  // Target tokens live in dimensions 0–3 with positive values.
  const target: Rows = Array.from({ length: P }, () => Array.from({ length: D }, (_, k) => (k < 4 ? 0.1 + next() : 0)));
  const nearDuplicate = target.map((r) => r.map((x) => x + 0.01 * (next() - 0.5)));
  const related = target.map((r) => r.map((x, k) => 0.5 * x + 0.8 * next() * (k >= 2 ? 1 : 0)));
  const loose: Rows = Array.from({ length: 6 }, () => Array.from({ length: D }, () => next()));
  const orthogonal: Rows = Array.from({ length: P }, () => Array.from({ length: D }, (_, k) => (k >= 4 ? 0.1 + next() : 0)));

  it('both metrics equal the published formulas', () => {
    for (const other of [nearDuplicate, related, loose, orthogonal]) {
      const a = { length: P, data: flat(target) };
      const b = { length: other.length, data: flat(other) };
      expect(avgTokenSimilarity(a, b, D)).toBeCloseTo(avgToken(rows(a.data, P), rows(b.data, other.length)), 6);
      expect(perTokenSimilarity(a, b, D)).toBeCloseTo(perToken(rows(a.data, P), rows(b.data, other.length)), 6);
    }
    expect(perTokenSimilarity({ length: P, data: flat(target) }, { length: P, data: flat(orthogonal) }, D)).toBe(0);
  });

  it('ranks a near-duplicate first and an orthogonal prompt last, by either metric, on the same base model only', () => {
    const { db } = freshLibrary();
    const model = { ...TINY_MODEL, summary: { dModel: D } };
    const targetTask = findOrInsertTask(db, { name: 'target', datasetId: null, template: '{x}', verbalizer: {}, labelSet: null });
    const add = (r: Rows, name: string, extra: Parameters<typeof addPrompt>[2] = {}) =>
      addPrompt(db, 0, {
        name,
        model,
        length: r.length,
        dModel: D,
        embedding: new Float32Array(r.length * D).fill(9),
        taskEmbedding: flat(r),
        taskEmbeddingStep: 10,
        ...extra,
      });
    const orth = add(orthogonal, 'orthogonal');
    const rel = add(related, 'related');
    const dup = add(nearDuplicate, 'near duplicate');
    // A prompt without a task embedding is compared by its final values.
    const lo = addPrompt(db, 0, { name: 'loose', model, length: loose.length, dModel: D, embedding: flat(loose) });
    add(nearDuplicate, 'other model', { model: { id: 'google/other', path: null, summary: null } });
    const self = add(target, 'the target itself', { taskId: targetTask.id });

    for (const metric of ['avg-token', 'per-token'] as const) {
      const ranked = rankSources(
        db,
        [{ matrix: { length: P, data: flat(target) }, init: null }],
        { id: TINY_MODEL.id, path: null, dModel: D },
        { metric, excludePromptIds: [self] },
      );
      const sources = new Map([
        [dup, nearDuplicate],
        [rel, related],
        [lo, loose],
        [orth, orthogonal],
      ]);
      const formula = metric === 'avg-token' ? avgToken : perToken;
      const expected = [...sources].sort((x, y) => formula(target, y[1]) - formula(target, x[1])).map(([id]) => id);
      expect(ranked.map((r) => r.id)).toEqual(expected);
      expect(expected[0]).toBe(dup);
      expect(expected.at(-1)).toBe(orth);
      for (const r of ranked) {
        const source = sources.get(r.id)!;
        expect(r.similarity['avg-token']).toBeCloseTo(avgToken(target, rows(flat(source), source.length)), 6);
        expect(r.similarity['per-token']).toBeCloseTo(perToken(target, rows(flat(source), source.length)), 6);
        expect(r.similarity['shift-avg-token']).toBeNull();
        expect(r.score).toBe(r.similarity[metric]);
      }
      expect(ranked.find((r) => r.id === lo)?.basis).toBe('prompt');
      expect(ranked[0].basis).toBe('task-embedding');
    }
    // By folder when the base model has no library id; nothing on a model of another width.
    const asIs = { metric: 'avg-token' } as const;
    expect(
      rankSources(
        db,
        [{ matrix: { length: P, data: flat(target) }, init: null }],
        { id: null, path: TINY_MODEL.path, dModel: D },
        asIs,
      ).map((r) => r.id),
    ).toContain(self);
    expect(
      rankSources(
        db,
        [{ matrix: { length: 1, data: new Float32Array(16) }, init: null }],
        { id: TINY_MODEL.id, path: null, dModel: 16 },
        asIs,
      ),
    ).toEqual([]);
    // What a target learned cannot be compared without its starting point.
    expect(() =>
      rankSources(db, [{ matrix: { length: P, data: flat(target) }, init: null }], { id: TINY_MODEL.id, path: null, dModel: D }),
    ).toThrow("The target's starting point is not stored");
  });

  it('prompts that started alike: raw cosine ranks first the source that learned least, the shift metrics the one that learned alike', () => {
    const { db } = freshLibrary();
    const model = { ...TINY_MODEL, summary: { dModel: D } };
    const next = rng(11);
    const matrix = (f: () => number): Rows => Array.from({ length: P }, () => Array.from({ length: D }, f));
    // As with class-label inits of one seed: target and the idle source start from the same rows.
    const sharedStart = matrix(() => next() - 0.5);
    const ownStart = matrix(() => next() - 0.5);
    const learned = matrix(() => 0.3 * (next() - 0.5)); // what the target's task moves a prompt by
    const plus = (a: Rows, b: Rows, scale = 1) => a.map((r, i) => r.map((x, k) => x + scale * b[i][k]));
    const target = { te: plus(sharedStart, learned), init: sharedStart };
    const idle = {
      te: plus(
        sharedStart,
        matrix(() => 0.02 * (next() - 0.5)),
      ),
      init: sharedStart,
    };
    const related = {
      te: plus(
        plus(ownStart, learned),
        matrix(() => 0.05 * (next() - 0.5)),
      ),
      init: ownStart,
    };
    const add = (p: { te: Rows; init: Rows }, name: string) =>
      addPrompt(db, 0, {
        name,
        model,
        length: P,
        dModel: D,
        embedding: flat(p.te),
        taskEmbedding: flat(p.te),
        taskEmbeddingStep: 10,
        initEmbedding: flat(p.init),
      });
    const idleId = add(idle, 'learned nothing');
    const relatedId = add(related, 'related');
    const imported = addPrompt(db, 0, { name: 'imported', model, length: P, dModel: D, embedding: flat(related.te) });
    const base = { id: TINY_MODEL.id, path: null, dModel: D };
    const rank = (metric: SimilarityMetric) =>
      rankSources(db, [{ matrix: { length: P, data: flat(target.te) }, init: { length: P, data: flat(target.init) } }], base, { metric });

    expect(rank('avg-token').map((r) => r.id)).toEqual([idleId, relatedId, imported]);
    for (const metric of ['shift-avg-token', 'shift-per-token'] as const) {
      const ranked = rank(metric);
      // A prompt without a stored starting point has no shift and comes last.
      expect(ranked.map((r) => r.id)).toEqual([relatedId, idleId, imported]);
      expect(ranked[2].score).toBeNull();
    }
    const minus = (a: Rows, b: Rows) => plus(a, b, -1);
    const [r] = rank('shift-avg-token');
    expect(r.similarity['shift-avg-token']).toBeCloseTo(avgToken(minus(target.te, target.init), minus(related.te, related.init)), 6);
    expect(r.similarity['shift-per-token']).toBeCloseTo(perToken(minus(target.te, target.init), minus(related.te, related.init)), 6);
    expect(r.similarity['avg-token']).toBeCloseTo(avgToken(target.te, related.te), 6);
    expect(r.similarity['shift-avg-token']).toBeGreaterThan(0.9);
  });

  it('a task seen through several task embeddings: each metric is the mean over them, the ranking follows the mean', () => {
    const { db } = freshLibrary();
    const model = { ...TINY_MODEL, summary: { dModel: D } };
    const base = { id: TINY_MODEL.id, path: null, dModel: D };
    const axis = (k: number, scale = 1): Rows =>
      Array.from({ length: P }, () => Array.from({ length: D }, (_, j) => (j === k ? scale : 0)));
    const sum = (a: Rows, b: Rows) => a.map((r, i) => r.map((x, k) => x + b[i][k]));
    // Probe 1 is close to A, probe 2 to B, probe 3 between: one probe alone would rank either first.
    const a = addPrompt(db, 0, { name: 'A', model, length: P, dModel: D, embedding: flat(axis(0)), taskEmbedding: flat(axis(0)) });
    const b = addPrompt(db, 0, { name: 'B', model, length: P, dModel: D, embedding: flat(axis(1)), taskEmbedding: flat(axis(1)) });
    const probes = [sum(axis(0), axis(2, 0.5)), sum(axis(1), axis(2, 0.1)), sum(axis(0), axis(1, 0.5))];
    const targets = probes.map((p) => ({ matrix: { length: P, data: flat(p) }, init: null }));
    const ranked = rankSources(db, targets, base, { metric: 'avg-token' });
    const expected = (source: Rows) => probes.map((p) => avgToken(p, source));
    for (const [id, source] of [
      [a, axis(0)],
      [b, axis(1)],
    ] as const) {
      const r = ranked.find((x) => x.id === id)!;
      expect(r.byTarget.map((t) => t['avg-token'])).toEqual(expected(source).map((v) => expect.closeTo(v, 6)));
      expect(r.similarity['avg-token']).toBeCloseTo(expected(source).reduce((x, y) => x + y) / probes.length, 6);
      // A probe without its starting point has no shift, so the mean has none either.
      expect(r.similarity['shift-avg-token']).toBeNull();
    }
    expect(ranked.map((r) => r.id)).toEqual([a, b]);
    expect(rankSources(db, targets.slice(1, 2), base, { metric: 'avg-token' }).map((r) => r.id)).toEqual([b, a]);
    expect(() => rankSources(db, [], base)).toThrow('no task embedding');
  });

  it('probes of unused seeds: from the first seed up, skipping those the stored embeddings were trained with', () => {
    expect(unusedSeeds(0, 3, [])).toEqual([0, 1, 2]);
    expect(unusedSeeds(0, 3, [1, null, 3])).toEqual([0, 2, 4]);
    expect(unusedSeeds(5, 2, [5, 6, 0])).toEqual([7, 8]);
  });

  it('a ranking stopped midway fails saying how many of its probes finished; a probe that fails on its own fails as itself', async () => {
    const { db } = freshLibrary();
    const model = { ...TINY_MODEL, summary: { dModel: D } };
    const base = { id: model.id, path: model.path, dModel: D };
    const probePrompt = addPrompt(db, 0, { model, length: P, dModel: D });
    const controller = new AbortController();
    let seen: [number, boolean][] = [];
    // The first probe finishes; the second fails (after a stop, or on its own).
    const plan = (failure: Error): ProbePlan => {
      seen = [];
      return {
        spec: { model: '/models/tiny', train: { dataset: 1 }, task: { template: '{0}', labelColumn: '1' }, steps: 2 },
        run: async (spec, _position, _count, signal) => {
          seen.push([spec.seed!, signal === controller.signal]);
          if (seen.length === 1) return { runId: 7, promptId: probePrompt, step: 2 };
          controller.abort();
          throw failure;
        },
      };
    };
    const recipe = probeRecipe({ steps: 2 });
    const options = { count: 3, withInit: false, recipe, signal: controller.signal };
    const stopped = await targetEmbeddings(db, base, [], { ...options, plan: () => plan(new Error('probe-incomplete')) }).catch((e) => e);
    expect(stopped).toMatchObject({
      code: 'cancelled',
      message: 'The ranking was stopped. 1 probe run had finished and is kept; ranking this task again reuses what is kept.',
    });
    expect(seen).toEqual([
      [0, true],
      [1, true],
    ]);
    const own = new Error('the dataset has no rows');
    const failed = await targetEmbeddings(db, base, [], { ...options, signal: undefined, plan: () => plan(own) }).catch((e) => e);
    expect(failed).toBe(own);
    db.close();
  });

  it('top-k weighted average: α = sim / Σ sim over the k best, mixing the sources’ final prompts', () => {
    const { db } = freshLibrary();
    const a = addPrompt(db, 1, { length: 2, dModel: 2, embedding: Float32Array.from([1, 0, 0, 1]) });
    const b = addPrompt(db, 2, { length: 3, dModel: 2, embedding: Float32Array.from([0, 2, 2, 0, 4, 4]) });
    const source = (id: number, name: string, score: number | null) => ({
      id,
      name,
      score,
      basis: 'prompt' as const,
      taskId: null,
      parentId: null,
      similarity: { 'shift-avg-token': score, 'shift-per-token': null, 'avg-token': 0, 'per-token': 0 },
      byTarget: [],
      metrics: {},
    });
    const ranked = [source(a, 'a', 0.375), source(b, 'b', 0.125), source(99, 'c', -0.1), source(98, 'd', null)];
    expect(mixWeights(ranked, 4)).toEqual([
      { id: a, weight: 0.75 },
      { id: b, weight: 0.25 },
    ]);
    const { id, weights } = insertMixedPrompt(db, ranked, 2, 'mixed');
    expect(weights.map((w) => w.weight)).toEqual([0.75, 0.25]);
    const mixed = requirePrompt(db, id);
    // Rows 0–1 mix both (0.75·a + 0.25·b); row 2 only b has, so it is b's row.
    expect([...mixed.embedding]).toEqual([0.75, 0.5, 0.5, 0.75, 4, 4]);
    expect(mixed).toMatchObject({ parentId: a, length: 3, init: `mix:${a}=0.750000,${b}=0.250000` });
    expect(() => mixWeights(ranked.slice(2), 1)).toThrow('No library prompt on this base model has a positive similarity');
  });
});
