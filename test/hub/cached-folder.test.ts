/**
 * A model already in Python's Hugging Face cache, given by the folder people find there (models--ORG--NAME, no
 * config.json of its own): `sprout model import` and `sprout model verify` read the snapshot refs/main names. The
 * cache is laid out by hand as huggingface_hub documents it (blobs named by sha256 for LFS files and by git's blob
 * sha1 for the rest, relative symlinks from snapshots/<commit>/, refs/main holding the commit), not by Sprout's own
 * downloader.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { fixture, repoRoot, tempDir } from '../checkpoint/helpers.js';
import { Harness } from '../ipc/harness.js';

const run = promisify(execFile);
const LFS = new Set(['model.safetensors', 'spiece.model']);
const FILES = ['config.json', 'model.safetensors', 'spiece.model', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

/** The etag the hub gives a file, which names its blob: sha256 for LFS files, git's blob sha1 for the others. */
function etag(name: string, bytes: Buffer): string {
  if (LFS.has(name)) return createHash('sha256').update(bytes).digest('hex');
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

/** models--ORG--NAME under `cache` with one snapshot per commit (each a copy of the fixture), refs/main naming `main`. */
function cachedRepo(cache: string, repo: string, commits: string[], main: string | null): string {
  const root = join(cache, `models--${repo.replaceAll('/', '--')}`);
  mkdirSync(join(root, 'blobs'), { recursive: true });
  for (const commit of commits) {
    mkdirSync(join(root, 'snapshots', commit), { recursive: true });
    for (const name of FILES) {
      const bytes = readFileSync(join(fixture('tiny-t5-v1_1'), name));
      const blob = etag(name, bytes);
      writeFileSync(join(root, 'blobs', blob), bytes);
      symlinkSync(join('..', '..', 'blobs', blob), join(root, 'snapshots', commit, name));
    }
  }
  if (main) {
    mkdirSync(join(root, 'refs'));
    writeFileSync(join(root, 'refs', 'main'), main);
  }
  return root;
}

async function sprout(home: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH ?? '', HOME: home, SPROUT_HOME: home };
  try {
    const { stdout, stderr } = await run(process.execPath, [join(repoRoot, 'out/cli.js'), ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const [OLD, NEW] = ['a'.repeat(40), '0123456789abcdef0123456789abcdef01234567'];

describe('a model in the Hugging Face cache, given by its folder there', () => {
  it('imports and verifies the snapshot refs/main names, registered under the model’s name', async () => {
    const home = tempDir('sprout-home-');
    const repo = cachedRepo(tempDir('sprout-hfcache-'), 'google/tiny-t5', [OLD, NEW], NEW);
    const imported = await sprout(home, ['model', 'import', repo]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ id: 'local/tiny-t5', path: join(repo, 'snapshots', NEW) });
    const inside = await sprout(home, ['model', 'import', join(repo, 'snapshots')]);
    expect(JSON.parse(inside.stdout)).toMatchObject({ id: 'local/tiny-t5', path: join(repo, 'snapshots', NEW) });
    const verified = await sprout(home, ['model', 'verify', repo]);
    expect(verified.code, verified.stderr).toBe(0);
    // Every file's blob is re-hashed against its name: the LFS files' sha256, the others' git object id.
    const files = readdirSync(join(repo, 'snapshots', NEW)).length;
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, path: join(repo, 'snapshots', NEW), checked_blobs: files });
  });

  it('takes the only snapshot when refs/main is missing', async () => {
    const repo = cachedRepo(tempDir('sprout-hfcache-'), 't5-tiny', [OLD], null);
    const imported = await sprout(tempDir('sprout-home-'), ['model', 'import', repo]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ id: 'local/t5-tiny', path: join(repo, 'snapshots', OLD) });
  });

  it('names the folders to choose from: the cache itself, or several snapshots and no refs/main', async () => {
    const cache = tempDir('sprout-hfcache-');
    const one = cachedRepo(cache, 'google/tiny-t5', [OLD, NEW], null);
    const two = cachedRepo(cache, 'acme/other', [NEW], NEW);
    const home = tempDir('sprout-home-');
    const root = await sprout(home, ['model', 'import', cache]);
    expect(root.code).not.toBe(0);
    expect(root.stderr).toContain('This is a Hugging Face cache holding 2 models');
    expect(root.stderr).toContain(`sprout model import ${two} · sprout model import ${one}`);
    // Any other folder without config.json is still not a model folder, dangling links and all.
    const plain = tempDir('sprout-plain-');
    symlinkSync(join(plain, 'gone'), join(plain, 'models--dangling'));
    const notModel = await sprout(home, ['model', 'import', plain]);
    expect(notModel.stderr).toContain('The folder has no config.json, so it is not a Hugging Face model folder.');
    const ambiguous = await sprout(home, ['model', 'import', one]);
    expect(ambiguous.code).not.toBe(0);
    expect(ambiguous.stderr).toContain('The cache folder of google/tiny-t5 holds 2 snapshots and no refs/main naming one.');
    expect(ambiguous.stderr).toContain(`sprout model import ${join(one, 'snapshots', NEW)}`);
  });
});

describe('the Model step', () => {
  it('imports a cache folder as the command does, and refuses the cache itself with a code of its own', async () => {
    const h = new Harness();
    try {
      const cache = tempDir('sprout-hfcache-');
      const repo = cachedRepo(cache, 'google/tiny-t5', [OLD, NEW], NEW);
      expect(await h.call('model.import', { path: repo })).toMatchObject({ id: 'local/tiny-t5', path: join(repo, 'snapshots', NEW) });
      expect(await h.failure('model.import', { path: cache })).toBe('hub-cache-root');
    } finally {
      await h.close();
    }
  });
});
