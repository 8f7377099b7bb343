import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readlinkSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../main/checkpoint/checkpoint.js';
import { findFamily } from '../../main/checkpoint/families.js';
import { generateCheckpoint, type GeneratedCheckpoint } from '../../main/checkpoint/generate.js';
import { SproutError } from '../../main/errors.js';
import type { OpenBlobWriter } from '../../main/hub/blob.js';
import { downloadModel, type DownloadOptions } from '../../main/hub/download.js';
import type { DownloadProgress } from '../../main/hub/progress.js';
import type { HubSettings } from '../../main/hub/settings.js';
import { fixture, tempDir } from '../checkpoint/helpers.js';
import { readSafetensorsHeader, readTensorF32, writeSafetensorsStreamed } from '../../main/checkpoint/safetensors.js';
import { fixtureAsPytorchBin } from '../checkpoint/torch-save.js';
import { commitOf, HubServer, repoFromFolder } from './hub-server.js';

const MODEL_FILES = [
  'config.json',
  'model.safetensors',
  'spiece.model',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'generation_config.json',
];
const v10 = fixture('tiny-t5-v1_0');
const weights = readFileSync(join(v10, 'model.safetensors'));
const weightsSha = createHash('sha256').update(weights).digest('hex');

let server: HubServer;
beforeAll(async () => {
  server = await new HubServer().start();
  // Extra files a real repository has and Sprout must not fetch.
  server.repos.set(
    'acme/tiny-t5',
    repoFromFolder(v10, MODEL_FILES, 'v1', {
      'README.md': Buffer.from('# tiny'),
      'tf_model.h5': Buffer.alloc(1000),
      'reference.json': readFileSync(join(v10, 'reference.json')),
    }),
  );
  server.repos.set('tiny-t5-plain', repoFromFolder(v10, MODEL_FILES, 'plain'));
  server.repos.set('acme/private-t5', { ...repoFromFolder(v10, MODEL_FILES, 'private'), token: 'hf_secret' });
});
afterAll(() => server.stop());

function settings(cacheDir = tempDir('sprout-hub-'), extra: Partial<HubSettings> = {}): HubSettings {
  return { endpoint: server.endpoint, cacheDir, offline: false, ...extra };
}

async function errorOf(promise: Promise<unknown>): Promise<SproutError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SproutError);
  return error as SproutError;
}

function sentDuring<T>(file: string, fn: () => Promise<T>): Promise<[T, number]> {
  const before = server.sent.get(file) ?? 0;
  return fn().then((result) => [result, (server.sent.get(file) ?? 0) - before]);
}

