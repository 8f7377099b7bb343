import { Worker } from 'node:worker_threads';
import type { ContractErrorShape } from '../../preload/contract.js';
import { ContractError } from '../../preload/contract-error.js';
import type { FromWorker, JobInput, JobName, JobOutput, JobProgress, ToWorker } from './protocol.js';

interface Pending {
  resolve(output: unknown): void;
  reject(error: Error): void;
  progress(progress: unknown): void;
}

export interface EngineWorkerOptions {
  /** The bundled worker, out/worker.js (built from main/worker/entry.ts). */
  script: string;
  /** The worker's environment, read again each time a worker starts; defaults to this process's. */
  env?: NodeJS.ProcessEnv;
  /** Told when the worker dies, so the UI can say so; the next job starts a fresh worker. */
  onCrash?: (error: ContractErrorShape) => void;
}

/**
 * Runs jobs on one worker thread, started on first use. If the thread dies (an uncaught exception, a native
 * abort, process.exit) every job in flight is rejected with `worker-crashed` instead of waiting forever.
 */
export class EngineWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly options: EngineWorkerOptions) {}

  run<J extends JobName>(
    job: J,
    input: JobInput<J>,
    onProgress: (progress: JobProgress<J>) => void = () => {},
    signal?: AbortSignal,
  ): Promise<JobOutput<J>> {
    if (signal?.aborted) return Promise.reject(new ContractError('cancelled', 'The job was cancelled.'));
    const worker = this.started();
    const id = this.nextId++;
    return new Promise<JobOutput<J>>((resolve, reject) => {
      const onAbort = () => worker.postMessage({ type: 'cancel', id } satisfies ToWorker);
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = () => signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        resolve: (output) => (settle(), resolve(output as JobOutput<J>)),
        reject: (error) => (settle(), reject(error)),
        progress: (progress) => onProgress(progress as JobProgress<J>),
      });
      worker.ref();
      worker.postMessage({ type: 'run', id, job, input } satisfies ToWorker);
    });
  }

  /** Whether any job (a training run, a download, a labelling job…) is still running. */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  /** Ends the worker thread; jobs in flight are rejected. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.failAll({ code: 'cancelled', message: 'The engine worker was shut down.' });
    await worker?.terminate();
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.options.script, { env: { ...(this.options.env ?? process.env) } });
    worker.on('message', (message: FromWorker) => this.receive(message));
    worker.on('error', (error) => this.crashed(worker, `the engine worker crashed: ${error.message}`));
    worker.on('exit', (code) => this.crashed(worker, `the engine worker stopped unexpectedly (exit code ${code})`, code));
    this.worker = worker;
    return worker;
  }

  private receive(message: FromWorker): void {
    const pending = this.pending.get(message.id);
    if (!pending) return;
    if (message.type === 'progress') return pending.progress(message.progress);
    this.pending.delete(message.id);
    // An idle worker must not keep the process alive; one with jobs must.
    if (this.pending.size === 0) this.worker?.unref();
    if (message.type === 'done') pending.resolve(message.output);
    else pending.reject(new ContractError(message.error.code, message.error.message, message.error.details));
  }

  private crashed(worker: Worker, reason: string, exitCode?: number): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    const error: ContractErrorShape = {
      code: 'worker-crashed',
      message: `${reason[0].toUpperCase()}${reason.slice(1)}. Try again; if it keeps happening, run \`sprout doctor\` and report the output.`,
      details: exitCode === undefined ? { reason } : { reason, exitCode },
    };
    this.failAll(error);
    this.options.onCrash?.(error);
  }

  private failAll(error: ContractErrorShape): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(new ContractError(error.code, error.message, error.details));
  }
}
