/**
 * The recommended transfer source: the most similar that learnt its own task. The app preselected (and badged
 * "recommended") an AG News prompt whose test accuracy was 24.3 %, below its majority class, for an SST-2 target.
 */
import { describe, expect, it } from 'vitest';
import { aboveBaselines, passedOverNote, recommendSource } from '../../main/transfer/recommend.js';
import type { RankedSource } from '../../main/transfer/rank.js';

/** A stored metrics record as training writes it (main/train/run-result.ts), by MCC, with or without a test split. */
const record = (validation: number, test: number | null) => ({
  metric: 'mcc',
  best: { step: 100, mcc: validation },
  baselines: { majority: { label: 'a', share: 0.6, mcc: 0 }, zero_shot: { step: 0, mcc: 0.05 } },
  test: test === null ? null : { step: 100, mcc: test, majority: { label: 'a', share: 0.6, mcc: 0 }, zero_shot: { step: 0, mcc: 0.1 } },
});

describe('aboveBaselines', () => {
  it('judges the headline (test split, else validation) against the baselines stored beside it', () => {
    expect(aboveBaselines(record(0.4, 0.3))).toBe(true);
    expect(aboveBaselines(record(0.4, 0.1))).toBe(false); // a tie with its test rows' zero-shot baseline
    expect(aboveBaselines(record(0.4, 0.05))).toBe(false); // under its zero-shot, above the majority
    expect(aboveBaselines(record(0.04, null))).toBe(false);
    expect(aboveBaselines(record(0.06, null))).toBe(true);
    // Accuracy where no metric was stored; a record without baselines (a PEFT import, an older Sprout) is given the benefit.
    expect(aboveBaselines({ best: { rank_accuracy: 0.5 }, baselines: { majority: { rank_accuracy: 0.6 }, zero_shot: null } })).toBe(false);
    expect(aboveBaselines({})).toBe(true);
  });
});

describe('recommendSource', () => {
  // Sources as a ranking gives them: each with the metrics record stored with its prompt.
  const metricsOf: Record<number, Record<string, unknown>> = { 1: record(0.3, 0.0), 2: record(0.3, 0.2), 3: {} };
  const [failed, learnt, imported] = [1, 2, 3];
  const ranked = (ids: number[], scores: (number | null)[]): RankedSource[] =>
    ids.map((id, i) => ({ id, name: `p${id}`, score: scores[i], metrics: metricsOf[id] }) as RankedSource);

  it('passes over the similar sources that learnt nothing, and recommends none that is not similar', () => {
    expect(recommendSource(ranked([failed, learnt, imported], [0.9, 0.5, 0.4]))).toEqual({
      id: learnt,
      passedOver: [expect.objectContaining({ id: failed })],
    });
    expect(recommendSource(ranked([imported, failed], [0.2, 0.1])).id).toBe(imported);
    expect(recommendSource(ranked([failed, learnt], [0.9, -0.1]))).toEqual({
      id: null,
      passedOver: [expect.objectContaining({ id: failed })],
    });
    expect(recommendSource(ranked([learnt], [null]))).toEqual({ id: null, passedOver: [] });
  });
});

describe('passedOverNote', () => {
  const source = (id: number, name: string) => ({ id, name, score: 0.5 - id / 100 }) as RankedSource;
  it('names up to five sources, each cut short, then says how many more', () => {
    expect(passedOverNote([source(1, 'copy 1')])).toBe(
      ' “copy 1” (0.490) is passed over: its score on its own task is not above the baselines, so there is nothing learnt to pass on.',
    );
    const many = [source(1, 'x'.repeat(200)), ...[2, 3, 4, 5, 6, 7].map((i) => source(i, `copy ${i}`))];
    expect(passedOverNote(many)).toBe(
      ` “${'x'.repeat(39)}…” (0.490), “copy 2” (0.480), “copy 3” (0.470), “copy 4” (0.460), “copy 5” (0.450) and 2 more are ` +
        'passed over: their scores on their own tasks are not above the baselines, so there is nothing learnt to pass on.',
    );
  });
});
