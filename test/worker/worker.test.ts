import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContractErrorShape } from '../../preload/contract.js';
import { EngineWorker } from '../../main/worker/client.js';
import { CRASH_INJECTION_ENV } from '../../main/worker/protocol.js';

const script = resolve(import.meta.dirname, '../../out/worker.js');
const dir = mkdtempSync(join(tmpdir(), 'sprout-worker-'));
const file = join(dir, 'weights.bin');
const content = randomBytes(9 * (1 << 20) + 123);
const workers: EngineWorker[] = [];

function worker(options: Omit<ConstructorParameters<typeof EngineWorker>[0], 'script'> = {}): EngineWorker {
  const w = new EngineWorker({ script, ...options });
  workers.push(w);
  return w;
}

beforeAll(() => {
  if (!existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\` first (npm test does).`);
  writeFileSync(file, content);
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
});

describe('engine worker', () => {
  it('runs a job off the main thread and streams its progress', async () => {
    const progress: { bytes: number; totalBytes: number }[] = [];
    const result = await worker().run('file.sha256', { path: file }, (p) => progress.push(p));
    expect(result).toEqual({ sha256: createHash('sha256').update(content).digest('hex'), bytes: content.length });
    expect(progress.map((p) => p.bytes)).toEqual([4, 8, 9].map((mib, i) => (i < 2 ? mib << 20 : content.length)));
    expect(progress.every((p) => p.totalBytes === content.length)).toBe(true);
  });

  it("reports a job's own failure with its code and keeps running", async () => {
    const w = worker();
    await expect(w.run('file.sha256', { path: join(dir, 'missing.bin') })).rejects.toMatchObject({
      code: 'internal',
      message: expect.stringContaining('ENOENT'),
    });
    await expect(w.run('file.sha256', { path: file })).resolves.toMatchObject({ bytes: content.length });
  });

  it('cancels a job through its AbortSignal', async () => {
    // Large enough that hashing it takes far longer than the cancel message needs to arrive.
    const large = join(dir, 'large.bin');
    writeFileSync(large, Buffer.alloc(256 << 20));
    const controller = new AbortController();
    const progress: number[] = [];
    const job = worker().run('file.sha256', { path: large }, (p) => (progress.push(p.bytes), controller.abort()), controller.signal);
    await expect(job).rejects.toMatchObject({ code: 'cancelled' });
    expect(progress.at(-1)).toBeLessThan(256 << 20);
    await expect(worker().run('file.sha256', { path: file }, () => {}, controller.signal)).rejects.toMatchObject({ code: 'cancelled' });
  });

  for (const mode of ['throw', 'exit'] as const) {
    it(`reports an injected crash (${mode}) instead of hanging, and starts a fresh worker for the next job`, async () => {
      const env: NodeJS.ProcessEnv = { ...process.env, [CRASH_INJECTION_ENV]: mode };
      const crashes: ContractErrorShape[] = [];
      const w = worker({ env, onCrash: (e) => crashes.push(e) });
      const outcome = await w.run('file.sha256', { path: file }).then(
        () => 'finished',
        (error: { code: string; message: string; details?: Record<string, unknown> }) => error,
      );
      expect(outcome).toMatchObject({ code: 'worker-crashed' });
      expect((outcome as { message: string }).message).toMatch(mode === 'throw' ? /injected worker crash/ : /exit code 70/);
      expect(crashes).toHaveLength(1);
      delete env[CRASH_INJECTION_ENV];
      await expect(w.run('file.sha256', { path: file })).resolves.toMatchObject({ bytes: content.length });
      expect(crashes).toHaveLength(1);
    });
  }
});
