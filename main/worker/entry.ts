/** The engine worker thread: runs jobs from main/worker/jobs.ts for the main thread (see client.ts). */
import { parentPort } from 'node:worker_threads';
import { toErrorShape } from '../ipc/dispatch.js';
import type { Job } from './job.js';
import { jobs } from './jobs.js';
import { CRASH_INJECTION_ENV, type FromWorker, type JobName, type ToWorker } from './protocol.js';

if (!parentPort) throw new Error('main/worker/entry.ts runs as a worker thread only');
const port = parentPort;
const running = new Map<number, AbortController>();

function send(message: FromWorker): void {
  port.postMessage(message);
}

function injectCrash(): void {
  const mode = process.env[CRASH_INJECTION_ENV];
  if (mode === 'exit') process.exit(70);
  if (mode === 'throw')
    setImmediate(() => {
      throw new Error('injected worker crash');
    });
}

async function run(id: number, job: JobName, input: unknown): Promise<void> {
  const controller = new AbortController();
  running.set(id, controller);
  try {
    if (!Object.hasOwn(jobs, job)) throw new Error(`unknown job "${job}"`);
    injectCrash();
    const implementation = jobs[job] as Job<unknown, unknown, unknown>;
    const output = await implementation(input as never, (progress) => send({ type: 'progress', id, progress }), controller.signal);
    send({ type: 'done', id, output });
  } catch (error) {
    send({
      type: 'failed',
      id,
      error: controller.signal.aborted ? { code: 'cancelled', message: 'The job was cancelled.' } : toErrorShape(error),
    });
  } finally {
    running.delete(id);
  }
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'run') void run(message.id, message.job, message.input);
  else running.get(message.id)?.abort();
});
