import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../random.js';
import { parseT5Config, t5ConfigToJson, type T5Config } from './config.js';
import { expectedTensors } from './layout.js';
import { writeSafetensorsStreamed } from './safetensors.js';

const TOKENIZER_COPIES = ['tokenizer.json', 'spiece.model', 'tokenizer_config.json', 'special_tokens_map.json'];
const CHUNK = 1 << 20;

const uniform = mulberry32;

/** Standard deviations of HF's T5PreTrainedModel._init_weights (initializer_factor 1). */
function initStd(name: string, shape: number[], config: T5Config): number {
  const { dModel, dKv, numHeads, dFf } = config;
  if (name.endsWith('layer_norm.weight')) return 0;
  if (name === 'shared.weight' || name === 'lm_head.weight') return 1;
  if (name.endsWith('.q.weight')) return (dModel * dKv) ** -0.5;
  if (name.endsWith('.o.weight')) return (numHeads * dKv) ** -0.5;
  if (name.endsWith('.wo.weight')) return dFf ** -0.5;
  return shape[1] === dModel || name.includes('relative_attention_bias') ? dModel ** -0.5 : 1;
}

/**
 * Writes a randomly initialised T5 checkpoint folder (config.json with HF keys, generation_config.json,
 * model.safetensors, and the tokenizer files copied from `tokenizerFrom`). Weights follow HF's init scales,
 * layer norms are 1. Weights are generated and written in 4 MB pieces, so t5-base-sized models are fine.
 */
export async function writeRandomT5Checkpoint(
  dir: string,
  config: Partial<T5Config> & { tokenizerFrom: string },
  seed: number,
): Promise<void> {
  const { tokenizerFrom, ...partial } = config;
  // Defaults are HF's T5Config defaults (the t5-small shape), then validated like any config.json.
  const full = parseT5Config(t5ConfigToJson({
    modelType: 't5', vocabSize: 32128, dModel: 512, dKv: 64, numHeads: 8, dFf: 2048, numLayers: 6,
    numDecoderLayers: partial.numLayers ?? 6, relativeAttentionNumBuckets: 32, relativeAttentionMaxDistance: 128,
    layerNormEpsilon: 1e-6, feedForward: 'relu', tieWordEmbeddings: true, padTokenId: 0, eosTokenId: 1,
    decoderStartTokenId: 0, ...partial,
  }), join(dir, 'config.json'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(t5ConfigToJson(full), null, 2)}\n`);
  writeFileSync(
    join(dir, 'generation_config.json'),
    `${JSON.stringify({ decoder_start_token_id: full.decoderStartTokenId, eos_token_id: full.eosTokenId, pad_token_id: full.padTokenId }, null, 2)}\n`,
  );
  const next = uniform(seed);
  const tensors = [...expectedTensors(full)].map(([name, shape]) => ({
    name,
    dtype: 'F32' as const,
    shape,
    write(sink: (chunk: Uint8Array) => void): void {
      const std = initStd(name, shape, full);
      const total = shape.reduce((a, b) => a * b, 1);
      for (let start = 0; start < total; start += CHUNK) {
        const out = new Float32Array(Math.min(CHUNK, total - start));
        if (std === 0) out.fill(1);
        else {
          // Box-Muller: two normals per pair of uniforms.
          for (let i = 0; i < out.length; i += 2) {
            const r = std * Math.sqrt(-2 * Math.log(1 - next()));
            const theta = 2 * Math.PI * next();
            out[i] = r * Math.cos(theta);
            if (i + 1 < out.length) out[i + 1] = r * Math.sin(theta);
          }
        }
        sink(new Uint8Array(out.buffer));
      }
    },
  }));
  writeSafetensorsStreamed(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  for (const name of TOKENIZER_COPIES) {
    if (existsSync(join(tokenizerFrom, name))) copyFileSync(join(tokenizerFrom, name), join(dir, name));
  }
}
