import { describe, expect, it } from 'vitest';
import { SproutError } from '../../main/errors.js';
import { parseSpieceModel } from '../../main/tokenizer/spiece-model.js';
import { T5Tokenizer } from '../../main/tokenizer/t5-tokenizer.js';
import { buildCharsmap, buildSpieceModel, type SpieceModelParts } from './build-spiece.js';

const pieces = [
  { piece: '<pad>', score: 0, type: 3 },
  { piece: '</s>', score: 0, type: 3 },
  { piece: '<unk>', score: 0, type: 2 },
  { piece: '\u2581', score: -2 }, // 3
  { piece: 'a', score: -3 }, // 4
  { piece: 'b', score: -3 }, // 5
  { piece: '\u2581a', score: -2.5 }, // 6
  { piece: 'ab', score: -4 }, // 7
  { piece: '\u2581ab', score: -5.5 }, // 8  ("▁a"+"b" scores -5.5 too: the tie goes to the longer, earlier-starting piece)
  { piece: 'fi', score: -1 }, // 9
  { piece: 'X', score: -1 }, // 10
  { piece: 'unused', score: 5, type: 5 }, // 11
];

const rules = new Map([
  ['\uff21', 'X'], // full-width A -> X, to see the map at work
  ['\ufb01', 'fi'],
  ['\t', ' '],
  ['\u00a0', ' '],
  ['\u200b', ''],
  ['c', 'a'],
  ['cc', 'b'], // longer key wins over "c"
]);

function tokenizer(over: Partial<SpieceModelParts['normalizer']> = {}): T5Tokenizer {
  const model = buildSpieceModel({
    pieces,
    trainer: { unkId: 2, eosId: 1, padId: 0 },
    normalizer: { charsmap: buildCharsmap(rules), ...over },
  });
  return new T5Tokenizer(parseSpieceModel(model, 'small.model', { extraIds: 2, cleanUpTokenizationSpaces: true }));
}

describe('unigram tokenizer on a small hand-made model', () => {
  const tok = tokenizer();

  it('finds the best-scoring segmentation and breaks ties towards the earlier start', () => {
    expect(tok.encode('a')).toEqual([6, 1]);
    expect(tok.encode('ab')).toEqual([8, 1]);
    expect(tok.encode('aab')).toEqual([6, 7, 1]);
  });

  it('merges a run of characters without pieces into one unknown, scored below every piece', () => {
    expect(tok.encode('zz\u00e9z')).toEqual([3, 2, 1]);
    expect(tok.encode('azzb')).toEqual([6, 2, 5, 1]);
    expect(tok.encode('unused')).toEqual([3, 2, 1]);
  });

  it('applies the charsmap by longest prefix, then trims and collapses whitespace', () => {
    expect(tok.encode('\uff21\ufb01')).toEqual([3, 10, 9, 1]);
    expect(tok.encode('ccc')).toEqual([3, 5, 4, 1]);
    expect(tok.encode(' \t a\u00a0\u00a0 \u200bb\t')).toEqual([6, 3, 5, 1]);
    expect(tok.encode('\t \u200b ')).toEqual([1]);
  });

  it('keeps every space when remove_extra_whitespaces is off, and no dummy prefix when asked', () => {
    expect(tokenizer({ removeExtraWhitespaces: false }).encode(' a  b ')).toEqual([3, 6, 3, 3, 5, 3, 1]);
    expect(tokenizer({ addDummyPrefix: false }).encode('a b')).toEqual([4, 3, 5, 1]);
  });

  it('splits special literals out and appends extra ids after the pieces', () => {
    expect(tok.vocabSize).toBe(14);
    expect(tok.idToPiece(12)).toBe('<extra_id_1>');
    expect(tok.encode('a<extra_id_0>b</s><pad>')).toEqual([6, 13, 3, 5, 1, 0, 1]);
  });

  it('truncates batches keeping eos and counts the truncated texts', () => {
    const r = tok.encodeBatch(['a a a a', 'a', ''], { maxLength: 3 });
    expect(r).toEqual({ ids: [[6, 6, 1], [6, 1], [1]], truncated: 1 });
    expect(tok.encodeBatch(['a a a a']).ids).toEqual([[6, 6, 6, 6, 1]]);
    expect(() => tok.encodeBatch(['a'], { maxLength: 0 })).toThrow(RangeError);
  });

  it('decodes pieces back to text and cleans up tokenisation spaces', () => {
    expect(tok.decode([6, 3, 5, 1], { skipSpecialTokens: true })).toBe('a b');
    expect(tok.decode([6, 13, 8, 1, 0])).toBe('a <extra_id_0> ab</s><pad>');
    expect(tok.decode([6, 99, -1, 2.5])).toBe('a');
  });

  it('rejects models T5 cannot use, naming the file', () => {
    const bad = (parts: SpieceModelParts) => () =>
      parseSpieceModel(buildSpieceModel(parts), 'bad.model', { extraIds: 0, cleanUpTokenizationSpaces: true });
    const trainer = { unkId: 2, eosId: 1, padId: 0 };
    expect(bad({ pieces, trainer: { ...trainer, modelType: 2 } })).toThrow(/bad\.model: .*unigram/);
    expect(bad({ pieces: pieces.map((p) => ({ ...p, type: p.type === 2 ? 1 : p.type })), trainer })).toThrow(/0 unknown pieces/);
    expect(bad({ pieces: [...pieces, { piece: 'a', score: 0 }], trainer })).toThrow(/appears twice/);
    expect(bad({ pieces, trainer: { ...trainer, padId: 4 } })).toThrow(/pad_id is 4/);
    expect(bad({ pieces })).toThrow(SproutError);
  });
});
