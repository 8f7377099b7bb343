import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import { operationNames, type Envelope } from '../../preload/contract.js';
import { SproutError } from '../../main/errors.js';
import type { HandlerContext } from '../../main/ipc/context.js';
import { createDispatch, invalidRequest } from '../../main/ipc/dispatch.js';
import { handlers } from '../../main/ipc/handlers.js';
import { EngineWorker } from '../../main/worker/client.js';

const home = mkdtempSync(join(tmpdir(), 'sprout-contract-'));
const emitted: { event: string; payload: unknown }[] = [];
const context: HandlerContext = {
  dataDir: home,
  emit: (event, payload) => emitted.push({ event, payload }),
  worker: new EngineWorker({ script: resolve(import.meta.dirname, '../../out/worker.js') }),
  shell: 'serve',
};
const dispatch = createDispatch(handlers, context);

afterAll(async () => {
  await context.worker.close();
  rmSync(home, { recursive: true, force: true });
});

function failure(envelope: Envelope<unknown>) {
  if (envelope.ok) throw new Error(`expected a failure, got ${JSON.stringify(envelope.value)}`);
  return envelope.error;
}

// Requests no operation accepts: not an object at all, or an object with a key no schema declares.
const malformed: { request: unknown; field: string }[] = [
  { request: null, field: '(request)' },
  { request: undefined, field: '(request)' },
  { request: 42, field: '(request)' },
  { request: 'doctor', field: '(request)' },
  { request: [], field: '(request)' },
  { request: { __proto_pollution__: { admin: true } }, field: '__proto_pollution__' },
];

describe('every operation rejects a malformed request with the typed error', () => {
  it('has a handler for exactly the operations of the contract', () => {
    expect(Object.keys(handlers).sort()).toEqual([...operationNames].sort());
    expect(operationNames.length).toBeGreaterThanOrEqual(2);
  });

  for (const name of operationNames) {
    for (const { request, field } of malformed) {
      it(`${name} rejects ${JSON.stringify(request) ?? 'undefined'}`, async () => {
        const error = failure(await dispatch(name, request));
        expect(error.code).toBe('invalid-request');
        expect(error.details?.field).toBe(field);
        expect(error.message).toContain(`"${name}"`);
        if (field !== '(request)') expect(error.message).toContain(`"${field}"`);
      });
    }
  }
});

describe('dispatch', () => {
  it('names a nested bad field by its path', () => {
    const schema = z.strictObject({ run: z.strictObject({ steps: z.number().int().positive() }) });
    const result = schema.safeParse({ run: { steps: -3 } });
    expect(result.success).toBe(false);
    const error = invalidRequest('train.start', result.error!.issues);
    expect(error).toMatchObject({ code: 'invalid-request', details: { field: 'run.steps' } });
    expect(error.message).toMatch(/^Invalid request for "train.start": field "run.steps": /);
  });

  it('answers an unknown operation, including inherited property names, with unknown-operation', async () => {
    for (const name of ['nope', 'toString', '__proto__', 'constructor']) {
      expect(failure(await dispatch(name, {}))).toMatchObject({ code: 'unknown-operation', details: { operation: name } });
    }
  });

  it('runs doctor against the context data directory', async () => {
    const envelope = await dispatch('doctor', {});
    if (!envelope.ok) throw new Error(envelope.error.message);
    const report = envelope.value as { dataDir: string; providers: { name: string }[]; defaultProvider: string; freeDiskBytes: number };
    expect(report.dataDir).toBe(home);
    expect(report.providers.map((p) => p.name)).toEqual(expect.arrayContaining(['cpu', 'webgpu']));
    expect(report.defaultProvider).toBe('cpu');
    expect(report.freeDiskBytes).toBeGreaterThan(0);
  });

  it('reports the shell in app.info', async () => {
    expect(await dispatch('app.info', {})).toEqual({
      ok: true,
      value: { name: 'Sprout', version: expect.stringMatching(/^\d+\.\d+\.\d+/), shell: 'serve', dataDir: home },
    });
  });

  it("keeps a SproutError's code and turns other throws into internal, without a stack", async () => {
    const logged: unknown[] = [];
    const failing = createDispatch(
      {
        ...handlers,
        doctor: () => {
          throw new SproutError('model-missing', 'No model t5-small.', { hint: 'Download it first.' });
        },
        'app.info': () => {
          throw new TypeError('boom');
        },
      },
      context,
      (error) => logged.push(error),
    );
    expect(failure(await failing('doctor', {}))).toEqual({
      code: 'model-missing',
      message: 'No model t5-small. Download it first.',
      details: { hint: 'Download it first.' },
    });
    const internal = failure(await failing('app.info', {}));
    expect(internal).toEqual({ code: 'internal', message: 'Internal error: boom' });
    expect(logged).toHaveLength(1);
  });
});
