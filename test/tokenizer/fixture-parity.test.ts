import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../main/tokenizer/load.js';
import { parseSpieceModel } from '../../main/tokenizer/spiece-model.js';
import { parseTokenizerJson } from '../../main/tokenizer/tokenizer-json.js';
import type { T5Tokenizer } from '../../main/tokenizer/t5-tokenizer.js';
import { folderWith, modelDir, tokenization } from './fixtures.js';

const sources = {
  'tokenizer.json': () => folderWith(['tokenizer.json', 'tokenizer_config.json']),
  'spiece.model alone': () => folderWith(['spiece.model']),
};

describe.each(Object.entries(sources))('T5 tokenizer loaded from %s', (_name, folder) => {
  let tok: T5Tokenizer;
  it('loads with T5 ids', async () => {
    tok = await loadTokenizer(await folder());
    expect([tok.vocabSize, tok.eosId, tok.padId, tok.unkId]).toEqual([32100, 1, 0, 2]);
    expect([tok.idToPiece(3), tok.idToPiece(32099), tok.idToPiece(32000), tok.idToPiece(32100)]).toEqual([
      '\u2581',
      '<extra_id_0>',
      '<extra_id_99>',
      undefined,
    ]);
    expect([tok.pieceToId('\u2581Hello'), tok.pieceToId('<extra_id_5>'), tok.pieceToId('no such piece')]).toEqual([8774, 32094, undefined]);
  });

  it.each(tokenization.cases.map((c, i) => [i, JSON.stringify(c.text), c] as const))(
    'encodes case %i %s as Hugging Face does',
    (_i, _t, c) => {
      expect(tok.encode(c.text)).toEqual(c.tokenizer_json_ids);
    },
  );

  it('spells special-token literals out when they are not whole tokens', () => {
    const near = tok.encode('<extra_id_100> <extra_id_-1> <pad');
    // T5 has no piece for "<": each one is an unknown token.
    expect(near.filter((id) => id < 2 || id >= 32000)).toEqual([1]);
    expect(near.filter((id) => id === 2)).toHaveLength(3);
    expect(tok.decode(near, { skipSpecialTokens: true })).toBe('extra_id_100> extra_id_-1> pad');
    expect(tok.encode('<unk>')).toEqual([2, 1]);
    expect(tok.encode('a<pad><pad>b')).toEqual([3, 9, 0, 0, 3, 115, 1]);
  });

  it.each(tokenization.decodes.map((d) => [d.ids.join(','), d] as const))('decodes %s as T5Tokenizer does', (_ids, d) => {
    expect(tok.decode(d.ids, { skipSpecialTokens: true })).toBe(d.t5tokenizer_decode_skip_special);
    expect(tok.decode(d.ids, { skipSpecialTokens: false })).toBe(d.t5tokenizer_decode_keep_special);
    expect(tok.decode(d.ids)).toBe(d.t5tokenizer_decode_keep_special);
  });
});

describe('the two T5 tokenizer files', () => {
  it('describe the same pieces, scores, special tokens and normaliser', async () => {
    const dir = modelDir;
    const json = parseTokenizerJson(await readFile(path.join(dir, 'tokenizer.json'), 'utf8'), 'tokenizer.json', true);
    const spm = parseSpieceModel(new Uint8Array(await readFile(path.join(dir, 'spiece.model'))), 'spiece.model', {
      extraIds: 100,
      cleanUpTokenizationSpaces: true,
    });
    expect(spm.pieces).toEqual(json.pieces);
    // tokenizer.json prints the float32 scores of spiece.model as float64.
    expect(Array.from(json.scores, Math.fround)).toEqual(Array.from(spm.scores));
    expect(Array.from(spm.types)).toEqual(Array.from(json.types));
    expect([...spm.specialTokens].sort()).toEqual([...json.specialTokens].sort());
    expect(spm.normalizer).toEqual(json.normalizer);
  });
});
