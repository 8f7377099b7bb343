/**
 * How a Hub blob's name checks its content: an LFS file (weights, spiece.model) is named by the sha256 of its
 * bytes, any other file (config.json, tokenizer.json) by its git object id, the sha1 of "blob SIZE\0" and the bytes.
 * Downloads check each file against the name before it enters the cache, and `model verify` checks the cache.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export type BlobCheck = { kind: 'sha256' | 'git-oid'; expected: string };

/** The check a blob name stands for; undefined for a name that is neither (an unknown mirror's ETag). */
export function blobCheck(name: string): BlobCheck | undefined {
  if (/^[0-9a-f]{64}$/.test(name)) return { kind: 'sha256', expected: name };
  if (/^[0-9a-f]{40}$/.test(name)) return { kind: 'git-oid', expected: name };
  return undefined;
}

/** A hash ready for the content of a blob of `size` bytes. */
export function startHash(check: BlobCheck, size: number): Hash {
  return check.kind === 'sha256' ? createHash('sha256') : createHash('sha1').update(`blob ${size}\0`);
}

/** The hash of the first `length` bytes of `file`, to resume a download with. */
export async function hashPrefix(check: BlobCheck, size: number, file: string, length: number): Promise<Hash> {
  const hash = startHash(check, size);
  if (length === 0) return hash;
  for await (const chunk of createReadStream(file, { start: 0, end: length - 1 })) hash.update(chunk as Buffer);
  return hash;
}

/** Whether `file` (of `size` bytes) holds what the check expects. */
export async function blobMatches(check: BlobCheck, size: number, file: string): Promise<boolean> {
  return (await hashPrefix(check, size, file, size)).digest('hex') === check.expected;
}
