import { randomBytes } from 'node:crypto';

/** A short id for a job of this host, e.g. "dl-3f9a01c2". */
export function jobId(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}
