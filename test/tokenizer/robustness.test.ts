import { mkdir, mkdtemp, readFile, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SproutError } from '../../main/errors.js';
import { loadTokenizer } from '../../main/tokenizer/load.js';
import { parseSpieceModel } from '../../main/tokenizer/spiece-model.js';
import { T5Tokenizer } from '../../main/tokenizer/t5-tokenizer.js';
import { parseTokenizerJson } from '../../main/tokenizer/tokenizer-json.js';
import { buildCharsmap, buildSpieceModel } from './build-spiece.js';
import { modelDir } from './fixtures.js';

const samples = ['', ' a b ', 'ab\u00e9\u65e5 \t\uff21\ufb01cc', '<extra_id_0>x</s>', 'a\u0000\ud800b'];

const smallPieces = [
  { piece: '<pad>', score: 0, type: 3 },
  { piece: '</s>', score: 0, type: 3 },
  { piece: '<unk>', score: 0, type: 2 },
  { piece: '\u2581', score: -2 },
  { piece: 'a', score: -3 },
  { piece: 'b', score: -3 },
  { piece: '\u2581a', score: -2.5 },
  { piece: 'fi', score: -1 },
];
const smallCharsmap = buildCharsmap(
  new Map([
    ['\uff21', 'A'],
    ['\ufb01', 'fi'],
    ['\t', ' '],
    ['c', 'a'],
    ['cc', 'b'],
    ['\u200b', ''],
  ]),
);
const smallModel = buildSpieceModel({
  pieces: smallPieces,
  trainer: { unkId: 2, eosId: 1, padId: 0 },
  normalizer: { charsmap: smallCharsmap },
});

const smallJson = {
  version: '1.0',
  added_tokens: [0, 1, 2].map((id) => ({ id, content: smallPieces[id].piece, special: true, normalized: false })),
  normalizer: { type: 'Precompiled', precompiled_charsmap: Buffer.from(smallCharsmap).toString('base64') },
  pre_tokenizer: {
    type: 'Sequence',
    pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true }],
  },
  model: { type: 'Unigram', unk_id: 2, vocab: smallPieces.map((p) => [p.piece, p.score]), byte_fallback: false },
};

/** Either a working tokenizer (which then encodes and decodes without throwing) or a tokenizer-invalid error. */
function loadsOrRefuses(build: () => T5Tokenizer): 'ok' | 'refused' {
  let tok: T5Tokenizer;
  try {
    tok = build();
  } catch (e) {
    if (!(e instanceof SproutError)) throw e;
    expect(e.code).toBe('tokenizer-invalid');
    return 'refused';
  }
  for (const s of samples) {
    const ids = tok.encode(s);
    expect(ids.at(-1)).toBe(tok.eosId);
    for (const id of ids) expect(id >= 0 && id < tok.vocabSize).toBe(true);
    tok.decode(ids);
  }
  return 'ok';
}

const fromSpiece = (bytes: Uint8Array) => () =>
  new T5Tokenizer(parseSpieceModel(bytes, 'fuzz.model', { extraIds: 3, cleanUpTokenizationSpaces: true }));
const fromJson = (text: string) => () => new T5Tokenizer(parseTokenizerJson(text, 'fuzz.json', true));

