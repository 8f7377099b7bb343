import { probeTaskEmbedding, type ProbeResult, type ProbeSpec } from '../../transfer/probe.js';
import type { Job } from '../job.js';

export interface TransferProbeInput {
  dataDir: string;
  spec: ProbeSpec;
}

export type TransferProbeOutput = ProbeResult;

/** The probe's last finished step. */
export interface TransferProbeProgress {
  step: number;
  steps: number;
}

export const transferProbe: Job<TransferProbeInput, TransferProbeOutput, TransferProbeProgress> = ({ dataDir, spec }, progress, signal) =>
  probeTaskEmbedding(spec, { dataDir, signal, onProgress: (e) => e.kind === 'step' && progress({ step: e.step, steps: e.steps }) });