describe('downloadModel against a loopback hub', () => {
  it('a clean download: HF cache layout, only the needed files, progress to the total', async () => {
    const cacheDir = tempDir('sprout-hub-');
    const events: DownloadProgress[] = [];
    const result = await downloadModel('acme/tiny-t5', { settings: settings(cacheDir), onProgress: (p) => events.push(p) });
    const root = join(cacheDir, 'models--acme--tiny-t5');
    expect(result.commit).toBe(commitOf('v1'));
    expect(result.dir).toBe(join(root, 'snapshots', commitOf('v1')));
    expect(readFileSync(join(root, 'refs', 'main'), 'utf8')).toBe(commitOf('v1'));
    expect(readdirSync(result.dir).sort()).toEqual([...MODEL_FILES].sort());
    for (const name of MODEL_FILES) {
      expect(lstatSync(join(result.dir, name)).isSymbolicLink()).toBe(true);
      expect(readlinkSync(join(result.dir, name)).startsWith('../../blobs/')).toBe(true);
      expect(readFileSync(join(result.dir, name)).equals(readFileSync(join(v10, name)))).toBe(true);
    }
    expect(readlinkSync(join(result.dir, 'model.safetensors'))).toBe(`../../blobs/${weightsSha}`);
    expect(readdirSync(join(root, 'blobs')).some((b) => b.endsWith('.incomplete'))).toBe(false);
    const total = MODEL_FILES.reduce((s, f) => s + readFileSync(join(v10, f)).length, 0);
    expect(result.fetchedBytes).toBe(total);
    const last = events[events.length - 1];
    expect(last.bytes).toBe(total);
    expect(last.total).toBe(total);
    expect(last.etaSeconds).toBe(0);
    expect(last.rate).toBeGreaterThan(0);
    expect(events.some((e) => e.file === 'model.safetensors' && e.fileBytes === weights.length)).toBe(true);
    expect(server.requests.some((r) => r.includes('README.md') || r.includes('tf_model.h5') || r.includes('reference.json'))).toBe(false);
    const ckpt = await openCheckpoint(result.dir, { castCacheDir: tempDir() });
    expect(ckpt.tensors.size).toBe(47);

    // A second download is a no-op: one model-info call, no file requests, nothing fetched.
    const files = server.fileRequests().length;
    const again = await downloadModel('acme/tiny-t5', { settings: settings(cacheDir) });
    expect(again.fetchedBytes).toBe(0);
    expect(again.dir).toBe(result.dir);
    expect(server.fileRequests().length).toBe(files);

    // Offline with the model cached works without any request; an uncached model fails clearly.
    const requests = server.requests.length;
    const offline = await downloadModel('acme/tiny-t5', {
      settings: settings(cacheDir, { offline: true, endpoint: 'http://127.0.0.1:9' }),
    });
    expect(offline.dir).toBe(result.dir);
    expect(server.requests.length).toBe(requests);
    const error = await errorOf(downloadModel('tiny-t5-plain', { settings: settings(cacheDir, { offline: true }) }));
    expect(error.code).toBe('offline-not-cached');
    expect(error.message).toContain('"tiny-t5-plain" (revision "main") is not in the Hugging Face cache');
    expect(error.message).toContain('HF_HUB_OFFLINE is set');
    // A pinned commit that is cached needs no network either.
    const pinned = await downloadModel('acme/tiny-t5', {
      revision: commitOf('v1'),
      settings: settings(cacheDir, { endpoint: 'http://127.0.0.1:9' }),
    });
    expect(pinned.dir).toBe(result.dir);
  });

  it('a connection dropped mid-file is resumed with a Range request', async () => {
    server.dropOnce('model.safetensors', 3_000_000);
    const [result, sent] = await sentDuring('model.safetensors', () => downloadModel('tiny-t5-plain', { settings: settings() }));
    expect(readFileSync(join(result.dir, 'model.safetensors')).equals(weights)).toBe(true);
    expect(sent).toBeGreaterThanOrEqual(weights.length);
    expect(sent).toBeLessThan(1.1 * weights.length);
  });

  it('a connection reset before any answer (a keep-alive connection the hub closed) is asked again; a hub that keeps resetting is unreachable', async () => {
    for (const path of [/\/revision\//, /\/resolve\/.*\/config\.json$/, /\/resolve\/.*\/model\.safetensors$/, /^\/lfs\//])
      server.resetOnce(path);
    const [result, sent] = await sentDuring('model.safetensors', () => downloadModel('tiny-t5-plain', { settings: settings() }));
    expect(readFileSync(join(result.dir, 'model.safetensors')).equals(weights)).toBe(true);
    expect(sent).toBe(weights.length);
    expect(server.pendingResets).toBe(0);
    for (let i = 0; i < 3; i++) server.resetOnce(/\/revision\//);
    const error = await errorOf(downloadModel('tiny-t5-plain', { settings: settings() }));
    expect(error.code).toBe('hub-unreachable');
  });

  it('a connection that goes silent mid-file is let go after HF_HUB_DOWNLOAD_TIMEOUT and resumed with a Range request', async () => {
    server.stallOnce('model.safetensors', 3_000_000);
    const quick = settings(undefined, { timeouts: { download: 1, etag: 1 } });
    const [result, sent] = await sentDuring('model.safetensors', () => downloadModel('tiny-t5-plain', { settings: quick }));
    expect(readFileSync(join(result.dir, 'model.safetensors')).equals(weights)).toBe(true);
    expect(sent).toBeGreaterThanOrEqual(weights.length);
    expect(sent).toBeLessThan(1.1 * weights.length);
  });

  it('a HEAD the hub never answers stops the download after HF_HUB_ETAG_TIMEOUT, naming it', async () => {
    server.holdOnce(/\/resolve\/.*\/config\.json$/);
    const error = await errorOf(downloadModel('tiny-t5-plain', { settings: settings(undefined, { timeouts: { download: 30, etag: 1 } }) }));
    expect(error.code).toBe('hub-unreachable');
    expect(error.message).toBe(
      `The Hugging Face Hub at ${server.endpoint} sent nothing for 1 s. ` +
        'Check the network connection; on a slow connection or mirror, set HF_HUB_ETAG_TIMEOUT to more seconds (1 now).',
    );
  });

  it('a corrupted byte is caught by the sha256 check and the file fetched again', async () => {
    server.corruptOnce('model.safetensors');
    const [result, sent] = await sentDuring('model.safetensors', () => downloadModel('tiny-t5-plain', { settings: settings() }));
    expect(readFileSync(join(result.dir, 'model.safetensors')).equals(weights)).toBe(true);
    expect(sent).toBe(2 * weights.length);
  });

  it('a corrupted byte of a small file is caught by its git object id, as git names it, and the file fetched again', async () => {
    const config = readFileSync(join(v10, 'config.json'));
    server.corruptOnce('config.json');
    const cacheDir = tempDir('sprout-hub-');
    const [result, sent] = await sentDuring('config.json', () => downloadModel('tiny-t5-plain', { settings: settings(cacheDir) }));
    expect(readFileSync(join(result.dir, 'config.json')).equals(config)).toBe(true);
    expect(sent).toBe(2 * config.length);
    // The blob's name is what git itself computes for the file.
    const oid = execFileSync('git', ['hash-object', join(v10, 'config.json')], { encoding: 'utf8' }).trim();
    expect(readlinkSync(join(result.dir, 'config.json'))).toBe(`../../blobs/${oid}`);
    // A damaged copy already in the cache (an older download's, say) is replaced, not trusted, when a download
    // comes to it: here the snapshot lacks its weights' link, so the download completes it.
    const blob = join(result.dir, '..', '..', 'blobs', oid);
    writeFileSync(blob, config.toString('utf8').replace('"t5"', '"t6"'));
    rmSync(join(result.dir, 'model.safetensors'));
    const [again, resent] = await sentDuring('config.json', () => downloadModel('tiny-t5-plain', { settings: settings(cacheDir) }));
    expect(readFileSync(join(again.dir, 'config.json')).equals(config)).toBe(true);
    expect(resent).toBe(config.length);
  });

  it('two downloads of one model into one cache at once both end with the same files', async () => {
    const cacheDir = tempDir('sprout-hub-');
    const [a, b] = await Promise.all([0, 1].map(() => downloadModel('tiny-t5-plain', { settings: settings(cacheDir) })));
    expect(a.dir).toBe(b.dir);
    expect(readFileSync(join(a.dir, 'model.safetensors')).equals(weights)).toBe(true);
    expect(readdirSync(join(a.dir, '..', '..', 'blobs')).filter((f) => f.endsWith('.incomplete'))).toEqual([]);
  });

  it('cancel leaves nothing in snapshots/, and the next run resumes', async () => {
    const cacheDir = tempDir('sprout-hub-');
    const controller = new AbortController();
    const root = join(cacheDir, 'models--tiny-t5-plain');
    const partial = join(root, 'blobs', `${weightsSha}.incomplete`);
    server.stallOnce('model.safetensors', 3_000_000);
    // Cancel once the transfer hangs with everything sent so far on disk (so that the resume refetches nothing).
    const cancelWhenStalled = setInterval(() => {
      if (existsSync(partial) && lstatSync(partial).size >= 3_000_000) controller.abort();
    }, 10);
    const options: DownloadOptions = { settings: settings(cacheDir), signal: controller.signal };
    const [error, sentFirst] = await sentDuring('model.safetensors', () => errorOf(downloadModel('tiny-t5-plain', options)));
    clearInterval(cancelWhenStalled);
    expect(error.code).toBe('download-cancelled');
    expect(existsSync(join(root, 'snapshots', commitOf('plain'), 'model.safetensors'))).toBe(false);
    expect(existsSync(join(root, 'refs', 'main'))).toBe(false);
    expect(lstatSync(partial).size).toBeGreaterThanOrEqual(2_000_000);
    expect(sentFirst).toBeLessThan(weights.length);

    const [result, sentSecond] = await sentDuring('model.safetensors', () =>
      downloadModel('tiny-t5-plain', { settings: settings(cacheDir) }),
    );
    expect(readFileSync(join(result.dir, 'model.safetensors')).equals(weights)).toBe(true);
    expect(sentFirst + sentSecond).toBeLessThan(1.1 * weights.length);
    expect(existsSync(partial)).toBe(false);
  });

  it('404 and 401 give clear messages; a token opens a private repo', async () => {
    const revision = await errorOf(downloadModel('acme/tiny-t5', { revision: 'v9', settings: settings() }));
    expect(revision.code).toBe('hub-revision-not-found');
    expect(revision.message).toBe(
      'The Hub has no revision "v9" for "acme/tiny-t5" (HTTP 404, RevisionNotFound). Check the model id and the revision (branch, tag or commit).',
    );
    const missing = await errorOf(downloadModel('acme/no-such-model', { settings: settings() }));
    expect(missing.code).toBe('hub-unauthorized');
    expect(missing.message).toContain('The Hub refused access to revision "main" of "acme/no-such-model" (HTTP 401, RepoNotFound)');
    expect(missing.message).toContain('set HF_TOKEN');
    const denied = await errorOf(downloadModel('acme/private-t5', { settings: settings() }));
    expect(denied.code).toBe('hub-unauthorized');
    const ok = await downloadModel('acme/private-t5', { settings: settings(undefined, { token: 'hf_secret' }) });
    expect(readFileSync(join(ok.dir, 'model.safetensors')).equals(weights)).toBe(true);
    const badId = await errorOf(downloadModel('../etc', { settings: settings() }));
    expect(badId.code).toBe('bad-repo-id');
    const unreachable = await errorOf(downloadModel('acme/tiny-t5', { settings: settings(undefined, { endpoint: 'http://127.0.0.1:9' }) }));
    expect(unreachable.code).toBe('hub-unreachable');
  });

  it('a full disk (injected write error) stops with a clear error and leaves the previous version intact', async () => {
    const cacheDir = tempDir('sprout-hub-');
    const repo = repoFromFolder(v10, MODEL_FILES, 'disk-1');
    server.repos.set('acme/growing', repo);
    const first = await downloadModel('acme/growing', { settings: settings(cacheDir) });
    // A new commit on main with different weights (one value changed).
    const changed = Buffer.from(weights);
    changed[changed.length - 1] ^= 1;
    repo.files.set('model.safetensors', changed);
    repo.commit = commitOf('disk-2');
    repo.branches.main = repo.commit;
    let written = 0;
    const fullDisk: OpenBlobWriter = async () => ({
      async write(chunk) {
        written += chunk.length;
        if (written > 1_000_000) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      },
      async close() {},
    });
    const error = await errorOf(downloadModel('acme/growing', { settings: settings(cacheDir), openWriter: fullDisk }));
    expect(error.code).toBe('disk-full');
    expect(error.message).toContain('The disk is full; the download stopped.');
    const root = join(cacheDir, 'models--acme--growing');
    expect(readFileSync(join(root, 'refs', 'main'), 'utf8')).toBe(commitOf('disk-1'));
    expect(readFileSync(join(first.dir, 'model.safetensors')).equals(weights)).toBe(true);
    expect(existsSync(join(root, 'snapshots', commitOf('disk-2'), 'model.safetensors'))).toBe(false);
    const offline = await downloadModel('acme/growing', { settings: settings(cacheDir, { offline: true }) });
    expect(offline.dir).toBe(first.dir);
  });

  it('sharded safetensors: the index is read and its shards fetched', async () => {
    const v11 = fixture('tiny-t5-v1_1');
    const tensors = [...readSafetensorsHeader(join(v11, 'model.safetensors')).values()];
    const shardDir = tempDir();
    const extra: Record<string, Buffer> = {};
    const weightMap: Record<string, string> = {};
    [tensors.filter((t) => t.name.startsWith('decoder')), tensors.filter((t) => !t.name.startsWith('decoder'))].forEach((part, i) => {
      const name = `model-0000${i + 1}-of-00002.safetensors`;
      writeSafetensorsStreamed(
        join(shardDir, name),
        part.map((t) => ({ ...t, write: (sink) => sink(new Uint8Array(readTensorF32(t).buffer)) })),
        { format: 'pt' },
      );
      extra[name] = readFileSync(join(shardDir, name));
      for (const t of part) weightMap[t.name] = name;
    });
    extra['model.safetensors.index.json'] = Buffer.from(JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
    server.repos.set(
      'acme/sharded',
      repoFromFolder(
        v11,
        MODEL_FILES.filter((f) => f !== 'model.safetensors'),
        'sharded',
        extra,
      ),
    );
    const result = await downloadModel('acme/sharded', { settings: settings() });
    expect(result.files.sort()).toEqual(
      [
        'config.json',
        'generation_config.json',
        'model-00001-of-00002.safetensors',
        'model-00002-of-00002.safetensors',
        'model.safetensors.index.json',
        'spiece.model',
        'special_tokens_map.json',
        'tokenizer.json',
        'tokenizer_config.json',
      ].sort(),
    );
    const ckpt = await openCheckpoint(result.dir, { castCacheDir: tempDir() });
    expect(ckpt.tensors.size).toBe(61);
  });

  it('a repository with only pytorch_model.bin is converted once to model.safetensors in the snapshot', async () => {
    const cacheDir = tempDir('sprout-hub-');
    server.repos.set(
      'acme/old-t5',
      repoFromFolder(
        v10,
        MODEL_FILES.filter((f) => f !== 'model.safetensors'),
        'old',
        { 'pytorch_model.bin': fixtureAsPytorchBin() },
      ),
    );
    const result = await downloadModel('acme/old-t5', { settings: settings(cacheDir) });
    expect(lstatSync(join(result.dir, 'pytorch_model.bin')).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(result.dir, 'model.safetensors')).isFile()).toBe(true);
    const ckpt = await openCheckpoint(result.dir, { castCacheDir: tempDir() });
    expect(ckpt.tensors.size).toBe(47);
    const original = readSafetensorsHeader(join(v10, 'model.safetensors'));
    for (const [name, entry] of ckpt.tensors) {
      expect(Buffer.from(readTensorF32(entry).buffer).equals(Buffer.from(readTensorF32(original.get(name)!).buffer)), name).toBe(true);
    }
    const again = await downloadModel('acme/old-t5', { settings: settings(cacheDir) });
    expect(again.fetchedBytes).toBe(0);
  });

  describe('a sharded model as the Hub ships flan-t5-xl (both formats, shards and index), scaled down', () => {
    const generated = tempDir();
    const gen = (format: 'safetensors' | 'bin'): GeneratedCheckpoint =>
      generateCheckpoint(join(generated, format), {
        family: findFamily('flan-t5-xl')!,
        shape: { numLayers: 2, dModel: 64, dFf: 96, numHeads: 4, dKv: 16 },
        format,
        shardBytes: 6_000_000,
        seed: 3,
        tokenizerFrom: fixture('tiny-t5-v1_1'),
      });
    const serve = (name: string, parts: GeneratedCheckpoint[]): void => {
      const extra: Record<string, Buffer> = { 'README.md': Buffer.from('# flan') };
      for (const part of parts) for (const f of part.files) extra[f] = readFileSync(join(part.dir, f));
      server.repos.set(
        name,
        repoFromFolder(
          parts[0].dir,
          ['config.json', 'generation_config.json', 'spiece.model', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'],
          name,
          extra,
        ),
      );
    };
    const linkedToBlob = (file: string): boolean => lstatSync(file).isSymbolicLink() && readlinkSync(file).startsWith('../../blobs/');

    it('safetensors shards are fetched (not the .bin ones), linked from the snapshot and read where they lie', async () => {
      const [st, bin] = [gen('safetensors'), gen('bin')];
      expect(st.files).toEqual([
        'model-00001-of-00004.safetensors',
        'model-00002-of-00004.safetensors',
        'model-00003-of-00004.safetensors',
        'model-00004-of-00004.safetensors',
        'model.safetensors.index.json',
      ]);
      serve('google/flan-t5-xl-small-copy', [st, bin]);
      const before = server.requests.length;
      const result = await downloadModel('google/flan-t5-xl-small-copy', { settings: settings() });
      expect(result.files.filter((f) => f.endsWith('.bin') || f.endsWith('.safetensors') || f.endsWith('index.json')).sort()).toEqual(
        st.files,
      );
      for (const f of st.files) expect(linkedToBlob(join(result.dir, f)), f).toBe(true);
      expect(server.requests.slice(before).filter((r) => r.includes('pytorch_model'))).toEqual([]);
      const ckpt = await openCheckpoint(result.dir, { castCacheDir: tempDir() });
      expect(new Set([...ckpt.tensors.values()].map((t) => t.file))).toEqual(
        new Set(st.files.filter((f) => f.endsWith('.safetensors')).map((f) => join(result.dir, f))),
      );
      const original = await openCheckpoint(st.dir, { castCacheDir: tempDir() });
      for (const [name, entry] of ckpt.tensors)
        expect(Buffer.from(readTensorF32(entry).buffer).equals(Buffer.from(readTensorF32(original.tensors.get(name)!).buffer)), name).toBe(
          true,
        );
    });

    it('an index that is not JSON, or names a shard the repository lacks, stops the download with the index named', async () => {
      const bin = gen('bin');
      serve('acme/flan-bad-index', [bin]);
      server.repos.get('acme/flan-bad-index')!.files.set('pytorch_model.bin.index.json', Buffer.from('{"weight_map": '));
      const broken = await errorOf(downloadModel('acme/flan-bad-index', { settings: settings() }));
      expect(broken.code).toBe('hub-bad-index');
      expect(broken.details.file).toMatch(/snapshots\/[0-9a-f]{40}\/pytorch_model\.bin\.index\.json$/);
      const index = JSON.parse(readFileSync(join(bin.dir, 'pytorch_model.bin.index.json'), 'utf8'));
      index.weight_map['shared.weight'] = 'pytorch_model-00009-of-00009.bin';
      server.repos.get('acme/flan-bad-index')!.files.set('pytorch_model.bin.index.json', Buffer.from(JSON.stringify(index)));
      const missing = await errorOf(downloadModel('acme/flan-bad-index', { settings: settings() }));
      expect(missing.code).toBe('hub-bad-index');
      expect(missing.message).toContain('names a shard "pytorch_model-00009-of-00009.bin" the repository does not have');
    });

    it('PyTorch shards alone: the bin index and every shard it names are fetched, then converted with the same split', async () => {
      const bin = gen('bin');
      serve('acme/flan-bin-only', [bin]);
      const cacheDir = tempDir('sprout-hub-');
      const result = await downloadModel('acme/flan-bin-only', { settings: settings(cacheDir) });
      const binFiles = bin.files.filter((f) => f.endsWith('.bin'));
      expect(result.files.filter((f) => f.includes('pytorch_model')).sort()).toEqual([...binFiles, 'pytorch_model.bin.index.json'].sort());
      for (const f of [...binFiles, 'pytorch_model.bin.index.json']) expect(linkedToBlob(join(result.dir, f)), f).toBe(true);
      expect(lstatSync(join(result.dir, 'model.safetensors.index.json')).isFile()).toBe(true);
      const ckpt = await openCheckpoint(result.dir, { castCacheDir: tempDir() });
      const original = await openCheckpoint(gen('safetensors').dir, { castCacheDir: tempDir() });
      for (const [name, entry] of ckpt.tensors)
        expect(Buffer.from(readTensorF32(entry).buffer).equals(Buffer.from(readTensorF32(original.tensors.get(name)!).buffer)), name).toBe(
          true,
        );
      const again = await downloadModel('acme/flan-bin-only', { settings: settings(cacheDir) });
      expect(again.fetchedBytes).toBe(0);
      const offline = await downloadModel('acme/flan-bin-only', { settings: settings(cacheDir, { offline: true }) });
      expect(offline.dir).toBe(result.dir);
    });
  });

  it('checks free disk space before fetching anything', async () => {
    const repo = repoFromFolder(v10, MODEL_FILES, 'huge');
    server.repos.set('acme/huge', repo);
    server.announcedSizes.set('model.safetensors', 2 ** 50);
    const files = server.fileRequests().filter((r) => r.startsWith('GET')).length;
    try {
      const error = await errorOf(downloadModel('acme/huge', { settings: settings() }));
      expect(error.code).toBe('disk-full');
      expect(error.message).toMatch(/^The download needs 1125899\.\d\d GB but only [\d.]+ GB is free on the disk holding /);
      expect(server.fileRequests().filter((r) => r.startsWith('GET')).length).toBe(files);
    } finally {
      server.announcedSizes.clear();
    }
  });
});
