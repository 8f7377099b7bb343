/**
 * A path that exists but is no regular file, refused before it is opened: opening a named pipe waits for a writer
 * (a FIFO named adapter_config.json once held the whole server, and one named config.json the engine's worker, with
 * every job behind it), and a device such as /dev/zero never ends.
 */
import { statSync, type Stats } from 'node:fs';
import { SproutError } from './errors.js';

/** What a path that is not a regular file is, in words. */
export function kindOf(stat: Stats): string {
  if (stat.isDirectory()) return 'a folder';
  if (stat.isFIFO()) return 'a named pipe (FIFO)';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Throws `code` when `file` exists and is not a regular file; a missing file is left to the reader to name. */
export function refuseSpecialFile(file: string, code: string, what = 'file'): void {
  const stat = statSync(file, { throwIfNoEntry: false });
  if (stat && !stat.isFile())
    throw new SproutError(code, `The ${what} is ${kindOf(stat)}, not a file.`, { file, hint: 'Give the path of a regular file.' });
}
