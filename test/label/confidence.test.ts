import { describe, expect, it } from 'vitest';
import { addedColumnNames, addedColumns } from '../../main/label/columns.js';
import { predict } from '../../main/label/confidence.js';
import { rowEncoder } from '../../main/label/encode.js';

describe('confidence from rank scores', () => {
  it('is the softmax over summed log-likelihoods, or over per-token means when length-normalised', () => {
    const scores = [-2, -3, -9];
    const z = Math.exp(-2) + Math.exp(-3) + Math.exp(-9);
    const p = predict(scores, [1, 2, 3], false);
    expect(p.best).toBe(0);
    expect(p.runnerUp).toBe(1);
    expect(p.confidence).toBeCloseTo(Math.exp(-2) / z, 12);
    expect(p.margin).toBeCloseTo((Math.exp(-2) - Math.exp(-3)) / z, 12);
    // Per token: -2, -1.5, -3 — the two-token label now wins.
    const n = predict(scores, [1, 2, 3], true);
    const zn = Math.exp(-2) + Math.exp(-1.5) + Math.exp(-3);
    expect(n.best).toBe(1);
    expect(n.runnerUp).toBe(0);
    expect(n.probs[2]).toBeCloseTo(Math.exp(-3) / zn, 12);
  });

  it('stays finite for very negative scores and gives ties to the earlier label', () => {
    const p = predict([-1e4, -1e4 - 1], [1, 1], false);
    expect(p.confidence).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
    expect(predict([-5, -5], [1, 1], false).best).toBe(0);
    expect(predict([-5], [1], false)).toMatchObject({ best: 0, runnerUp: -1, confidence: 1, margin: 0 });
  });
});

describe('output columns and rows', () => {
  it('suffixes added names the input already uses', () => {
    const a = addedColumns(['text', 'confidence', 'p_pos', 'p_pos_1'], { kind: 'classification', labels: ['pos', 'neg'], ensemble: true });
    expect(addedColumnNames(a)).toEqual([
      'predicted_label',
      'confidence_1',
      'runner_up',
      'margin',
      'agreement',
      'p_pos_2',
      'p_neg',
      'skipped_reason',
    ]);
    const g = addedColumns(['predicted_label'], { kind: 'generation', labels: [], ensemble: false });
    expect(addedColumnNames(g)).toEqual(['predicted_label_1', 'confidence', 'skipped_reason']);
  });

  it('quotes CSV as RFC 4180 and writes quoting-off TSV as it is', () => {
    const csv = rowEncoder('csv', ['a', 'b'], ['predicted_label', 'confidence']);
    expect(csv.header()).toBe('a,b,predicted_label,confidence\n');
    expect(csv.row({ a: 'x, "y"', b: null }, ['l\n2', 0.5])).toBe('"x, ""y""",,"l\n2",0.5\n');
    const tsv = rowEncoder('tsv', ['s'], ['predicted_label'], { tsvQuoting: 'none' });
    expect(tsv.row({ s: '"unbalanced' }, ['p'])).toBe('"unbalanced\tp\n');
    expect(() => tsv.row({ s: 'a\tb' }, ['p'])).toThrow(/TSV without quoting/);
    const jsonl = rowEncoder('jsonl', ['s'], ['predicted_label', 'confidence']);
    expect(jsonl.row({ s: 'x', extra: '1' }, ['p', null])).toBe('{"s":"x","extra":"1","predicted_label":"p","confidence":null}\n');
  });
});
