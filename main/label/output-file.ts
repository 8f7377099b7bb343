import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { SproutError } from '../errors.js';

/**
 * The output file of a labelling job, grown only by appending. `sync()` makes everything appended so far durable
 * and returns the file's length, which the job then records as committed; `reopen` cuts a file back to such a
 * recorded length, dropping whatever a crash or cancel left after the last commit.
 */
export class AppendFile {
  private pending: string[] = [];
  private length: number;

  private constructor(
    readonly path: string,
    private fd: number,
    length: number,
  ) {
    this.length = length;
  }

  /** A new, empty file; an existing file is replaced only with `overwrite`. */
  static create(path: string, overwrite: boolean): AppendFile {
    refuseExisting(path, overwrite);
    return new AppendFile(path, openSync(path, 'w'), 0);
  }

  /** An existing file cut back to `committedBytes`; a file shorter than that was changed by someone else. */
  static reopen(path: string, committedBytes: number): AppendFile {
    if (!existsSync(path)) {
      throw new SproutError('label-output-missing', 'The output file of this job is gone, so the job cannot resume.', {
        file: path,
        hint: 'Start a new job instead of --resume.',
      });
    }
    const fd = openSync(path, 'r+');
    const size = fstatSync(fd).size;
    if (size < committedBytes) {
      closeSync(fd);
      throw new SproutError(
        'label-output-changed',
        `The output file has ${size} bytes but the job had committed ${committedBytes}; it was changed outside Sprout.`,
        {
          file: path,
          hint: 'Start a new job instead of --resume.',
        },
      );
    }
    ftruncateSync(fd, committedBytes);
    fsyncSync(fd);
    return new AppendFile(path, fd, committedBytes);
  }

  append(text: string): void {
    if (text) this.pending.push(text);
  }

  /** Writes what was appended, fsyncs, and returns the durable length in bytes. */
  sync(): number {
    if (this.pending.length) {
      const bytes = Buffer.from(this.pending.join(''), 'utf8');
      this.pending = [];
      for (let done = 0; done < bytes.length;) done += writeSync(this.fd, bytes, done, bytes.length - done, this.length + done);
      this.length += bytes.length;
    }
    fsyncSync(this.fd);
    return this.length;
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}

/** Refuses to write over a file that exists, unless `overwrite`. */
export function refuseExisting(path: string, overwrite: boolean): void {
  if (!overwrite && existsSync(path)) {
    throw new SproutError('label-output-exists', 'The output file already exists.', {
      file: path,
      hint: 'Choose another --output, or pass --overwrite to replace it.',
    });
  }
}
