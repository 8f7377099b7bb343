/** model.download through the handlers against a loopback Hub: progress events, registration, and cancel. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubServer, repoFromFolder } from '../hub/hub-server.js';
import { Harness, tinyModel } from './harness.js';

const MODEL_FILES = [
  'config.json',
  'model.safetensors',
  'spiece.model',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'generation_config.json',
];

let h: Harness;
let server: HubServer;
const cache = mkdtempSync(join(tmpdir(), 'sprout-ipc-hf-'));
const previousCache = process.env.HF_HUB_CACHE;

beforeAll(async () => {
  process.env.HF_HUB_CACHE = cache;
  server = await new HubServer().start();
  server.repos.set('google/tiny-t5', repoFromFolder(tinyModel, MODEL_FILES, 'ipc'));
  server.repos.set('google/stalled-t5', repoFromFolder(tinyModel, MODEL_FILES, 'ipc-stalled'));
  h = new Harness();
  await h.call('settings.set', { hubEndpoint: server.endpoint, defaultDevice: 'cpu' });
});

afterAll(async () => {
  await h.close();
  await server.stop();
  rmSync(cache, { recursive: true, force: true });
  if (previousCache === undefined) delete process.env.HF_HUB_CACHE;
  else process.env.HF_HUB_CACHE = previousCache;
});

describe('model.download', () => {
  it('downloads on the worker with per-file and overall progress, then registers the model', async () => {
    const job = await h.call('model.download', { repo: 'google/tiny-t5' });
    expect(job).toMatchObject({ repo: 'google/tiny-t5', revision: 'main', status: 'running' });
    const done = await h.waitFor('download.progress', (p) => p.jobId === job.jobId && p.status !== 'running');
    expect(done).toMatchObject({ status: 'done', modelId: 'google/tiny-t5', etaSeconds: 0 });
    const running = h.payloads('download.progress', (p) => p.jobId === job.jobId && p.status === 'running');
    expect(running.length).toBeGreaterThan(0);
    const bytes = running.map((p) => p.bytes);
    expect(bytes).toEqual([...bytes].sort((a, b) => a - b));
    expect(running.every((p) => p.totalBytes === done.totalBytes && p.fileBytes <= p.fileTotal)).toBe(true);
    expect(new Set(running.map((p) => p.file))).toContain('model.safetensors');
    const [listed] = await h.call('model.downloads', {});
    expect(listed).toMatchObject({ jobId: job.jobId, status: 'done', modelId: 'google/tiny-t5', error: null });
    const models = await h.call('model.list', {});
    expect(models.map((m) => m.id)).toEqual(['google/tiny-t5']);
    expect(models[0].path.startsWith(cache)).toBe(true);
    // Every file of the snapshot is checked against its blob's name (sha256 for the LFS files, git object id for the rest).
    const files = readdirSync(models[0].path).length;
    expect(await h.call('model.verify', { id: 'google/tiny-t5' })).toMatchObject({ ok: true, checkedFiles: files });
  });

  it('cancels a download in flight', async () => {
    server.stallOnce('model.safetensors', 1000);
    const job = await h.call('model.download', { repo: 'google/stalled-t5' });
    // The weights stall after 1000 bytes, so the job is still in flight once the smaller files have reported.
    await h.waitFor('download.progress', (p) => p.jobId === job.jobId);
    expect((await h.call('model.downloads', {})).find((d) => d.jobId === job.jobId)?.status).toBe('running');
    await h.call('model.download.cancel', { jobId: job.jobId });
    expect(await h.waitFor('download.progress', (p) => p.jobId === job.jobId && p.status !== 'running')).toMatchObject({
      status: 'cancelled',
    });
    expect((await h.call('model.list', {})).map((m) => m.id)).toEqual(['google/tiny-t5']);
    expect(await h.failure('model.download.cancel', { jobId: 'dl-missing' })).toBe('unknown-download');
  });
});
