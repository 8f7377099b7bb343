import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { Job } from '../job.js';

const CHUNK = 4 << 20;

export interface Sha256Input {
  path: string;
}

export interface Sha256Output {
  sha256: string;
  bytes: number;
}

export interface Sha256Progress {
  bytes: number;
  totalBytes: number;
}

export const sha256File: Job<Sha256Input, Sha256Output, Sha256Progress> = async ({ path }, progress, signal) => {
  const file = await open(path, 'r');
  try {
    const totalBytes = (await file.stat()).size;
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(CHUNK);
    let bytes = 0;
    for (;;) {
      signal.throwIfAborted();
      const { bytesRead } = await file.read(buffer, 0, CHUNK, bytes);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      bytes += bytesRead;
      progress({ bytes, totalBytes });
    }
    return { sha256: hash.digest('hex'), bytes };
  } finally {
    await file.close();
  }
};
