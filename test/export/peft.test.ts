import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportPeft, importPeft, readPeft } from '../../main/export/peft.js';
import { saveModel } from '../../main/library/models.js';
import { requirePrompt } from '../../main/library/prompts.js';
import { tempDir } from '../checkpoint/helpers.js';
import { addPrompt, freshLibrary, TINY_SUMMARY } from '../library/helpers.js';

/** A safetensors file as the format's README describes it, written independently of Sprout's writer. */
function writeMinimalSafetensors(file: string, name: string, dtype: string, shape: number[], bytes: Uint8Array): void {
  const header = Buffer.from(JSON.stringify({ [name]: { dtype, shape, data_offsets: [0, bytes.length] }, __metadata__: { format: 'pt' } }));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  writeFileSync(file, Buffer.concat([length, header, bytes]));
}

/** Parses a safetensors file in a few lines: 8-byte length, JSON header, data. */
function parseSafetensors(file: string): {
  header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  data: Buffer;
} {
  const buf = readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  return { header: JSON.parse(buf.subarray(8, 8 + n).toString('utf8')), data: buf.subarray(8 + n) };
}

/** A PEFT 0.6.2 seq2seq prompt-tuning adapter_config.json, as save_pretrained writes it. */
function peftConfig(n: number, d: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    auto_mapping: null,
    base_model_name_or_path: 'google/t5-base-lm-adapt',
    inference_mode: true,
    num_attention_heads: 12,
    num_layers: 12,
    num_transformer_submodules: 2,
    num_virtual_tokens: n,
    peft_type: 'PROMPT_TUNING',
    prompt_tuning_init: 'TEXT',
    prompt_tuning_init_text: 'Classify if the tweet is a complaint or not:',
    revision: null,
    task_type: 'SEQ_2_SEQ_LM',
    token_dim: d,
    tokenizer_name_or_path: 'google/t5-base-lm-adapt',
    ...extra,
  };
}

function toF16(x: number): number {
  // Exact for the values used below (small multiples of powers of two).
  const f = new Float32Array([x]);
  const bits = new Uint32Array(f.buffer)[0];
  const sign = (bits >>> 16) & 0x8000;
  if (x === 0) return sign;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  return sign | (exponent << 10) | ((bits >>> 13) & 0x3ff);
}

