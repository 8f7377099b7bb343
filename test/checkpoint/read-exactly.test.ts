/**
 * The one "fill this buffer from that offset" loop the checkpoint readers share (safetensors, zip, pytorch_model.bin,
 * the half-precision cast): it reads until the buffer is full, and a file that ends first raises the reader's error.
 */
import { closeSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readExactly } from '../../main/checkpoint/read-exactly.js';

describe('readExactly', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'sprout-read-')), 'ten-bytes');
  writeFileSync(
    file,
    Uint8Array.from({ length: 10 }, (_, i) => i),
  );
  const ended = (): never => {
    throw new Error('the file ended');
  };

  it('fills the buffer from the offset asked for', () => {
    const fd = openSync(file, 'r');
    try {
      const buffer = new Uint8Array(4);
      readExactly(fd, buffer, 6, ended);
      expect([...buffer]).toEqual([6, 7, 8, 9]);
    } finally {
      closeSync(fd);
    }
  });

  it("raises the reader's own error where the file ends before the buffer is full", () => {
    const fd = openSync(file, 'r');
    try {
      expect(() => readExactly(fd, new Uint8Array(5), 6, ended)).toThrow('the file ended');
    } finally {
      closeSync(fd);
    }
  });
});
