/**
 * Messages between the main thread and the engine worker (main/worker/entry.ts). `JobTable` declares each job's
 * input, output and progress types; add a job there and its implementation in main/worker/jobs.ts.
 */
import type { ContractErrorShape } from '../../preload/contract.js';

export interface JobTable {
  /** SHA-256 of a file read in chunks, e.g. to check a downloaded weights file against the hub's LFS hash. */
  'file.sha256': { input: { path: string }; output: { sha256: string; bytes: number }; progress: { bytes: number; totalBytes: number } };
}

export type JobName = keyof JobTable;
export type JobInput<J extends JobName> = JobTable[J]['input'];
export type JobOutput<J extends JobName> = JobTable[J]['output'];
export type JobProgress<J extends JobName> = JobTable[J]['progress'];

export type ToWorker =
  | { type: 'run'; id: number; job: JobName; input: unknown }
  | { type: 'cancel'; id: number };

export type FromWorker =
  | { type: 'progress'; id: number; progress: unknown }
  | { type: 'done'; id: number; output: unknown }
  | { type: 'failed'; id: number; error: ContractErrorShape };

/**
 * Fault injection for the crash tests: when the worker's environment sets this to "throw" (an uncaught
 * exception) or "exit" (the thread ends with code 70), the worker dies as it starts a job.
 */
export const CRASH_INJECTION_ENV = 'SPROUT_INJECT_WORKER_CRASH';
