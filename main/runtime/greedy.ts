/**
 * Greedy decoding: the encoder runs once, then the decode-step graph once per new token over the whole prefix
 * (the graph has no key/value cache), taking each row's argmax until every row has produced eos.
 */
import type { T5Config } from '../checkpoint/config.js';
import { decoderPositionFeeds } from './feeds.js';
import { requireFinite, type ComputePrecision } from './precision.js';
import { int32Tensor, type Feeds, type ort } from './session.js';

export async function greedyDecode(
  cfg: T5Config,
  encoder: { session: ort.InferenceSession; feeds: Feeds },
  step: ort.InferenceSession,
  maxNewTokens: number,
  precision: ComputePrecision,
): Promise<number[][]> {
  const encoded = await encoder.session.run(encoder.feeds);
  requireFinite(encoded.encoder_hidden.data as Float32Array, 'encoder output', precision);
  const B = encoder.feeds.input_ids.dims[0];
  const sequences = Array.from({ length: B }, () => [cfg.decoderStartTokenId]);
  const done = new Array<boolean>(B).fill(false);
  for (let t = 0; t < maxNewTokens && done.includes(false); t++) {
    const T = t + 1;
    // Finished rows keep decoding pad tokens (as HF does) so the batch stays rectangular; they are cut below.
    const ids = sequences.flatMap((s) => s.slice(0, T).concat(new Array(T - Math.min(T, s.length)).fill(cfg.padTokenId)));
    const out = await step.run({
      encoder_hidden: encoded.encoder_hidden,
      enc_mask: encoder.feeds.enc_mask,
      dec_ids: int32Tensor(ids, [B, T]),
      ...decoderPositionFeeds(cfg, T),
    });
    requireFinite(out.logit_sum.data as Float32Array, 'next-token logits', precision);
    const next = out.next_ids.data as BigInt64Array;
    for (let b = 0; b < B; b++) {
      const id = done[b] ? cfg.padTokenId : Number(next[b]);
      sequences[b].push(id);
      if (id === cfg.eosTokenId) done[b] = true;
    }
  }
  return sequences.map((s) => {
    const generated = s.slice(1);
    const eos = generated.indexOf(cfg.eosTokenId);
    return eos >= 0 ? generated.slice(0, eos + 1) : generated;
  });
}
