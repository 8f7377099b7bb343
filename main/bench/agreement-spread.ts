/**
 * How far float32-sized differences alone move a replay: Sprout replays of a recorded run whose initial prompt (the
 * class-label init) carries seeded relative noise of at most 1e-7 on every value. Their spread is what "the same
 * run" means at float32 precision; at each 50-step loss point the benchmark says whether the reference lies inside.
 */
import { inLibrary } from '../library/run-records.js';
import { libraryPath, openLibrary } from '../library/db.js';
import { insertPrompt } from '../library/prompts.js';
import { loadPromptModel } from '../runtime/model.js';
import { loadTokenizer } from '../tokenizer/index.js';
import { parseTrainingConfig, type TrainingConfig, type TrainingConfigInput } from '../train/config.js';
import { initPrompt } from '../train/init.js';
import { NumpyPcg64 } from '../train/rng/numpy-pcg64.js';
import { loadCheckpoint, runDir } from '../train/run-store.js';
import { runTraining } from '../train/run.js';
import { LOSS_WINDOW, referenceConfig, type ReferenceRun, type ReferenceTask } from './reference-runs.js';
import { withTempHome } from './temp-home.js';
import { mean } from './measure.js';

export const SPREAD = { replays: 8, relativeNoise: 1e-7, stepTolerance: 1e-3 } as const;

/** The config's class-label init with value v moved by noise · |v| · u, u uniform in [-1, 1) from numpy's PCG64(seed). */
async function perturbedInit(config: TrainingConfig, seed: number, noise: number): Promise<Float32Array> {
  const tokenizer = await loadTokenizer(config.model);
  const model = await loadPromptModel(config.model, { device: 'cpu', weights: 'fp32' });
  try {
    const words = Object.values(config.task.verbalizer ?? {});
    const init = initPrompt(
      { kind: 'labels' },
      {
        length: config.promptLength,
        dModel: model.config.dModel,
        vocabSize: model.config.vocabSize,
        seed: config.seed,
        embeddings: (ids) => model.embeddings(ids),
        encode: (t) => tokenizer.encode(t),
        eosId: tokenizer.eosId,
        labelTargets: tokenizer.encodeBatch(words, { maxLength: config.task.maxTargetLength }).ids,
      },
    );
    const u = new NumpyPcg64(seed).uniform(-1, 1, init.prompt.data.length);
    return init.prompt.data.map((v, i) => v + noise * Math.abs(v) * u[i]);
  } finally {
    await model.dispose();
  }
}

/**
 * `given` with its class-label init moved by SPREAD.relativeNoise (seeded): the moved init goes into the library
 * under `home` as a prompt the run starts from.
 */
export async function perturbedConfig(home: string, given: TrainingConfigInput, name: string, seed: number): Promise<TrainingConfigInput> {
  const config = parseTrainingConfig(given);
  const embedding = await perturbedInit(config, seed, SPREAD.relativeNoise);
  const { promptLength } = config;
  const db = openLibrary(libraryPath(home));
  try {
    const id = insertPrompt(db, {
      name: `${name} init, perturbed (seed ${seed})`,
      model: { id: null, path: null, summary: null },
      length: promptLength,
      dModel: embedding.length / promptLength,
      embedding,
      init: 'labels',
    });
    return { ...given, init: `prompt:${id}` };
  } finally {
    db.close();
  }
}

/** Every step's training loss of one perturbed replay (no evaluation: only the losses are compared). */
export async function perturbedReplay(
  shared: string,
  task: ReferenceTask,
  ref: ReferenceRun,
  seed: number,
  steps = ref.steps_done,
): Promise<number[]> {
  return withTempHome(`sprout-spread-${task}-`, async (home) => {
    const given = referenceConfig(shared, task, ref, { validation: undefined, steps, checkpointEvery: steps });
    const result = await runTraining({ config: await perturbedConfig(home, given, task, seed) }, inLibrary(home));
    const state = loadCheckpoint(runDir(home, String(result.run_id)));
    if (!state || state.losses.length !== steps)
      throw new Error(`the perturbed ${task} replay (seed ${seed}) ended at step ${state?.losses.length ?? 0}, not ${steps}`);
    return state.losses;
  });
}

export interface SpreadPoint {
  step: number;
  reference: number;
  min: number;
  max: number;
  inside: boolean;
}

/** The perturbed replays of one run: the 50-step points' spread and how many first steps each keeps within 1e-3. */
export interface Spread {
  points: SpreadPoint[];
  stepsWithinTolerance: { replay: number; perturbed: number[] };
}

/** The 50-step loss means of the replays at each reference point: their range, and whether the reference is in it. */
export function spreadPoints(ref: ReferenceRun, replays: number[][]): SpreadPoint[] {
  const steps = Math.min(...replays.map((r) => r.length));
  return ref.train_loss
    .filter(([step]) => step >= LOSS_WINDOW && step <= steps)
    .map(([step, reference]) => {
      const means = replays.map((losses) => mean(losses.slice(step - LOSS_WINDOW, step)));
      const min = Math.min(...means),
        max = Math.max(...means);
      return { step, reference, min: round(min), max: round(max), inside: min <= reference && reference <= max };
    });
}

/** The last step k such that steps 1..k of `losses` are within `tolerance` relative of the recorded per-step losses. */
export function stepsWithin(losses: number[], recorded: [number, number][], tolerance: number = SPREAD.stepTolerance): number {
  let k = 0;
  while (k < Math.min(losses.length, recorded.length) && Math.abs(losses[k] / recorded[k][1] - 1) <= tolerance) k++;
  return k;
}

const round = (v: number) => Number(v.toPrecision(6));
