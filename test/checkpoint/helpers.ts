import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../..');
export const fixtures = resolve(repoRoot, '../shared/fixtures');
export const fixture = (name: 'tiny-t5-v1_0' | 'tiny-t5-v1_1' | 'mini-t5-pretrained'): string => join(fixtures, name);

export function tempDir(prefix = 'sprout-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
