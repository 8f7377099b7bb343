import type { Baselines, Judgement, TestScore } from '../../preload/contract.js';

/**
 * The judgement a library prompt's metrics record carries (prompts trained before baselines existed have none): of
 * its headline, the test split's (with that split's own baselines) when one was held out.
 */
export function judgementOf(metrics: Record<string, unknown>): Judgement | null {
  const baselines = metrics.baselines as Baselines | undefined;
  if (!baselines || typeof baselines !== 'object') return null;
  const metric =
    typeof metrics.metric === 'string' && typeof metrics.metric_reason === 'string'
      ? { metric: metrics.metric as NonNullable<Judgement['metric']>['metric'], reason: metrics.metric_reason }
      : null;
  const warnings = Array.isArray(metrics.warnings) ? metrics.warnings.filter((w): w is string => typeof w === 'string') : [];
  const test = metrics.test as TestScore | null | undefined;
  if (test && typeof test === 'object') return { metric, baselines: testBaselines(test), warnings };
  return { metric, baselines: { majority: baselines.majority ?? null, zero_shot: baselines.zero_shot ?? null }, warnings };
}

/** A test score's baselines: the test rows' own majority class, and the run's initial prompt on them (older records: none). */
export function testBaselines(test: TestScore): Baselines {
  return { majority: test.majority ?? null, zero_shot: test.zero_shot ?? null };
}
