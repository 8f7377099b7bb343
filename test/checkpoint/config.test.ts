import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseT5Config, t5ConfigToJson, type T5Config } from '../../main/checkpoint/config.js';
import { SproutError } from '../../main/errors.js';
import { fixture } from './helpers.js';

const v10 = JSON.parse(readFileSync(join(fixture('tiny-t5-v1_0'), 'config.json'), 'utf8')) as Record<string, unknown>;
const v11 = JSON.parse(readFileSync(join(fixture('tiny-t5-v1_1'), 'config.json'), 'utf8')) as Record<string, unknown>;

function errorOf(fn: () => unknown): SproutError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SproutError);
    return error as SproutError;
  }
  throw new Error('expected a SproutError');
}

describe('parseT5Config', () => {
  it('reads both fixture configs', () => {
    expect(parseT5Config(v10, 'c')).toEqual({
      modelType: 't5',
      vocabSize: 32128,
      dModel: 64,
      dKv: 16,
      numHeads: 4,
      dFf: 128,
      numLayers: 2,
      numDecoderLayers: 2,
      relativeAttentionNumBuckets: 32,
      relativeAttentionMaxDistance: 128,
      layerNormEpsilon: 1e-6,
      feedForward: 'relu',
      tieWordEmbeddings: true,
      padTokenId: 0,
      eosTokenId: 1,
      decoderStartTokenId: 0,
    } satisfies T5Config);
    expect(parseT5Config(v11, 'c')).toMatchObject({
      dKv: 8,
      numHeads: 6,
      dFf: 96,
      numLayers: 3,
      numDecoderLayers: 2,
      feedForward: 'gated-gelu',
      tieWordEmbeddings: false,
    });
  });

  it("fills HF T5Config's defaults", () => {
    expect(parseT5Config({ model_type: 't5' }, 'c')).toEqual({
      modelType: 't5',
      vocabSize: 32128,
      dModel: 512,
      dKv: 64,
      numHeads: 8,
      dFf: 2048,
      numLayers: 6,
      numDecoderLayers: 6,
      relativeAttentionNumBuckets: 32,
      relativeAttentionMaxDistance: 128,
      layerNormEpsilon: 1e-6,
      feedForward: 'relu',
      tieWordEmbeddings: true,
      padTokenId: 0,
      eosTokenId: 1,
      decoderStartTokenId: 0,
    });
    expect(parseT5Config({ model_type: 't5', num_layers: 4 }, 'c').numDecoderLayers).toBe(4);
    // Old t5-v1_1 configs only say feed_forward_proj.
    expect(parseT5Config({ model_type: 't5', feed_forward_proj: 'gated-gelu', tie_word_embeddings: false }, 'c').feedForward).toBe(
      'gated-gelu',
    );
    expect(parseT5Config({ model_type: 't5', pad_token_id: 5 }, 'c').decoderStartTokenId).toBe(5);
  });

  it('round-trips through t5ConfigToJson', () => {
    const c = parseT5Config(v11, 'c');
    expect(parseT5Config(t5ConfigToJson(c), 'c')).toEqual(c);
  });

  it('refuses mt5/umt5 and other models clearly', () => {
    expect(errorOf(() => parseT5Config({ ...v11, model_type: 'mt5' }, 'x/config.json')).message).toBe(
      'x/config.json: model_type "mt5" is not supported yet. Sprout supports T5 checkpoints (model_type "t5"): t5-*, google/t5-v1_1-*, google/t5-*-lm-adapt, google/flan-t5-*.',
    );
    expect(errorOf(() => parseT5Config({ ...v11, model_type: 'umt5' }, 'c')).message).toContain('"umt5" is not supported');
    expect(errorOf(() => parseT5Config({ ...v11, model_type: 'bert' }, 'c')).message).toContain('model_type is "bert", not "t5"');
    expect(errorOf(() => parseT5Config([], 'c')).message).toContain('must hold a JSON object');
  });

  it('rejects absurd values naming the key', () => {
    expect(errorOf(() => parseT5Config({ ...v10, num_layers: 1e12 }, 'c')).message).toContain(
      '"num_layers" must be a whole number from 1 to 1024, but it is 1000000000000',
    );
    expect(errorOf(() => parseT5Config({ ...v10, d_model: 63.5 }, 'c')).message).toContain('"d_model"');
    expect(errorOf(() => parseT5Config({ ...v10, num_heads: -4 }, 'c')).message).toContain('"num_heads"');
    expect(errorOf(() => parseT5Config({ ...v10, d_ff: '128' }, 'c')).message).toContain('"d_ff"');
    expect(errorOf(() => parseT5Config({ ...v10, layer_norm_epsilon: 0 }, 'c')).message).toContain('"layer_norm_epsilon"');
    expect(errorOf(() => parseT5Config({ ...v10, eos_token_id: 32128 }, 'c')).message).toContain(
      '"eos_token_id" must be a token id from 0 to 32127',
    );
    expect(
      errorOf(() => parseT5Config({ ...v10, feed_forward_proj: 'gated-silu', dense_act_fn: undefined, is_gated_act: undefined }, 'c'))
        .message,
    ).toContain('gated "silu" is not supported');
    expect(errorOf(() => parseT5Config({ ...v10, feed_forward_proj: 'fancy-relu' }, 'c')).message).toContain(
      '"feed_forward_proj" is "fancy-relu"',
    );
    expect(errorOf(() => parseT5Config({ ...v11, dense_act_fn: 'gelu' }, 'c')).message).toContain('dense_act_fn "gelu"');
  });
});

