import { describe, expect, it } from 'vitest';
import { Mt19937 } from '../../main/train/rng/mt19937.js';
import { NumpyPcg64, seedSequenceState } from '../../main/train/rng/numpy-pcg64.js';

describe('numpy default_rng', () => {
  it('draws the reference run ids: numpy.random.default_rng(0).choice(5000, 18, replace=False)', () => {
    // From ../shared/fixtures/mini-t5-pretrained/prompt_tuning_reference.json (numpy 1.24.2).
    expect(new NumpyPcg64(0).choiceWithoutReplacement(5000, 18)).toEqual([
      3174, 1345, 2548, 4558, 874, 82, 2718, 375, 4850, 204, 3030, 3160, 4238, 4059, 2515, 1535, 3646, 3242,
    ]);
  });

  it('seeds like SeedSequence(0).generate_state(4) and PCG64(0) gives its documented first outputs', () => {
    // numpy: SeedSequence(0).generate_state(4) and PCG64(0).random_raw(2).
    expect(Array.from(seedSequenceState(0, 4))).toEqual([2968811710, 3677149159, 745650761, 2884920346]);
    const g = new NumpyPcg64(0);
    expect([g.nextUint64(), g.nextUint64()]).toEqual([11749869230777074271n, 4976686463289251617n]);
  });

  it('draws distinct values in range', () => {
    const picks = new NumpyPcg64(7).choiceWithoutReplacement(50, 50);
    expect([...picks].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});

describe('MT19937 (torch CPU generator)', () => {
  it('gives the standard MT19937 outputs for seeds 5489 and 0', () => {
    expect(new Mt19937(5489).nextUint32()).toBe(3499211612);
    expect(new Mt19937(0).nextUint32()).toBe(2357136044);
  });

  it('randperm is a permutation and its state restores exactly', () => {
    const g = new Mt19937(3);
    g.randperm(1000);
    const saved = g.state();
    const a = g.randperm(100);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Mt19937.fromState(saved).randperm(100)).toEqual(a);
  });
});
