import type { Checkpoint } from './checkpoint.js';
import type { T5Config } from './config.js';
import { parameterCount } from './layout.js';

/** What the library shows about a model without opening it. */
export interface ArchitectureSummary {
  parameters: number;
  encoderLayers: number;
  decoderLayers: number;
  dModel: number;
  dKv: number;
  numHeads: number;
  dFf: number;
  vocabSize: number;
  feedForward: 'relu' | 'gated-gelu';
  tiedEmbeddings: boolean;
  /** Bytes of float32 weights as Sprout reads them. */
  weightBytes: number;
}

export function summarize(checkpoint: Checkpoint): ArchitectureSummary {
  let weightBytes = 0;
  for (const t of checkpoint.tensors.values()) weightBytes += t.length;
  return { ...configSummary(checkpoint.config), weightBytes };
}

/** The summary's part that the config alone decides (a model the library has not imported has no weight bytes yet). */
export function configSummary(c: T5Config): Omit<ArchitectureSummary, 'weightBytes'> {
  return {
    parameters: parameterCount(c),
    encoderLayers: c.numLayers,
    decoderLayers: c.numDecoderLayers,
    dModel: c.dModel,
    dKv: c.dKv,
    numHeads: c.numHeads,
    dFf: c.dFf,
    vocabSize: c.vocabSize,
    feedForward: c.feedForward,
    tiedEmbeddings: c.tieWordEmbeddings,
  };
}
