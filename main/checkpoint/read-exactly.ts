import { readSync } from 'node:fs';

/**
 * Fills `buffer` from byte `position` of the open file `fd`. A read can return fewer bytes than asked, so it reads
 * until the buffer is full; a file that ends first (a cut download, a file truncated meanwhile) calls `ended`, which
 * throws the reader's own error.
 */
export function readExactly(fd: number, buffer: Uint8Array, position: number, ended: () => never): void {
  let done = 0;
  while (done < buffer.length) {
    const n = readSync(fd, buffer, done, buffer.length - done, position + done);
    if (n === 0) ended();
    done += n;
  }
}