const KEYS = [
  'vocab_size',
  'd_model',
  'd_kv',
  'num_heads',
  'd_ff',
  'num_layers',
  'num_decoder_layers',
  'relative_attention_num_buckets',
  'relative_attention_max_distance',
  'layer_norm_epsilon',
  'feed_forward_proj',
  'dense_act_fn',
  'is_gated_act',
  'tie_word_embeddings',
  'pad_token_id',
  'eos_token_id',
  'decoder_start_token_id',
  'model_type',
];
const TOKEN_KEYS = ['pad_token_id', 'eos_token_id', 'decoder_start_token_id'];

const absurd = fc.oneof(
  fc.integer({ min: -10, max: 10 }),
  fc.constantFrom(
    1e12,
    2 ** 53,
    -1,
    0,
    0.5,
    NaN,
    Infinity,
    -Infinity,
    1e-300,
    5e6,
    null,
    true,
    false,
    '',
    '512',
    'gated-gelu',
    'relu',
    'gelu_new',
    't5',
    'mt5',
  ),
  fc.double(),
  fc.string({ maxLength: 12 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
);

function checkValid(c: T5Config): void {
  for (const v of [
    c.vocabSize,
    c.dModel,
    c.dKv,
    c.numHeads,
    c.dFf,
    c.numLayers,
    c.numDecoderLayers,
    c.relativeAttentionNumBuckets,
    c.relativeAttentionMaxDistance,
  ]) {
    expect(Number.isInteger(v) && v >= 1 && v <= 1 << 22).toBe(true);
  }
  for (const id of [c.padTokenId, c.eosTokenId, c.decoderStartTokenId])
    expect(Number.isInteger(id) && id >= 0 && id < c.vocabSize).toBe(true);
  expect(c.layerNormEpsilon > 0 && c.layerNormEpsilon < 1).toBe(true);
  expect(['relu', 'gated-gelu']).toContain(c.feedForward);
}

describe('parseT5Config fuzzed (seeded)', () => {
  it('a valid config with keys replaced or removed: a valid T5Config or a SproutError naming a key', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(v10, v11),
        fc.array(fc.tuple(fc.constantFrom(...KEYS), fc.option(absurd, { nil: undefined })), { minLength: 1, maxLength: 3 }),
        (base, edits) => {
          const json: Record<string, unknown> = { ...base };
          for (const [key, value] of edits) {
            if (value === undefined) delete json[key];
            else json[key] = value;
          }
          let config: T5Config;
          try {
            config = parseT5Config(json, 'config.json');
          } catch (error) {
            expect(error).toBeInstanceOf(SproutError);
            const message = (error as Error).message;
            expect(message.startsWith('config.json: ')).toBe(true);
            const named =
              edits.some(([key]) => message.includes(key)) ||
              (edits.some(([key]) => key === 'vocab_size') && TOKEN_KEYS.some((k) => message.includes(k)));
            expect(named).toBe(true);
            return;
          }
          checkValid(config);
        },
      ),
      { seed: 20240501, numRuns: 4000 },
    );
  });

  it('arbitrary JSON values never crash', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom(...KEYS), absurd)), (json) => {
        try {
          checkValid(parseT5Config(json, 'config.json'));
        } catch (error) {
          expect(error).toBeInstanceOf(SproutError);
        }
      }),
      { seed: 7, numRuns: 3000 },
    );
  });
});
