/**
 * Every contract operation, through the real dispatch and handlers (with the built engine worker), called with
 * seeded random requests: arbitrary JSON values, objects with the operation's keys and random values, and requests
 * built from the schemas (valid shapes, hostile values, ids that exist). Every call must resolve to an envelope whose
 * error, if any, is a typed one (never `internal`); afterwards the engine still answers. A call that never answers
 * ends at the test's timeout, which then names the request still in flight.
 * (test/contract/contract.test.ts checks six fixed malformed requests per operation; this goes further.)
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { operationNames, operations, type Envelope, type OperationName } from '../../preload/contract.js';
import type { HandlerContext } from '../../main/ipc/context.js';
import { createDispatch } from '../../main/ipc/dispatch.js';
import { handlers } from '../../main/ipc/handlers.js';
import { releaseState } from '../../main/ipc/handlers/state.js';
import { libraryPath, openLibrary } from '../../main/library/db.js';
import { commitChunk, createJob, getJob, setJobStatus } from '../../main/label/jobs.js';
import { addedColumns } from '../../main/label/columns.js';
import type { LabelJobSpec, LabelStats } from '../../main/label/types.js';
import { listDatasets } from '../../main/library/datasets.js';
import { insertPrompt, listPrompts } from '../../main/library/prompts.js';
import { listRuns } from '../../main/library/runs.js';
import { EngineWorker } from '../../main/worker/client.js';
import { dataFile } from '../data/helpers.js';
import { arbitraryFor, keysOf, pools } from './schema-arbitrary.js';

const RUNS = { json: 100, keyed: 100, schema: 100 };
const LABEL_JOB = 'label-fuzz0001';

const home = mkdtempSync(join(tmpdir(), 'sprout-contract-fuzz-'));
const scratch = mkdtempSync(join(tmpdir(), 'sprout-contract-fuzz-files-'));
const internals: string[] = [];
let calls = 0;
let inFlight: string | null = null;
let handled = 0;
let refused = 0;
let context: HandlerContext;
let dispatch: ReturnType<typeof createDispatch>;
const savedEnv = { cwd: process.cwd(), HF_ENDPOINT: process.env.HF_ENDPOINT, HF_HOME: process.env.HF_HOME };

beforeAll(async () => {
  // Downloads go to a closed local port and a temporary cache; relative paths resolve inside the scratch folder.
  process.env.HF_ENDPOINT = 'http://127.0.0.1:9';
  process.env.HF_HOME = join(scratch, 'hf');
  process.chdir(scratch);
  mkdirSync(join(scratch, 'sub'));
  context = {
    dataDir: home,
    emit: () => {},
    worker: new EngineWorker({ script: resolve(import.meta.dirname, '../../out/worker.js') }),
    shell: 'serve',
  };
  dispatch = createDispatch(handlers, context, (error) => internals.push(String((error as Error)?.stack ?? error)));
  copyFileSync(dataFile('cb', 'val.jsonl'), join(scratch, 'data.jsonl'));
  writeFileSync(join(scratch, 'labels.csv'), 'text,label,confidence\nfirst,a,0.9\nsecond,b,0.6\n');
});

afterAll(async () => {
  await context.worker.close();
  releaseState(context);
  process.chdir(savedEnv.cwd);
  for (const key of ['HF_ENDPOINT', 'HF_HOME'] as const) {
    if (savedEnv[key] === undefined) delete process.env[key];
    else process.env[key] = savedEnv[key];
  }
  rmSync(home, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

/**
 * A dataset, a prompt and a labelling job for the ids to find, made again when a fuzzed delete removed them, so
 * that each operation meets records that exist. Returns their ids.
 */
