import type { PrepareProgress } from '../weights/store.js';

/** Below this many bytes a conversion or check takes seconds: one line when it is done says enough. */
const LARGE_BYTES = 1e9;

/**
 * Prints converting/verifying the weights on stderr. On a terminal one line counts up in place; otherwise a large
 * model gets a line per 10 % (so a first int8 build of minutes is not silent) and a small one just its last line.
 */
export function preparePrinter(tty = process.stderr.isTTY === true): (p: PrepareProgress) => void {
  let shown = -1;
  let phase = '';
  return (p) => {
    const percent = p.total > 0 ? Math.floor((100 * p.done) / p.total) : 100;
    const step = tty ? 1 : p.total >= LARGE_BYTES ? 10 : 100;
    const at = Math.floor(percent / step) * step;
    // A phase says each step once, however often it is reported again (a session rebuilt re-checks the same files).
    if (p.phase === phase && at <= shown) return;
    if (step === 100 && at < 100) return;
    phase = p.phase;
    shown = at;
    const what = p.phase === 'convert' ? 'converting the weights (once per model and width)' : 'verifying the converted weights';
    const line = `${what}: ${at}% of ${(p.total / 1e9).toFixed(2)} GB`;
    process.stderr.write(tty ? `\r${line}\x1b[K${at === 100 ? '\n' : ''}` : `${line}\n`);
  };
}
