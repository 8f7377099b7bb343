/**
 * A progress line on stderr for work that reports often: rewritten in place on a terminal, otherwise at most one line
 * a second, so that a log stays readable. The first report and the last (`last`) always print: the first names the
 * work however soon it gets going, the last is where it ended.
 */
export function statusLine(): (line: string, last: boolean) => void {
  let shown = -Infinity;
  const tty = process.stderr.isTTY;
  return (line, last) => {
    const now = performance.now();
    if (now - shown < 1000 && !last) return;
    shown = now;
    process.stderr.write(tty ? `\r${line}\x1b[K${last ? '\n' : ''}` : `${line}\n`);
  };
}
