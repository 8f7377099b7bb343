/**
 * The two ways Sprout identifies a file: by its bytes (sha256: cached conversions, finished label files, Hub blobs,
 * the renderer's checksum job) and by where and what version it is (real path, size, mtime: which source a cached
 * conversion was made from, without reading gigabytes to find out).
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';

const CHUNK = 4 << 20;

/** sha256 (hex) of a file's bytes. */
export function sha256OfFile(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (let n; (n = readSync(fd, buffer, 0, CHUNK, null)) > 0;) hash.update(buffer.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

export interface HashProgress {
  bytes: number;
  totalBytes: number;
}

/**
 * sha256 (hex) of a file's bytes without blocking the event loop, for files large enough to want progress (each
 * 4 MiB chunk reported) and a way to stop (`signal` is checked before every read).
 */
export async function sha256OfFileAsync(
  path: string,
  options: { signal?: AbortSignal; progress?: (p: HashProgress) => void } = {},
): Promise<{ sha256: string; bytes: number }> {
  const file = await open(path, 'r');
  try {
    const totalBytes = (await file.stat()).size;
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(CHUNK);
    let bytes = 0;
    for (;;) {
      options.signal?.throwIfAborted();
      const { bytesRead } = await file.read(buffer, 0, CHUNK, bytes);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      bytes += bytesRead;
      options.progress?.({ bytes, totalBytes });
    }
    return { sha256: hash.digest('hex'), bytes };
  } finally {
    await file.close();
  }
}

/**
 * sha256 (hex) over each file's real path, size and mtime, in the order given: changes when any of the files is
 * moved, rewritten or touched, so a cache keyed by it is rebuilt from a changed source and reused otherwise.
 */
export function filesStamp(paths: readonly string[]): string {
  const hash = createHash('sha256');
  for (const path of paths) {
    const st = statSync(path);
    hash.update(`${realpathSync(path)}\0${st.size}\0${st.mtimeMs}\0`);
  }
  return hash.digest('hex');
}
