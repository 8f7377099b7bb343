/**
 * Sprout's run against a recorded Hugging Face run, point by point: the training-loss means per 50 steps
 * (within 2% relative up to step 500, 5% after), every evaluation (rank accuracy and greedy exact match within
 * 0.5 points, the first five greedy outputs identical), the final prompt's relative L2 distance and the time
 * per step. Only the reference points Sprout's run reached are compared, so a shorter replay compares its prefix.
 */
import type { EvalRecord } from '../train/trainer-state.js';
import { LOSS_WINDOW, type ReferenceRun } from './reference-runs.js';
import { mean } from './measure.js';

export const TARGETS = { lossRelEarly: 0.02, lossRelLate: 0.05, lossEarlyUntil: 500, accuracyPoints: 0.5 };

export interface LossPoint {
  step: number;
  reference: number;
  sprout: number;
  rel_diff: number;
  target: number;
  ok: boolean;
}

export interface EvalPoint {
  step: number;
  rank_accuracy: { reference: number; sprout: number; diff_points: number };
  exact_match: { reference: number; sprout: number; diff_points: number };
  valid_label_share: { reference: number; sprout: number };
  rank_mcc: { reference: number; sprout: number };
  greedy_mcc: { reference: number; sprout: number };
  first5: { reference: number[][]; sprout: number[][]; same: boolean };
  ok: boolean;
}

export interface RunComparison {
  steps: number;
  loss: LossPoint[];
  evals: EvalPoint[];
  /** ||P_sprout − P_ref|| / ||P_ref|| of the final prompts; null when the replay stopped early. */
  final_prompt_rel_l2: number | null;
  final_prompt_norm: { reference: number; sprout: number } | null;
  seconds_per_step: { reference: number; sprout: number };
  /** Reference evaluations at steps the run reached but did not evaluate. */
  missing_evals: number[];
  ok: boolean;
}

export interface SproutRun {
  /** Training loss of every step (step i + 1 at index i). */
  losses: number[];
  evals: EvalRecord[];
  finalPrompt: Float32Array;
  secondsPerStep: number;
}

const points = (v: number) => Number((100 * v).toFixed(4));

export function compareRun(ref: ReferenceRun, run: SproutRun): RunComparison {
  const steps = run.losses.length;
  const loss = ref.train_loss
    .filter(([step]) => step <= steps && step >= LOSS_WINDOW)
    .map(([step, reference]): LossPoint => {
      const sprout = mean(run.losses.slice(step - LOSS_WINDOW, step));
      const relDiff = sprout / reference - 1;
      const target = step <= TARGETS.lossEarlyUntil ? TARGETS.lossRelEarly : TARGETS.lossRelLate;
      return { step, reference, sprout: round(sprout), rel_diff: round(relDiff), target, ok: Math.abs(relDiff) <= target };
    });
  const reached = ref.evals.filter((e) => e.step <= steps);
  const missing: number[] = [];
  const evals: EvalPoint[] = [];
  for (const r of reached) {
    const mine = run.evals.find((e) => e.step === r.step)?.metrics;
    if (!mine?.rank || !mine.greedy) {
      missing.push(r.step);
      continue;
    }
    const rankDiff = points(mine.rank.accuracy - r.rank_acc);
    const emDiff = points(mine.exactMatch - r.greedy_exact_match);
    const same = JSON.stringify(mine.firstOutputs) === JSON.stringify(r.greedy_first5);
    evals.push({
      step: r.step,
      rank_accuracy: { reference: r.rank_acc, sprout: mine.rank.accuracy, diff_points: rankDiff },
      exact_match: { reference: r.greedy_exact_match, sprout: mine.exactMatch, diff_points: emDiff },
      valid_label_share: { reference: r.greedy_valid_label_frac, sprout: mine.validLabelShare ?? 0 },
      rank_mcc: { reference: r.rank_mcc, sprout: round(mine.rank.mcc) },
      greedy_mcc: { reference: r.greedy_mcc_invalid_as_wrong, sprout: round(mine.greedy.mcc) },
      first5: { reference: r.greedy_first5, sprout: mine.firstOutputs, same },
      ok: Math.abs(rankDiff) <= TARGETS.accuracyPoints && Math.abs(emDiff) <= TARGETS.accuracyPoints && same,
    });
  }
  const finished = steps === ref.steps_done;
  const refPrompt = Float64Array.from(ref.final_prompt.flat());
  let diff = 0,
    refNorm = 0,
    norm = 0;
  if (finished) {
    if (run.finalPrompt.length !== refPrompt.length)
      throw new Error(`prompt sizes differ: ${run.finalPrompt.length} vs ${refPrompt.length}`);
    refPrompt.forEach((v, i) => {
      diff += (run.finalPrompt[i] - v) ** 2;
      refNorm += v * v;
      norm += run.finalPrompt[i] ** 2;
    });
  }
  return {
    steps,
    loss,
    evals,
    final_prompt_rel_l2: finished ? round(Math.sqrt(diff / refNorm)) : null,
    final_prompt_norm: finished ? { reference: round(Math.sqrt(refNorm)), sprout: round(Math.sqrt(norm)) } : null,
    seconds_per_step: { reference: round(ref.train_seconds_per_step), sprout: round(run.secondsPerStep) },
    missing_evals: missing,
    ok: loss.every((p) => p.ok) && evals.every((e) => e.ok) && missing.length === 0,
  };
}

const round = (v: number) => Number(v.toPrecision(6));
