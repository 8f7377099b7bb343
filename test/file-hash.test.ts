/**
 * The file identities every cache, seal and checksum job relies on: sha256 against Python's hashlib on files from
 * ../shared (one under a chunk, one of ten chunks with a partial last one), and the version stamp that decides when a
 * cached conversion is stale.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { filesStamp, sha256OfFile, sha256OfFileAsync, type HashProgress } from '../main/file-hash.js';
import { shared } from './train/fixtures.js';

const files = [join(shared, 'data', 'ag_news', 'test.csv'), join(shared, 'fixtures', 'mini-t5-instruct', 'model.safetensors')];
const hashlib = (path: string) =>
  execFileSync('python3', ['-c', 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())', path], {
    encoding: 'utf8',
  }).trim();

describe('sha256 of a file', () => {
  for (const path of files) {
    it(`equals Python's hashlib on ${path.split('/').slice(-2).join('/')} (${statSync(path).size} bytes), read either way`, async () => {
      const expected = hashlib(path);
      expect(sha256OfFile(path)).toBe(expected);
      const seen: HashProgress[] = [];
      const result = await sha256OfFileAsync(path, { progress: (p) => seen.push(p) });
      expect(result).toEqual({ sha256: expected, bytes: statSync(path).size });
      expect(seen.at(-1)).toEqual({ bytes: result.bytes, totalBytes: result.bytes });
      expect(seen.map((p) => p.bytes)).toEqual([...seen.map((p) => p.bytes)].sort((a, b) => a - b));
    });
  }

  it('stops at the next chunk when its signal is aborted, and hashes an empty file', async () => {
    const controller = new AbortController();
    const stopped = sha256OfFileAsync(files[1], { signal: controller.signal, progress: () => controller.abort() });
    await expect(stopped).rejects.toMatchObject({ name: 'AbortError' });
    const dir = mkdtempSync(join(tmpdir(), 'sprout-hash-'));
    try {
      writeFileSync(join(dir, 'empty'), '');
      expect(sha256OfFile(join(dir, 'empty'))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the version stamp of a set of files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sprout-stamp-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const a = join(dir, 'a.bin');
  const b = join(dir, 'b.bin');
  writeFileSync(a, 'weights');
  copyFileSync(a, b);
  utimesSync(a, 1_700_000_000, 1_700_000_000);
  utimesSync(b, 1_700_000_000, 1_700_000_000);

  it('is the same for the same files, whichever link names them, and follows their order', () => {
    symlinkSync(a, join(dir, 'link.bin'));
    expect(filesStamp([join(dir, 'link.bin'), b])).toBe(filesStamp([a, b]));
    expect(filesStamp([b, a])).not.toBe(filesStamp([a, b]));
  });

  it('changes when a file is touched, resized or moved, and cannot see a rewrite that keeps size and mtime', () => {
    const before = filesStamp([a, b]);
    utimesSync(b, 1_700_000_001, 1_700_000_001);
    const touched = filesStamp([a, b]);
    expect(touched).not.toBe(before);
    writeFileSync(b, 'weighty');
    utimesSync(b, 1_700_000_001, 1_700_000_001);
    expect(filesStamp([a, b])).toBe(touched);
    writeFileSync(b, 'heavier weights');
    utimesSync(b, 1_700_000_001, 1_700_000_001);
    expect(filesStamp([a, b])).not.toBe(touched);
    const c = join(dir, 'c.bin');
    copyFileSync(b, c);
    utimesSync(c, 1_700_000_001, 1_700_000_001);
    expect(filesStamp([a, c])).not.toBe(filesStamp([a, b]));
  });
});
