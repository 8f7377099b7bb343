/**
 * Ctrl-C (SIGINT) and SIGTERM abort a command's work instead of ending the process, so that it stops where what it
 * made is kept (a checkpoint, the rows written, the probes finished, the bytes downloaded) and says so itself.
 * `stopping`, when given, is printed at the first signal: the work may take a step to notice.
 */
import { SproutError } from '../errors.js';

export function interruptSignal(stopping?: string): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = () => {
    if (stopping && !controller.signal.aborted) process.stderr.write(`\n${stopping}\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/**
 * A command's failure once a signal stopped its work: the line `stopped` says (else the error's own message, when
 * it is one of Sprout's) and exit code 130, as the shell reports Ctrl-C, instead of an abort's stack trace. Any
 * other failure is thrown on.
 */
export function stoppedBy(signal: AbortSignal, error: unknown, stopped: string): number {
  if (!signal.aborted) throw error;
  process.stderr.write(`sprout: ${error instanceof SproutError ? error.message : stopped}\n`);
  return 130;
}
