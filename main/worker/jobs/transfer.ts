import { probeTaskEmbedding, type ProbeResult, type ProbeSpec } from '../../transfer/probe.js';
import type { Job } from '../job.js';

export interface TransferProbeInput {
  dataDir: string;
  spec: ProbeSpec;
}

export type TransferProbeOutput = ProbeResult;

export const transferProbe: Job<TransferProbeInput, TransferProbeOutput> = ({ dataDir, spec }, _progress, signal) =>
  probeTaskEmbedding(spec, { dataDir, signal });
