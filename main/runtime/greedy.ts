/**
 * Greedy decoding from an encoder output (the encode graph's, or the score graph's when the same inputs were just
 * scored), then the decode-step graph once per new token over the whole prefix (the graph has no key/value cache),
 * taking each row's argmax until every row has produced eos.
 */
import type { T5Config } from '../checkpoint/config.js';
import { decoderPositionFeeds } from './feeds.js';
import { requireFinite, type ComputePrecision } from './precision.js';
import { int32Tensor, type ort } from './session.js';

/** What the encoder gave for a batch: its output [B, S, d] and the enc_mask [B, S] it ran with. */
export interface Encoded {
  hidden: ort.Tensor;
  mask: ort.Tensor;
}

export async function greedyDecode(
  cfg: T5Config,
  encoded: Encoded,
  step: ort.InferenceSession,
  maxNewTokens: number,
  precision: ComputePrecision,
): Promise<number[][]> {
  requireFinite(encoded.hidden.data as Float32Array, 'encoder output', precision);
  const B = encoded.hidden.dims[0];
  const sequences = Array.from({ length: B }, () => [cfg.decoderStartTokenId]);
  const done = new Array<boolean>(B).fill(false);
  for (let t = 0; t < maxNewTokens && done.includes(false); t++) {
    const T = t + 1;
    // Finished rows keep decoding pad tokens (as HF does) so the batch stays rectangular; they are cut below.
    const ids = sequences.flatMap((s) => s.slice(0, T).concat(new Array(T - Math.min(T, s.length)).fill(cfg.padTokenId)));
    const out = await step.run({
      encoder_hidden: encoded.hidden,
      enc_mask: encoded.mask,
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
