import { beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../main/tokenizer/index.js';
import type { T5Tokenizer } from '../../main/tokenizer/index.js';
import { initPrompt, parseInit, type InitContext } from '../../main/train/init.js';
import { miniModel, sharedWeight } from './fixtures.js';

let tokenizer: T5Tokenizer;
let W: ReturnType<typeof sharedWeight>;
const row = (id: number) => Array.from(W.data.subarray(id * W.dModel, (id + 1) * W.dModel));

function context(overrides: Partial<InitContext> = {}): InitContext {
  return {
    length: 20,
    dModel: W.dModel,
    vocabSize: W.vocabSize,
    seed: 0,
    embeddings: (ids) => Float32Array.from(ids.flatMap(row)),
    encode: (t) => tokenizer.encode(t),
    eosId: 1,
    ...overrides,
  };
}

const rowsOf = (data: Float32Array, d: number) =>
  Array.from({ length: data.length / d }, (_, i) => Array.from(data.subarray(i * d, (i + 1) * d)));

beforeAll(async () => {
  tokenizer = await loadTokenizer(miniModel);
  W = sharedWeight(miniModel);
});

describe('prompt initialisation', () => {
  it("labels: the reference run's init (mean of each verbaliser word's sub-tokens, then numpy default_rng(0) vocab rows)", () => {
    const labelTargets = ['unacceptable', 'acceptable'].map((w) => tokenizer.encode(w));
    expect(labelTargets).toEqual([
      [29452, 1],
      [9961, 1],
    ]);
    const { prompt, vocabIds } = initPrompt({ kind: 'labels' }, context({ labelTargets }));
    const referenceIds = [3174, 1345, 2548, 4558, 874, 82, 2718, 375, 4850, 204, 3030, 3160, 4238, 4059, 2515, 1535, 3646, 3242];
    expect(vocabIds).toEqual(referenceIds);
    expect(prompt.length).toBe(20);
    expect(prompt.data.length).toBe(20 * 128);
    const rows = rowsOf(prompt.data, 128);
    expect(rows[0]).toEqual(row(29452));
    expect(rows[1]).toEqual(row(9961));
    referenceIds.forEach((id, i) => expect(rows[2 + i]).toEqual(row(id)));
  });

  it('labels: a multi-token label row is the float32 mean of its sub-token rows, eos excluded', () => {
    const target = tokenizer.encode('not entailment');
    expect(target.length).toBeGreaterThan(2);
    const { prompt } = initPrompt({ kind: 'labels' }, context({ length: 3, labelTargets: [target, tokenizer.encode('entailment')] }));
    const sub = target.slice(0, -1).map(row);
    const mean = sub[0].map((_, c) => Math.fround(sub.reduce((s, r) => s + r[c], 0) / sub.length));
    expect(rowsOf(prompt.data, 128)[0]).toEqual(mean);
  });

  it('labels: more labels than rows keeps the first ones and says so', () => {
    const labelTargets = ['a', 'b', 'c'].map((w) => tokenizer.encode(w));
    const r = initPrompt({ kind: 'labels' }, context({ length: 2, labelTargets }));
    expect(r.prompt.length).toBe(2);
    expect(r.notes.join(' ')).toMatch(/3 labels but only 2 prompt rows/);
  });

  it('vocab: rows of ids numpy.random.default_rng(seed).choice(5000, P, replace=False) draws', () => {
    const { prompt, vocabIds } = initPrompt({ kind: 'vocab' }, context({ length: 7, seed: 3 }));
    expect(vocabIds).toEqual([4346, 896, 1183, 427, 4005, 4052, 906]); // numpy 2.4.6
    expect(rowsOf(prompt.data, 128)).toEqual(vocabIds.map(row));
  });

  it('random: numpy.random.default_rng(seed).uniform(-0.5, 0.5, (P, d)) in float32', () => {
    const { prompt } = initPrompt({ kind: 'random' }, context({ length: 2, dModel: 3, seed: 5 }));
    const numpy = [0.30500292, 0.30794079, 0.01532556, -0.21419862, -0.4460693, -0.11663112];
    prompt.data.forEach((v, i) => expect(v).toBeCloseTo(numpy[i], 7));
    const big = initPrompt({ kind: 'random' }, context({ seed: 1 })).prompt.data;
    expect(Math.max(...big)).toBeLessThan(0.5);
    expect(Math.min(...big)).toBeGreaterThanOrEqual(-0.5);
  });

  it("text: the text's ids (eos included, as PEFT does) repeated and cut to P", () => {
    const ids = tokenizer.encode('Classify the sentence');
    const { prompt, vocabIds } = initPrompt({ kind: 'text', text: 'Classify the sentence' }, context({ length: 10 }));
    expect(vocabIds).toEqual(Array.from({ length: 10 }, (_, i) => ids[i % ids.length]));
    expect(rowsOf(prompt.data, 128)).toEqual(vocabIds.map(row));
    const cut = initPrompt({ kind: 'text', text: 'a much longer text than the prompt has room for' }, context({ length: 3 }));
    expect(cut.vocabIds).toEqual(tokenizer.encode('a much longer text than the prompt has room for').slice(0, 3));
    expect(cut.notes[0]).toMatch(/first 3 were used/);
  });

  it('prompt: copies a stored prompt, truncating or padding with vocab rows, and reports it', () => {
    const stored = { length: 4, data: Float32Array.from({ length: 4 * 128 }, (_, i) => i / 1000) };
    const loadPrompt = (id: string) => {
      expect(id).toBe('p1');
      return stored;
    };
    const shorter = initPrompt({ kind: 'prompt', id: 'p1' }, context({ length: 2, loadPrompt }));
    expect(Array.from(shorter.prompt.data)).toEqual(Array.from(stored.data.subarray(0, 256)));
    expect(shorter.notes[0]).toMatch(/first 2 were kept/);
    const longer = initPrompt({ kind: 'prompt', id: 'p1' }, context({ length: 6, seed: 3, loadPrompt }));
    const rows = rowsOf(longer.prompt.data, 128);
    expect(rows.slice(0, 4).flat()).toEqual(Array.from(stored.data));
    expect(longer.vocabIds).toEqual([428, 4056]); // numpy: default_rng(3).choice(5000, 2, replace=False)
    expect(rows.slice(4)).toEqual([428, 4056].map(row));
    expect(longer.notes[0]).toMatch(/2 rows were added from the vocabulary/);
    expect(() =>
      initPrompt({ kind: 'prompt', id: 'p1' }, context({ loadPrompt: () => ({ length: 2, data: new Float32Array(10) }) })),
    ).toThrow(/width 5/);
  });

  it('parses every init option and refuses others', () => {
    expect(parseInit('vocab')).toEqual({ kind: 'vocab' });
    expect(parseInit('text:Is it good?')).toEqual({ kind: 'text', text: 'Is it good?' });
    expect(parseInit('prompt:abc')).toEqual({ kind: 'prompt', id: 'abc' });
    expect(() => parseInit('zeros')).toThrow(/Unknown prompt initialisation/);
    expect(() => parseInit('text:')).toThrow(/Unknown/);
  });
});