describe('tokenizer parsers on malformed input', () => {
  it('the unmutated small inputs load', () => {
    expect(loadsOrRefuses(fromSpiece(smallModel))).toBe('ok');
    expect(loadsOrRefuses(fromJson(JSON.stringify(smallJson)))).toBe('ok');
  });

  it('every truncation of a small spiece.model is refused or works', () => {
    const outcomes = new Set<string>();
    for (let n = 0; n < smallModel.length; n++) outcomes.add(loadsOrRefuses(fromSpiece(smallModel.subarray(0, n))));
    expect(outcomes).toEqual(new Set(['refused']));
  });

  it('random byte mutations of a small spiece.model end in a tokenizer or SproutError', () => {
    const outcomes = { ok: 0, refused: 0 };
    const edit = fc.record({ at: fc.nat(smallModel.length - 1), byte: fc.nat(255) });
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 6 }), fc.option(fc.nat(smallModel.length)), (edits, cut) => {
        const bytes = smallModel.slice(0, cut ?? smallModel.length);
        for (const { at, byte } of edits) if (at < bytes.length) bytes[at] = byte;
        outcomes[loadsOrRefuses(fromSpiece(bytes))]++;
      }),
      { seed: 20261128, numRuns: 3000 },
    );
    // Both outcomes occur, so the property exercises loading as well as refusing.
    expect(outcomes.ok).toBeGreaterThan(100);
    expect(outcomes.refused).toBeGreaterThan(100);
  });

  it('random JSON and random edits of a small tokenizer.json end in a tokenizer or SproutError', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        loadsOrRefuses(fromJson(JSON.stringify(v) ?? 'null'));
      }),
      { seed: 1, numRuns: 500 },
    );
    const outcomes = { ok: 0, refused: 0 };
    const paths = jsonPaths(smallJson);
    fc.assert(
      fc.property(fc.constantFrom(...paths), fc.option(fc.jsonValue({ maxDepth: 2 })), (p, value) => {
        const copy = structuredClone(smallJson) as unknown as Record<string, unknown>;
        const parent = p.slice(0, -1).reduce<any>((o, k) => o[k], copy);
        if (value === null) delete parent[p.at(-1)!];
        else parent[p.at(-1)!] = value;
        outcomes[loadsOrRefuses(fromJson(JSON.stringify(copy)))]++;
      }),
      { seed: 2, numRuns: 2000 },
    );
    expect(outcomes.refused).toBeGreaterThan(100);
    const text = JSON.stringify(smallJson);
    fc.assert(
      fc.property(fc.nat(text.length), fc.string({ maxLength: 3 }), fc.nat(text.length), (at, insert, cut) => {
        loadsOrRefuses(fromJson((text.slice(0, at) + insert + text.slice(at)).slice(0, Math.max(cut, 1))));
      }),
      { seed: 3, numRuns: 1000 },
    );
  });

  it('a lying length is refused before anything is allocated', () => {
    // pieces field (1, wire type 2) claiming 2^40 bytes.
    const lying = Uint8Array.from([0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 1, 2, 3]);
    expect(fromSpiece(lying)).toThrow(/claims 1099511627776 bytes but only 3 remain/);
    const charsmap = smallCharsmap.slice();
    new DataView(charsmap.buffer).setUint32(0, 0xfffffff0, true);
    const model = buildSpieceModel({ pieces: smallPieces, trainer: { unkId: 2, eosId: 1, padId: 0 }, normalizer: { charsmap } });
    expect(fromSpiece(model)).toThrow(/declares a 4294967280-byte trie/);
  });

  it('truncations of the real spiece.model are refused', async () => {
    const real = new Uint8Array(await readFile(path.join(modelDir, 'spiece.model')));
    for (const n of [1, 7, 1000, 400_000, real.length - 300_000, real.length - 1]) {
      expect(loadsOrRefuses(fromSpiece(real.subarray(0, n)))).toBe('refused');
    }
  });

  it('loadTokenizer reports missing, oversized and misplaced files', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sprout-tok-bad-'));
    await expect(loadTokenizer(dir)).rejects.toMatchObject({ code: 'tokenizer-missing' });
    // A folder that is not there is named as such, not as one without tokenizer files.
    const gone = path.join(dir, 'moved-away');
    await expect(loadTokenizer(gone)).rejects.toMatchObject({
      code: 'missing-model',
      message: `${gone}: The model folder does not exist.`,
    });
    await writeFile(path.join(dir, 'spiece.model'), '');
    await truncate(path.join(dir, 'spiece.model'), 65 * 1024 * 1024);
    await expect(loadTokenizer(dir)).rejects.toMatchObject({
      code: 'tokenizer-invalid',
      message: expect.stringMatching(/spiece\.model: has 68157440 bytes/),
    });
    await mkdir(path.join(dir, 'tokenizer.json'));
    await expect(loadTokenizer(dir)).rejects.toMatchObject({
      code: 'tokenizer-invalid',
      message: expect.stringMatching(/tokenizer\.json: is not a regular file/),
    });
    await writeFile(path.join(dir, 'tokenizer_config.json'), '{"extra_ids": -1}');
    await expect(loadTokenizer(dir)).rejects.toMatchObject({ code: 'tokenizer-invalid', message: expect.stringMatching(/extra_ids/) });
  });
});

function jsonPaths(v: unknown, prefix: string[] = []): string[][] {
  if (typeof v !== 'object' || v === null) return [];
  return Object.entries(v).flatMap(([k, child]) => [[...prefix, k], ...jsonPaths(child, [...prefix, k])]);
}
