/**
 * train.start with a transfer source deleted since the ranking was shown (the Prompt step's list went stale) is
 * refused before a run is recorded, in the app's words: the run used to fail at once and stay on Home as "failed".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { HandlerContext } from '../../main/ipc/context.js';
import { createDispatch } from '../../main/ipc/dispatch.js';
import { handlers } from '../../main/ipc/handlers.js';
import { releaseState } from '../../main/ipc/handlers/state.js';
import { EngineWorker } from '../../main/worker/client.js';
import { shared } from '../train/fixtures.js';

const home = mkdtempSync(join(tmpdir(), 'sprout-train-source-'));
const context: HandlerContext = {
  dataDir: home,
  emit: () => {},
  worker: new EngineWorker({ script: resolve(import.meta.dirname, '../../out/worker.js') }),
  shell: 'serve',
};
const dispatch = createDispatch(handlers, context);
afterAll(async () => {
  await context.worker.close();
  releaseState(context);
  rmSync(home, { recursive: true, force: true });
});

async function call<T>(name: string, request: unknown): Promise<T> {
  const envelope = await dispatch(name, request);
  if (!envelope.ok) throw new Error(`${name}: ${envelope.error.message}`);
  return envelope.value as T;
}

it('a deleted source prompt is refused at train.start, naming where the prompts are, and no run is recorded', async () => {
  const model = await call<{ id: string }>('model.import', { path: join(shared, 'fixtures/tiny-t5-v1_0') });
  const dataset = await call<{ datasetId: number }>('data.import', {
    file: join(shared, 'data/cola/in_domain_dev.tsv'),
    header: false,
    quoting: 'none',
    textColumns: ['3'],
    labelColumn: '1',
    name: 'cola',
  });
  const envelope = await dispatch('train.start', {
    modelId: model.id,
    datasetId: dataset.datasetId,
    verbalizer: { 0: 'no', 1: 'yes' },
    init: 'prompt:999',
    steps: 1,
  });
  expect(envelope.ok ? 'started' : envelope.error).toEqual({
    code: 'prompt-not-found',
    message: 'There is no prompt 999 in the library. The Library screen lists the prompts there are; it may have been deleted.',
    details: expect.anything(),
  });
  await expect(call<unknown[]>('train.list', {})).resolves.toEqual([]);
});
