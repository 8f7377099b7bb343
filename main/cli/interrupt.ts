/**
 * Ctrl-C (SIGINT) and SIGTERM abort a command's work instead of ending the process, so that it stops where what it
 * made is kept (a checkpoint, the rows written, the probes finished, the bytes downloaded) and says so itself.
 * `stopping`, when given, is printed at the first signal: the work may take a step to notice.
 */
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