describe('PEFT prompt-tuning format', () => {
  it('exports [2N, d] with the second half a copy, and a round trip keeps the embedding byte for byte', () => {
    const { db } = freshLibrary();
    saveModel(db, {
      id: 'google/tiny-t5@abc',
      repo: 'google/tiny-t5',
      revision: 'abc',
      sha: 'f'.repeat(40),
      path: '/models/tiny',
      summary: TINY_SUMMARY,
    });
    const embedding = Float32Array.from({ length: 12 }, (_, i) => Math.fround(Math.sin(i + 1) * 1e-3) + (i === 5 ? 1e30 : 0));
    const id = addPrompt(db, 0, { embedding, model: { id: 'google/tiny-t5@abc', path: '/models/tiny', summary: null }, name: 'tweets' });
    const dir = join(tempDir(), 'adapter');
    exportPeft(db, id, dir);

    const config = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({
      peft_type: 'PROMPT_TUNING',
      task_type: 'SEQ_2_SEQ_LM',
      num_virtual_tokens: 3,
      token_dim: 4,
      num_transformer_submodules: 2,
      num_attention_heads: 2,
      num_layers: 3,
      base_model_name_or_path: 'google/tiny-t5',
      // The commit the download resolved "abc" to: the branch may move, the prompt fits these weights.
      revision: 'f'.repeat(40),
      prompt_tuning_init: 'RANDOM',
      inference_mode: true,
    });
    const { header, data } = parseSafetensors(join(dir, 'adapter_model.safetensors'));
    expect(header.prompt_embeddings).toEqual({ dtype: 'F32', shape: [6, 4], data_offsets: [0, 96] });
    const stored = Buffer.from(embedding.buffer);
    expect(data.subarray(0, 48).equals(stored)).toBe(true);
    expect(data.subarray(48, 96).equals(stored)).toBe(true);

    expect(() => exportPeft(db, id, dir)).toThrow('already holds adapter_config.json');
    const back = importPeft(db, dir);
    const imported = requirePrompt(db, back);
    expect(Buffer.from(imported.embedding.buffer).equals(stored)).toBe(true);
    expect(imported).toMatchObject({
      name: 'tweets',
      length: 3,
      dModel: 4,
      init: 'peft',
      model: { id: 'google/tiny-t5@abc', path: '/models/tiny' },
    });
  });

  it("names the commit the prompt was trained on, its snapshot folder's, after the branch moved on; import finds the download by it", () => {
    const { db } = freshLibrary();
    const [trained, latest] = ['a'.repeat(40), 'b'.repeat(40)];
    const snapshot = (commit: string) => `/cache/models--google--tiny-t5/snapshots/${commit}`;
    const summary = TINY_SUMMARY;
    // Downloaded again since the prompt trained: main is now the newer commit, in its own snapshot folder.
    saveModel(db, { id: 'google/tiny-t5', repo: 'google/tiny-t5', revision: 'main', sha: latest, path: snapshot(latest), summary });
    const embedding = Float32Array.from({ length: 12 }, (_, i) => i / 64);
    const model = { id: 'google/tiny-t5', path: join(snapshot(trained), 'model.safetensors'), summary: null };
    const dir = join(tempDir(), 'adapter');
    exportPeft(db, addPrompt(db, 0, { embedding, model }), dir);
    expect(JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'))).toMatchObject({
      base_model_name_or_path: 'google/tiny-t5',
      revision: trained,
    });
    expect(requirePrompt(db, importPeft(db, dir)).model).toMatchObject({ id: 'google/tiny-t5', path: snapshot(latest) });
    // Where the library holds that commit too, the prompt goes with it.
    saveModel(db, {
      id: `google/tiny-t5@${trained}`,
      repo: 'google/tiny-t5',
      revision: trained,
      sha: trained,
      path: snapshot(trained),
      summary,
    });
    expect(requirePrompt(db, importPeft(db, dir)).model).toMatchObject({ id: `google/tiny-t5@${trained}`, path: snapshot(trained) });
  });

  it("names a model imported from disk by its folder, which from_pretrained can load, not by Sprout's local/ id", () => {
    const { db } = freshLibrary();
    const folder = resolve(import.meta.dirname, '../../../shared/fixtures/mini-t5-instruct');
    const summary = { ...TINY_SUMMARY, encoderLayers: 2 };
    saveModel(db, { id: 'local/mini-t5-instruct', repo: null, revision: null, sha: null, path: folder, summary });
    saveModel(db, { id: 'local/single', repo: null, revision: null, sha: null, path: join(folder, 'model.safetensors'), summary });
    const embedding = new Float32Array(12);
    for (const [modelId, expected] of [
      ['local/mini-t5-instruct', folder],
      ['local/single', folder],
    ] as const) {
      const id = addPrompt(db, 0, { embedding, model: { id: modelId, path: folder, summary: null }, name: modelId });
      const dir = join(tempDir(), 'adapter');
      exportPeft(db, id, dir);
      // What PEFT reads, read by Python: a folder holding the base model's config.json.
      const script =
        'import json,os,sys; c=json.load(open(sys.argv[1])); b=c["base_model_name_or_path"]; print(json.dumps([b, c["tokenizer_name_or_path"], os.path.isfile(os.path.join(b, "config.json"))]))';
      expect(JSON.parse(execFileSync('python3', ['-c', script, join(dir, 'adapter_config.json')], { encoding: 'utf8' }))).toEqual([
        expected,
        expected,
        true,
      ]);
      expect(requirePrompt(db, importPeft(db, dir)).model).toMatchObject({ id: 'local/mini-t5-instruct', path: folder });
    }
  });

  it('imports a folder in PEFT’s documented layout, reading rows [0, N) in F32, F16 and BF16', () => {
    const { db } = freshLibrary();
    const N = 2;
    const d = 3;
    // Rows [0, N) hold 0.25·(i + 1); the decoder half holds -7 so that reading the wrong rows shows.
    const values = Array.from({ length: 2 * N * d }, (_, i) => (i < N * d ? 0.25 * (i + 1) : -7));
    const expected = values.slice(0, N * d);
    const cases: [string, Uint8Array][] = [
      ['F32', new Uint8Array(Float32Array.from(values).buffer)],
      ['F16', new Uint8Array(Uint16Array.from(values.map(toF16)).buffer)],
      ['BF16', new Uint8Array(Uint16Array.from(values.map((v) => new Uint32Array(Float32Array.from([v]).buffer)[0] >>> 16)).buffer)],
    ];
    for (const [dtype, bytes] of cases) {
      const dir = join(tempDir(), `peft-${dtype}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify(peftConfig(N, d)));
      writeMinimalSafetensors(join(dir, 'adapter_model.safetensors'), 'prompt_embeddings', dtype, [2 * N, d], bytes);
      expect(readPeft(dir).dtype).toBe(dtype);
      const id = importPeft(db, dir, { name: `from ${dtype}` });
      const p = requirePrompt(db, id);
      expect([...p.embedding]).toEqual(expected);
      expect(p).toMatchObject({
        name: `from ${dtype}`,
        length: N,
        dModel: d,
        model: { id: 'google/t5-base-lm-adapt', path: null, summary: { dModel: d, encoderLayers: 12, numHeads: 12 } },
      });
    }
  });

  it('refuses adapters of another kind or shape, naming the problem', () => {
    const dir = tempDir();
    const write = (config: Record<string, unknown>, shape: number[], dtype = 'F32') => {
      writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify(config));
      const count = shape.reduce((a, b) => a * b, 1);
      writeMinimalSafetensors(
        join(dir, 'adapter_model.safetensors'),
        'prompt_embeddings',
        dtype,
        shape,
        new Uint8Array(count * (dtype === 'F32' ? 4 : dtype === 'I64' ? 8 : 2)),
      );
    };
    write(peftConfig(2, 3, { peft_type: 'LORA' }), [4, 3]);
    expect(() => readPeft(dir)).toThrow('The adapter is "LORA", not PROMPT_TUNING');
    write(peftConfig(2, 3, { task_type: 'CAUSAL_LM' }), [4, 3]);
    expect(() => readPeft(dir)).toThrow('task_type is "CAUSAL_LM"');
    write(peftConfig(2, 3), [2, 3]);
    expect(() => readPeft(dir)).toThrow('"prompt_embeddings" has shape [2, 3], but the config needs [4, 3]');
    write(peftConfig(2, 3), [4, 3], 'I64');
    expect(() => readPeft(dir)).toThrow('"prompt_embeddings" is I64');
    // Sizes no T5 prompt has are refused from the config, before weights that size would be read.
    write(peftConfig(100_000, 3), [4, 3]);
    expect(() => readPeft(dir)).toThrow('"num_virtual_tokens" is 100000; Sprout\'s prompts are shorter (at most 512).');
    write(peftConfig(2, 100_000), [4, 3]);
    expect(() => readPeft(dir)).toThrow('"token_dim" is 100000; no T5 is that wide (at most 16384).');
    write(peftConfig(2, 3, { num_transformer_submodules: 3 }), [6, 3]);
    expect(() => readPeft(dir)).toThrow('"num_transformer_submodules" is 3; PEFT keeps one or two (at most 2).');
    // A named pipe would hold the reader (and the app's every request) until something wrote into it.
    rmSync(join(dir, 'adapter_config.json'));
    execFileSync('mkfifo', [join(dir, 'adapter_config.json')]);
    expect(() => readPeft(dir)).toThrow('The file is a named pipe (FIFO), not a file.');
    rmSync(join(dir, 'adapter_config.json'));
    write(peftConfig(0, 3), [0, 3]);
    expect(() => readPeft(dir)).toThrow('"num_virtual_tokens" must be a positive whole number');
    const { db } = freshLibrary();
    saveModel(db, {
      id: 'google/t5-base-lm-adapt',
      repo: 'google/t5-base-lm-adapt',
      revision: 'main',
      sha: null,
      path: '/m',
      summary: {
        parameters: 1,
        encoderLayers: 1,
        decoderLayers: 1,
        dModel: 768,
        dKv: 64,
        numHeads: 12,
        dFf: 1,
        vocabSize: 1,
        feedForward: 'gated-gelu',
        tiedEmbeddings: false,
        weightBytes: 1,
      },
    });
    write(peftConfig(2, 3), [4, 3]);
    expect(() => importPeft(db, dir)).toThrow("The adapter's token_dim is 3, but model google/t5-base-lm-adapt has d_model 768");
    // A model named on import that the library does not know is refused, not kept with the prompt as a typo.
    expect(() => importPeft(db, dir, { model: 'local/no-such-model' })).toThrow(
      'There is no model "local/no-such-model" in the library, nor a folder of that name.',
    );
    // A diverged training's prompt (NaN, ±Infinity) is refused at import, where it used to fail only when labelling.
    const values = new Float32Array(4 * 3);
    values[4] = Number.NaN;
    writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify(peftConfig(2, 3)));
    writeMinimalSafetensors(join(dir, 'adapter_model.safetensors'), 'prompt_embeddings', 'F32', [4, 3], new Uint8Array(values.buffer));
    expect(() => readPeft(dir)).toThrow('"prompt_embeddings" holds NaN at row 1, column 1: a prompt of numbers that are not finite');
  });
});
