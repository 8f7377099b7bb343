import { sha256OfFileAsync, type HashProgress } from '../../file-hash.js';
import type { Job } from '../job.js';

export interface Sha256Input {
  path: string;
}

export interface Sha256Output {
  sha256: string;
  bytes: number;
}

export type Sha256Progress = HashProgress;

export const sha256File: Job<Sha256Input, Sha256Output, Sha256Progress> = ({ path }, progress, signal) =>
  sha256OfFileAsync(path, { signal, progress });
