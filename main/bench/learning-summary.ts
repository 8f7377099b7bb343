/** One replayed task beside its reference: the numbers learning.json holds for it, and whether the targets hold. */
import { referenceVocabIds, type InstructRun } from './learning-reference.js';
import { median } from './measure.js';

/** Sprout's final dev accuracy may be at most this far below the reference's; steps must be this many times faster. */
export const LEARNING_TARGETS = { accuracyPoints: 1, speedup: 3 } as const;

export interface TaskReplay {
  /** [step, dev rank accuracy] at the reference's evaluation steps, step 0 first. */
  curve: [number, number][];
  /** Wall seconds of each training step but the first (which also builds the session). */
  stepSeconds: number[];
  /** The most frequent dev label and its share (Sprout's majority-class baseline). */
  majorityOfDev: { label: string; accuracy: number };
  /** Vocabulary ids of the prompt rows after the label rows, as Sprout's init drew them. */
  vocabIds: number[];
  threads: number;
  notes: string[];
}

const round = (v: number, digits = 6) => Number(v.toFixed(digits));

/** One task's entry of learning.json: Sprout beside the reference, and whether the targets hold. */
export function taskSummary(ref: InstructRun, replay: TaskReplay) {
  const mean = replay.stepSeconds.reduce((s, v) => s + v, 0) / replay.stepSeconds.length;
  const final = replay.curve.at(-1)!;
  const refFinal = ref.evals.at(-1)!;
  const refStep0 = ref.evals.find((e) => e.step === 0)!;
  const sproutStep0 = replay.curve.find(([s]) => s === 0)?.[1] ?? null;
  return {
    majority: round(ref.majority_baseline.dev_acc),
    majority_label: ref.majority_baseline.word,
    majority_of_dev: { label: replay.majorityOfDev.label, accuracy: round(replay.majorityOfDev.accuracy) },
    zero_shot: sproutStep0 === null ? null : round(sproutStep0),
    sprout: {
      final_accuracy: round(final[1]),
      final_step: final[0],
      seconds_per_step: round(mean, 5),
      seconds_per_step_median: round(median(replay.stepSeconds), 5),
      threads: replay.threads,
      curve: replay.curve.map(([s, a]) => [s, round(a)]),
    },
    reference: {
      final_accuracy: round(refFinal.rank_acc),
      final_step: refFinal.step,
      seconds_per_step: round(ref.train_seconds_per_step, 5),
      threads: ref.threads,
      curve: ref.evals.map((e) => [e.step, round(e.rank_acc)]),
    },
    step0_identical: sproutStep0 === refStep0.rank_acc,
    init_vocab_ids_identical: JSON.stringify(replay.vocabIds) === JSON.stringify(referenceVocabIds(ref)),
    accuracy_diff_points: round(100 * (final[1] - refFinal.rank_acc), 3),
    speedup: round(ref.train_seconds_per_step / mean, 3),
    accuracy_target_met: 100 * (final[1] - refFinal.rank_acc) >= -LEARNING_TARGETS.accuracyPoints,
    speed_target_met: ref.train_seconds_per_step / mean >= LEARNING_TARGETS.speedup,
    data_notes: replay.notes,
  };
}

export type TaskSummary = ReturnType<typeof taskSummary>;
