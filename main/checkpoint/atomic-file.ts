import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { tempPathBeside } from '../temp-path.js';

/** Writes at the end of the file (`put`) or over bytes already written (`putAt`). */
export interface PositionalWriter {
  put(chunk: Uint8Array): void;
  putAt(chunk: Uint8Array, at: number): void;
  /** Bytes written so far by `put`. */
  readonly position: number;
}

/**
 * Writes `file` through a temporary file beside it, fsynced and renamed into place only when `fill` returns, so
 * a crash or an error never leaves a half-written file under the real name.
 */
export function writeFileAtomically(file: string, fill: (writer: PositionalWriter) => void): void {
  const target = resolve(file);
  const tmp = tempPathBeside(target);
  const fd = openSync(tmp, 'w');
  let open = true;
  try {
    let position = 0;
    const putAt = (chunk: Uint8Array, at: number): void => {
      let done = 0;
      while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done, at + done);
    };
    fill({
      put(chunk) {
        putAt(chunk, position);
        position += chunk.length;
      },
      putAt,
      get position() {
        return position;
      },
    });
    fsyncSync(fd);
    open = false;
    closeSync(fd);
    renameSync(tmp, target);
  } catch (error) {
    // Never a second close: by a failed rename the number may be another thread's file already ("File descriptor
    // 37 closed but not opened", logged beside the rename's ENOENT).
    if (open) closeSync(fd);
    rmSync(tmp, { force: true });
    throw error;
  }
}
