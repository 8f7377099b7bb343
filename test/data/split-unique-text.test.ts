import { describe, expect, it } from 'vitest';
import { importDataset } from '../../main/library/import-dataset.js';
import { imbalanceHint } from '../../main/data/imbalance.js';
import { dataFile, freshLibrary, tsvLines } from './helpers.js';

describe('the automatic split is by unique text', () => {
  it("CoLA's real training file: no text on both sides, every copy of a repeated sentence together", async () => {
    const db = freshLibrary();
    const file = dataFile('cola', 'in_domain_train.tsv');
    const report = await importDataset(db, file, { textColumns: ['3'], labelColumn: '1', seed: 7 });
    expect(report.header).toBe(false);
    expect(report.rows).toBe(8551);
    expect(report.splitBy).toBe('unique text');
    // The same normalisation the duplicate count uses: the stored JSON of the text values, grouped by SQLite.
    const straddling = db
      .prepare('SELECT texts FROM dataset_rows WHERE dataset_id = ? GROUP BY texts HAVING COUNT(DISTINCT split) > 1')
      .all(report.id);
    expect(straddling).toEqual([]);
    // Independently of Sprout's reader: the sentences that occur more than once in the file (column 3).
    const counts = new Map<string, number>();
    for (const fields of tsvLines(file)) counts.set(fields[3], (counts.get(fields[3]) ?? 0) + 1);
    const repeated = [...counts].filter(([, n]) => n > 1);
    expect(repeated.reduce((n, [, c]) => n + c - 1, 0)).toBe(19);
    expect(report.duplicates).toBe(19);
    expect(report.duplicateTextsKeptTogether).toBe(repeated.length);
    const sides = db.prepare('SELECT texts, split FROM dataset_rows WHERE dataset_id = ?').all(report.id) as {
      texts: string;
      split: string;
    }[];
    const sideOf = new Map<string, Set<string>>();
    for (const r of sides) sideOf.set(JSON.parse(r.texts)[0], (sideOf.get(JSON.parse(r.texts)[0]) ?? new Set()).add(r.split));
    for (const [sentence] of repeated) expect(sideOf.get(sentence)!.size, sentence).toBe(1);
    // Still about a tenth of each class, and the report's counts are the stored ones.
    const stored = db
      .prepare('SELECT split, label, COUNT(*) AS n FROM dataset_rows WHERE dataset_id = ? GROUP BY split, label')
      .all(report.id) as { split: string; label: string; n: number }[];
    const of = (split: string, label: string) => stored.find((r) => r.split === split && r.label === label)?.n ?? 0;
    expect(report.splitLabels).toEqual({
      train: { 0: of('train', '0'), 1: of('train', '1') },
      validation: { 0: of('validation', '0'), 1: of('validation', '1') },
      test: {},
    });
    expect(of('validation', '0') + of('train', '0')).toBe(2528);
    expect(Math.abs(of('validation', '1') - 602)).toBeLessThanOrEqual(20);
    expect(Math.abs(of('validation', '0') - 253)).toBeLessThanOrEqual(20);
    expect(report.imbalance?.message).toBe(
      '70.4 % of rows are "1": accuracy will look high for a prompt that always says it; judge by macro-F1/MCC.',
    );
    db.close();
  });

  it('the imbalance hint: a dominant class, a rare class, or none', () => {
    expect(imbalanceHint({ acceptable: 87, unacceptable: 13 })?.message).toBe(
      '87.0 % of rows are "acceptable": accuracy will look high for a prompt that always says it; judge by macro-F1/MCC.',
    );
    expect(imbalanceHint({ entailment: 115, contradiction: 119, neutral: 16 })?.message).toMatch(/^Only 6.4 % of rows are "neutral"/);
    expect(imbalanceHint({ a: 50, b: 50 })).toBeNull();
    expect(imbalanceHint({ a: 10 })).toBeNull();
  });
});
