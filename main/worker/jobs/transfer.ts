import { probeTaskEmbedding, type ProbeResult, type ProbeSpec } from '../../transfer/probe.js';
import type { JobImplementation } from '../jobs.js';

export interface TransferProbeInput {
  dataDir: string;
  spec: ProbeSpec;
  dModel: number;
}

export type TransferProbeOutput = ProbeResult;

export const transferProbe: JobImplementation<'transfer.probe'> = ({ dataDir, spec, dModel }, _progress, signal) => probeTaskEmbedding(spec, dModel, { dataDir, signal });
