import { describe, expect, it } from 'vitest';
import { rowsNote } from '../../main/label/rows-note.js';

describe('rowsNote: what a job did to rows besides labelling them', () => {
  it('is null when every row was read whole and labelled', () => {
    expect(rowsNote({ maxInputTokens: 512 }, { truncated: 0, skipped: {} })).toBeNull();
    expect(rowsNote({ maxInputTokens: 512 }, { truncated: 0, skipped: { 'empty text': 0 } })).toBeNull();
  });

  it('names the length limit, what a cut row was labelled on, and each skip reason with its count', () => {
    expect(rowsNote({ maxInputTokens: 512 }, { truncated: 1, skipped: {} })).toBe(
      '1 row was longer than 512 tokens: each was labelled on its first 511 tokens and the end-of-text token.',
    );
    expect(rowsNote({ maxInputTokens: 64 }, { truncated: 3, skipped: { 'empty text': 2, 'missing value in column "text"': 1 } })).toBe(
      '3 rows were longer than 64 tokens: each was labelled on its first 63 tokens and the end-of-text token. ' +
        '3 rows were left unlabelled (empty text: 2; missing value in column "text": 1); skipped_reason in the output says which.',
    );
  });
});
