/**
 * The memory plan against what `npm run bench -- sizes` measured (bench-results/sizes.json, committed with the
 * README table): for every size and width the plan must not promise less than the measured peak RSS, or a run it
 * lets start could swap, nor more than 1.3× it, or it refuses runs that fit. Rerunning the benchmark after a change
 * to the engine's memory use re-checks the plan.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseT5Config } from '../../main/checkpoint/config.js';
import { findFamily } from '../../main/checkpoint/families.js';
import { memoryPlan } from '../../main/weights/memory-plan.js';
import { oneSessionGroupAtATime, type WeightWidth } from '../../main/weights/width.js';

interface Row {
  size: string;
  /** int8-compute: the row only scores, with int8 products (main/bench/sizes.ts). */
  width: WeightWidth | 'int8-compute';
  peak_rss_mb: number;
}

const bench = JSON.parse(readFileSync(resolve(__dirname, '../../bench-results/sizes.json'), 'utf8')) as {
  batch: number;
  input_tokens: number;
  prompt_length: number;
  target_tokens: number;
  rows: Row[];
};
const FAMILY: Record<string, string> = { base: 't5-base', large: 't5-large', xl: 'flan-t5-xl' };

describe('memory plan against the measured sizes benchmark', () => {
  it.each(bench.rows.map((r) => [`${r.size} ${r.width}`, r] as const))('%s', (_, row) => {
    const family = findFamily(FAMILY[row.size])!;
    const common = {
      config: parseT5Config({ model_type: 't5', ...family.config }, family.repo),
      batch: bench.batch,
      inputTokens: bench.input_tokens,
      promptLength: bench.prompt_length,
      optimizerValuesPerParameter: 0,
    };
    const plan = memoryPlan(
      row.width === 'int8-compute'
        ? // It scores two one-token label texts (and eos) with int8 products, as a labelling job plans it.
          { ...common, width: 'int8', targetTokens: 2, sessions: 1, scoring: { candidates: 2, compute: 'int8' } }
        : // The benchmark trains, then scores: both sessions at once unless the width holds one group at a time.
          { ...common, width: row.width, targetTokens: bench.target_tokens, sessions: oneSessionGroupAtATime(row.width) ? 1 : 2 },
      64e9,
    );
    const measured = row.peak_rss_mb * 1e6;
    expect(plan.totalBytes).toBeGreaterThanOrEqual(measured);
    expect(plan.totalBytes).toBeLessThanOrEqual(1.3 * measured);
  });
});
