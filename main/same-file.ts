/**
 * Whether two paths name one file: compared by device and inode, since a link, a `..` or another spelling of the
 * same path would pass a comparison of the paths themselves. A path that does not exist names no file.
 */
import { statSync } from 'node:fs';

export function sameFile(a: string, b: string): boolean {
  const [x, y] = [statSync(a, { bigint: true, throwIfNoEntry: false }), statSync(b, { bigint: true, throwIfNoEntry: false })];
  return x !== undefined && y !== undefined && x.dev === y.dev && x.ino === y.ino;
}
