/**
 * The target task's task embeddings for one ranking: the newest stored ones of its dataset (earlier probes and runs),
 * and probe runs of unused seeds for the rest. SPoT compares one task embedding, but one early prompt moves with its
 * seed about as much as with its task (DEFAULT_PROBES).
 */
import { SproutError } from '../errors.js';
import type { LibraryDb } from '../library/db.js';
import type { ProbeResult, ProbeSpec } from './probe.js';
import type { BaseModel } from './rank.js';
import type { EmbeddingRecipe } from './recipe.js';
import { promptTarget, storedTargetEmbeddings, type SeededTarget } from './target.js';
import { agreeing, counted } from '../wording.js';

/** A task embedding of the target, and the probe run that made it when this ranking made it (else null). */
export interface TargetEmbedding extends SeededTarget {
  probeRunId: ProbeResult['runId'] | null;
}

export interface ProbePlan {
  /** The probe's recipe; its seed (default 0) is the first one tried. */
  spec: ProbeSpec;
  /**
   * Runs one probe (in this process or on the worker): the target's `position`th embedding (from 0) of the `count`
   * compared, so that the stored ones before it are counted in what a person is told; `signal` stops it after a step.
   */
  run: (spec: ProbeSpec, position: number, count: number, signal?: AbortSignal) => Promise<ProbeResult>;
}

/**
 * Collects `count` task embeddings of the target: the newest stored ones of `datasetIds` trained with the probes'
 * `recipe` first, then probes in seed order (`plan` is called only when one is needed, since building it may ask for
 * flags a stored target does not need). Once `signal` aborts, the probe in training stops after its step and this
 * fails with stoppedRanking's error; the probes finished before it stay stored.
 */
export async function targetEmbeddings(
  db: LibraryDb,
  base: BaseModel,
  datasetIds: number[],
  options: { count: number; withInit: boolean; recipe: EmbeddingRecipe; plan: () => ProbePlan; signal?: AbortSignal },
): Promise<TargetEmbedding[]> {
  const stored = storedTargetEmbeddings(db, base, datasetIds, { withInit: options.withInit, limit: options.count, recipe: options.recipe });
  const embeddings: TargetEmbedding[] = stored.map((s) => ({ ...s, probeRunId: null }));
  if (stored.length >= options.count) return embeddings;
  const plan = options.plan();
  const seeds = unusedSeeds(
    plan.spec.seed ?? 0,
    options.count - stored.length,
    stored.map((s) => s.seed),
  );
  const { signal } = options;
  for (const [made, seed] of seeds.entries()) {
    const result = await plan.run({ ...plan.spec, seed }, embeddings.length, options.count, signal).catch((error: unknown) => {
      throw signal?.aborted ? stoppedRanking(made) : error;
    });
    embeddings.push({ ...promptTarget(db, result.promptId, base), seed, probeRunId: result.runId });
  }
  return embeddings;
}

/** `count` seeds from `first` up, skipping those the stored embeddings were trained with (the same probe again adds nothing). */
export function unusedSeeds(first: number, count: number, taken: (number | null)[]): number[] {
  const used = new Set(taken);
  const seeds: number[] = [];
  for (let seed = first; seeds.length < count; seed++) if (!used.has(seed)) seeds.push(seed);
  return seeds;
}

/** What a person who stopped a ranking (the app's Stop, Ctrl-C) is told: the `finished` probes it made are kept. */
function stoppedRanking(finished: number): SproutError {
  const kept =
    finished === 0
      ? 'No probe run had finished'
      : `${counted(finished, 'probe run')} had finished and ${agreeing(finished, 'is', 'are')} kept`;
  return new SproutError('cancelled', `The ranking was stopped. ${kept}; ranking this task again reuses what is kept.`);
}