async function fixtures(): Promise<{ ids: number[]; jobIds: string[] }> {
  const db = openLibrary(libraryPath(home));
  try {
    if (listDatasets(db).length === 0) {
      const imported = await dispatch('data.import', {
        file: join(scratch, 'data.jsonl'),
        textColumns: ['premise', 'hypothesis'],
        labelColumn: 'label',
      });
      expect(imported.ok).toBe(true);
    }
    if (listPrompts(db).length === 0) {
      insertPrompt(db, {
        name: 'seed prompt',
        model: { id: 'fault/model', path: null, summary: null },
        length: 2,
        dModel: 8,
        embedding: new Float32Array(16).fill(0.5),
        init: 'vocab',
        tags: ['a'],
      });
    }
    if (!getJob(db, LABEL_JOB)) {
      const labels = ['a', 'b'];
      const spec = {
        input: join(scratch, 'data.jsonl'),
        inputBytes: 1,
        inputMtimeMs: 0,
        read: { format: 'csv', header: true },
        inputColumns: ['text'],
        output: join(scratch, 'labels.csv'),
        format: 'csv',
        tsvQuoting: 'rfc4180',
        model: 'fault/model',
        prompts: [],
        task: { kind: 'classification', labels, verbalisers: labels, template: null },
        textColumns: ['text'],
        template: '{text}',
        goldColumn: null,
        batchSize: 8,
        lengthNormalise: false,
        maxInputTokens: 64,
        maxNewTokens: 4,
        commitRows: 2,
        // The columns a real job of this task adds, so that its rows are the rows such a job writes.
        columns: addedColumns(['text'], { kind: 'classification', labels, ensemble: false }),
        totalRows: 2,
      } as unknown as LabelJobSpec;
      const stats = {
        labelled: 2,
        skipped: {},
        labelCounts: { a: 1, b: 1 },
        truncated: 0,
        gold: null,
        agreementSum: 2,
        seconds: 0,
      } as unknown as LabelStats;
      createJob(db, LABEL_JOB, spec, stats, 0);
      commitChunk(db, LABEL_JOB, 2, 48, stats, [
        {
          row: 0,
          line: 2,
          fields: { text: 'first' },
          predicted: 'a',
          confidence: 0.9,
          margin: 0.8,
          skippedReason: null,
          corrected: null,
          added: ['a', 0.9, 'b', 0.8, 0.9, 0.1, ''],
          values: null,
        },
        {
          row: 1,
          line: 3,
          fields: { text: 'second' },
          predicted: 'b',
          confidence: 0.6,
          margin: 0.2,
          skippedReason: null,
          corrected: null,
          added: ['b', 0.6, 'a', 0.2, 0.4, 0.6, ''],
          values: null,
        },
      ]);
      setJobStatus(db, LABEL_JOB, 'done');
    }
    const ids = [...listDatasets(db).map((d) => d.id), ...listPrompts(db).map((p) => p.id), ...listRuns(db).map((r) => r.id)];
    return { ids: [...new Set(ids)], jobIds: [LABEL_JOB] };
  } finally {
    db.close();
  }
}

async function call(name: string, request: unknown): Promise<void> {
  calls++;
  inFlight = `${name} ${JSON.stringify(request)?.slice(0, 300)}`;
  const envelope = await dispatch(name, request);
  inFlight = null;
  expect(typeof (envelope as Envelope<unknown>).ok).toBe('boolean');
  if (envelope.ok) {
    handled++;
    return;
  }
  refused++;
  expect(
    envelope.error.code,
    `${name} ${JSON.stringify(request)?.slice(0, 300)} → ${envelope.error.message}\n${internals.at(-1) ?? ''}`,
  ).not.toBe('internal');
  expect(typeof envelope.error.message).toBe('string');
}

const anyJson = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant(undefined), fc.anything({ maxDepth: 2 }));

describe.each(operationNames.map((name, i) => [name, i] as const))('%s with random requests', (name, i) => {
  beforeEach(() => onTestFailed(() => void (inFlight && console.error(`still waiting for ${inFlight}`))));

  it(`${RUNS.json} arbitrary values`, async () => {
    await fc.assert(
      fc.asyncProperty(anyJson, (request) => call(name, request)),
      { seed: 9000 + i, numRuns: RUNS.json },
    );
  });

  it(`${RUNS.keyed} objects with its keys and random values`, async () => {
    const keys = keysOf(operations[name as OperationName].request);
    const keyed = keys.length
      ? fc.dictionary(fc.constantFrom(...keys), fc.jsonValue({ maxDepth: 2 }), { maxKeys: keys.length })
      : fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 });
    await fc.assert(
      fc.asyncProperty(keyed, (request) => call(name, request)),
      { seed: 19000 + i, numRuns: RUNS.keyed },
    );
  });

  it(`${RUNS.schema} requests built from its schema`, async () => {
    const pool = pools(scratch, [join(scratch, 'data.jsonl'), join(scratch, 'sub')], await fixtures());
    await fc.assert(
      fc.asyncProperty(arbitraryFor(operations[name as OperationName].request, pool), (request) => call(name, request)),
      { seed: 29000 + i, numRuns: RUNS.schema },
    );
  });
});

describe('contract fuzz totals', () => {
  it('made every call, logged no internal error, and the engine still answers', async () => {
    expect(calls).toBe(operationNames.length * (RUNS.json + RUNS.keyed + RUNS.schema));
    expect(handled).toBeGreaterThan(operationNames.length * 5);
    expect(refused).toBeGreaterThan(calls / 2);
    expect(internals).toEqual([]);
    const preview = await dispatch('data.preview', { file: join(scratch, 'data.jsonl'), rows: 2 });
    expect(preview.ok).toBe(true);
    // Nothing escaped the scratch folder through a relative or traversing path.
    expect(
      readdirSync(resolve(scratch, '..')).filter((f) => f.startsWith(`${basename(scratch)}-outside`) || f.startsWith('relative-out')),
    ).toEqual([]);
  });
});
