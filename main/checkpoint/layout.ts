import type { T5Config } from './config.js';

/**
 * The tensors a Hugging Face T5ForConditionalGeneration state dict holds for `config`, by HF key name, with
 * their shapes. Linear weights are [out_features, in_features]. The relative attention bias lives in block 0
 * of each stack only; lm_head.weight only exists when embeddings are untied.
 */
export function expectedTensors(config: T5Config): Map<string, number[]> {
  const { dModel: d, vocabSize, dFf, relativeAttentionNumBuckets: buckets, numHeads } = config;
  const inner = config.numHeads * config.dKv;
  const out = new Map<string, number[]>();
  out.set('shared.weight', [vocabSize, d]);
  const attention = (prefix: string, withBias: boolean): void => {
    for (const p of ['q', 'k', 'v']) out.set(`${prefix}.${p}.weight`, [inner, d]);
    out.set(`${prefix}.o.weight`, [d, inner]);
    if (withBias) out.set(`${prefix}.relative_attention_bias.weight`, [buckets, numHeads]);
  };
  const feedForward = (prefix: string): void => {
    if (config.feedForward === 'gated-gelu') {
      out.set(`${prefix}.DenseReluDense.wi_0.weight`, [dFf, d]);
      out.set(`${prefix}.DenseReluDense.wi_1.weight`, [dFf, d]);
    } else {
      out.set(`${prefix}.DenseReluDense.wi.weight`, [dFf, d]);
    }
    out.set(`${prefix}.DenseReluDense.wo.weight`, [d, dFf]);
    out.set(`${prefix}.layer_norm.weight`, [d]);
  };
  for (let i = 0; i < config.numLayers; i++) {
    const block = `encoder.block.${i}`;
    attention(`${block}.layer.0.SelfAttention`, i === 0);
    out.set(`${block}.layer.0.layer_norm.weight`, [d]);
    feedForward(`${block}.layer.1`);
  }
  out.set('encoder.final_layer_norm.weight', [d]);
  for (let i = 0; i < config.numDecoderLayers; i++) {
    const block = `decoder.block.${i}`;
    attention(`${block}.layer.0.SelfAttention`, i === 0);
    out.set(`${block}.layer.0.layer_norm.weight`, [d]);
    attention(`${block}.layer.1.EncDecAttention`, false);
    out.set(`${block}.layer.1.layer_norm.weight`, [d]);
    feedForward(`${block}.layer.2`);
  }
  out.set('decoder.final_layer_norm.weight', [d]);
  if (!config.tieWordEmbeddings) out.set('lm_head.weight', [vocabSize, d]);
  return out;
}

/**
 * Keys a valid checkpoint may carry that Sprout does not need: copies of shared.weight that older
 * save_pretrained versions wrote, a tied lm_head, and a cross-attention bias HF itself ignores on load.
 */
export function isIgnorableTensor(name: string, config: T5Config): boolean {
  return (
    name === 'encoder.embed_tokens.weight' ||
    name === 'decoder.embed_tokens.weight' ||
    name === 'decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight' ||
    (name === 'lm_head.weight' && config.tieWordEmbeddings)
  );
}

/**
 * The layers' linear projections (attention q, k, v, o; feed-forward wi, wi_0, wi_1, wo): every 2-D weight but the
 * embedding, the LM head and the position-bias tables.
 */
export function isProjection(name: string): boolean {
  return /\.(?:SelfAttention|EncDecAttention)\.[qkvo]\.weight$|\.DenseReluDense\.(?:wi|wi_0|wi_1|wo)\.weight$/.test(name);
}

/** Parameter count of the model (shared embedding counted once; a tied head adds nothing). */
export function parameterCount(config: T5Config): number {
  let total = 0;
  for (const shape of expectedTensors(config).values()) total += shape.reduce((a, b) => a * b, 1);
  return total;
}
