import { describe, expect, it } from 'vitest';
import { metricChange, metricRows, metricValue, promptHeadline } from '../../renderer/lib/format.js';
import { clipped, counted, percentText } from '../../main/wording.js';

/** A library record as `sprout train` stores it (main/train/run.ts). */
const stored = {
  best: { step: 4, examples: 30, rank_accuracy: 0.7, exact_match: 0, macro_f1: 0.411765, mcc: 0, valid_label_share: 0 },
  best_step: 4,
  first_loss: 15.2,
  last_loss: 11.9,
  steps: 4,
  metric: 'mcc',
  metric_reason: 'MCC: the classes are imbalanced (auto)',
  baselines: { majority: { label: '1', share: 0.7 }, zero_shot: null },
  warnings: ['Every validation example was predicted "1"'],
};

describe('library wording', () => {
  it('headlines the metric the prompt was kept by on the test split, else on validation said to be optimistic; marked when warned; older records by accuracy', () => {
    expect(promptHeadline(stored)).toBe('MCC 0.000 on validation (optimistic) ⚠');
    expect(promptHeadline({ ...stored, test: { ...stored.best, mcc: 0.028 }, warnings: [] })).toBe('MCC 0.028 on test');
    expect(promptHeadline({ best: { rank_accuracy: 0.866, exact_match: 0.5 } })).toBe('accuracy 86.6\u00a0% on validation (optimistic)');
    expect(promptHeadline({})).toBe('–');
  });

  it('names every stored metric in words, never a raw key', () => {
    const rows = metricRows(stored);
    expect(rows).toContainEqual(['best evaluation: answers that are a label', '0.0\u00a0%']);
    expect(rows).toContainEqual(['best evaluation: accuracy', '70.0\u00a0%']);
    expect(rows).toContainEqual(['best evaluation: validation examples', '30']);
    expect(rows).toContainEqual(['training loss, first 10 % of steps', '15.200']);
    for (const [name] of rows) expect(name).not.toMatch(/_|valid label share|rank accuracy/);
  });

  it('reads a share as a percentage and a score as a plain number, alike in the app and on the command line', () => {
    expect(metricValue('rank_accuracy', 0.53815)).toBe('53.8\u00a0%');
    expect(percentText(0.53815)).toBe('53.8 %');
    expect(metricValue('macro_f1', 0.513548)).toBe('0.514');
    expect(metricValue('mcc', -0.0954)).toBe('-0.095');
    expect(metricChange('rank_accuracy', 0.0125)).toBe('+1.3\u00a0pts');
    expect(metricChange('macro_f1', -0.0125)).toBe('−0.013');
    expect(metricChange('mcc', 0)).toBe('+0.000');
  });

  it("counts a test score's examples as test examples, not validation ones", () => {
    const rows = metricRows({ ...stored, test: { step: 4, examples: 39, rank_accuracy: 0.5 } });
    expect(rows).toContainEqual(['test split (the headline): test examples', '39']);
    expect(rows).toContainEqual(['test split (the headline): step of the prompt scored', '4']);
    expect(rows).toContainEqual(['best evaluation: validation examples', '30']);
  });

  it("puts a counted noun in the number's form, thousands grouped, one rule for every message", () => {
    expect([0, 1, 2, 1200].map((n) => counted(n, 'prompt'))).toEqual(['0 prompts', '1 prompt', '2 prompts', '1,200 prompts']);
    expect(counted(3, 'entry', 'entries')).toBe('3 entries');
    expect(counted(1, 'probe run')).toBe('1 probe run');
  });

  it('keeps a percentage whole on one line: the space before % does not break', () => {
    expect(promptHeadline({ best: { rank_accuracy: 0.667 } })).not.toMatch(/ %/);
  });
});

describe('clipped', () => {
  it('counts characters, not UTF-16 units: an emoji is kept whole or left out', () => {
    expect(clipped('🌱 Nachrichten-Thema', 20)).toBe('🌱 Nachrichten-Thema');
    expect(clipped('🌱🌱🌱 Nachrichten-Thema', 3)).toBe('🌱🌱…');
    expect(clipped('short', 5)).toBe('short');
    expect(clipped('shorter', 5)).toBe('shor…');
  });
});
