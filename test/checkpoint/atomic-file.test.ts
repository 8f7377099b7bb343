import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { writeFileAtomically } from '../../main/checkpoint/atomic-file.js';
import { tempDir } from './helpers.js';

afterEach(() => vi.restoreAllMocks());

describe('writeFileAtomically', () => {
  it('two writers of one file in one process and millisecond each rename their own temporary file', () => {
    // The second writer runs inside the first one's fill, as a thread of the same process interleaves with it.
    vi.spyOn(Date, 'now').mockReturnValue(1_796_601_264_900);
    const dir = tempDir();
    const file = join(dir, 'tokens.safetensors');
    writeFileAtomically(file, (outer) => {
      outer.put(Buffer.from('first '));
      writeFileAtomically(file, (inner) => inner.put(Buffer.from('second')));
      outer.put(Buffer.from('writer'));
    });
    expect(readFileSync(file, 'utf8')).toBe('first writer');
    expect(readdirSync(dir)).toEqual(['tokens.safetensors']);
  });
});
