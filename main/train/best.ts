/**
 * Which evaluation is the best: the one rule the trainer keeps its prompt by and the app reads a run's best
 * evaluation by. The higher value of the run's metric wins; on a tie the higher greedy exact match; on a tie of
 * both the later evaluation, whose prompt has trained longer for the same score. Only a strict gain counts as an
 * improvement for early stopping, so a plateau still runs out of patience.
 */

/** An evaluation as the rule sees it: the value of the run's metric, and greedy exact match. */
export interface Score {
  value: number;
  exactMatch: number;
}

/** `improved`: a strict gain (patience starts again); `tied`: as good (the later prompt is kept); `worse`: neither. */
export type Verdict = 'improved' | 'tied' | 'worse';

export function judge(candidate: Score, best: Score | null): Verdict {
  if (best === null || candidate.value > best.value) return 'improved';
  if (candidate.value < best.value) return 'worse';
  if (candidate.exactMatch > best.exactMatch) return 'improved';
  return candidate.exactMatch === best.exactMatch ? 'tied' : 'worse';
}

/** The best of evaluations in the order they ran, by the rule; null for none. */
export function bestOf<T>(evaluations: readonly T[], score: (e: T) => Score): T | null {
  let best: { item: T; score: Score } | null = null;
  for (const item of evaluations) {
    const s = score(item);
    if (judge(s, best && best.score) !== 'worse') best = { item, score: s };
  }
  return best && best.item;
}
