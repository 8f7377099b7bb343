/**
 * `sprout serve` against a hostile local client that holds the token: malformed WebSocket frames (too large,
 * reserved opcodes and bits, unmasked, truncated, bad UTF-8), request targets that are no URL, half-sent and
 * random requests and many idle connections. Each misbehaving client may lose its own connection, nothing more:
 * the server keeps answering, a well-behaved page keeps receiving events, and a training run inside the server
 * keeps stepping throughout. The fuzz is seeded and bounded (FUZZ_CASES cases, each one connection that ends).
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { EventPayload } from '../../preload/contract.js';
import { mulberry32 } from '../../main/random.js';
import { callApi } from '../e2e/api.js';
import { data, tinyModel } from '../ipc/harness.js';
import { httpRequest } from './http.js';
import { spawnServe, type RunningServe } from './spawn-serve.js';

const FUZZ_CASES = 400;
const IDLE_CONNECTIONS = 200;

let serve: RunningServe;
let page: WebSocket;
let runId: number;
/** The training steps the well-behaved page has seen, and who waits for the next ones. */
let lastStep = 0;
let pageClosed = false;
const stepWaiters = new Set<() => void>();

/** Resolves once the page has seen a training step past `step`: the run inside the server still trains. Fails if the page's socket closes first. */
function stepPast(step: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (lastStep <= step && !pageClosed) return;
      stepWaiters.delete(check);
      if (lastStep > step) resolve(lastStep);
      else reject(new Error(`the page's event socket closed at step ${lastStep}`));
    };
    stepWaiters.add(check);
    check();
  });
}

function openPage(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${serve.port}/events?token=${serve.token}`);
    ws.on('message', (raw) => {
      const { event, payload } = JSON.parse(String(raw)) as { event: string; payload: EventPayload<'training.progress'> };
      if (event !== 'training.progress' || payload.runId !== runId) return;
      lastStep = Math.max(lastStep, payload.step);
      for (const waiter of [...stepWaiters]) waiter();
    });
    ws.on('open', () => resolve(ws));
    ws.on('error', reject);
    ws.on('close', () => {
      pageClosed = true;
      for (const waiter of [...stepWaiters]) waiter();
    });
  });
}

beforeAll(async () => {
  serve = await spawnServe();
  page = await openPage();
  await callApi(serve, 'settings.set', { defaultDevice: 'cpu', threads: 1 });
  const model = await callApi(serve, 'model.import', { path: tinyModel });
  const cb = await callApi(serve, 'data.import', {
    file: data('cb/val.jsonl'),
    textColumns: ['premise'],
    labelColumn: 'label',
    name: 'cb',
    split: 0.25,
  });
  // Steps enough to outlast the test; the run is cancelled at the end.
  const run = await callApi(serve, 'train.start', {
    modelId: model.id,
    datasetId: cb.datasetId,
    steps: 1_000_000,
    evalEvery: 1_000_000,
    promptLength: 2,
    batchSize: 2,
    maxInputLength: 32,
    weights: 'fp32',
    seed: 1,
  });
  runId = run.runId;
  await stepPast(0);
});

afterAll(async () => {
  page?.terminate();
  await serve?.stop();
});

/** A raw connection that sends `bytes` (in one write, or cut after `cut` bytes), ends its side and waits until the server closed it. */
function rawExchange(bytes: Buffer, options: { cut?: number } = {}): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(serve.port, '127.0.0.1');
    let reply = '';
    socket.on('data', (d) => (reply += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => resolve(reply));
    socket.on('connect', () => socket.end(options.cut === undefined ? bytes : bytes.subarray(0, options.cut)));
  });
}

const handshake = (path = `/events?token=${serve.token}`) =>
  Buffer.from(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${serve.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );

/** One client frame: masked unless told otherwise, with any opcode, RSV bits and declared length. */
function frame(
  opcode: number,
  payload: Buffer,
  options: { fin?: boolean; rsv?: number; masked?: boolean; declared?: number } = {},
): Buffer {
  const length = options.declared ?? payload.length;
  const masked = options.masked ?? true;
  const head = [((options.fin ?? true) ? 0x80 : 0) | ((options.rsv ?? 0) << 4) | (opcode & 0xf)];
  const extended: Buffer[] = [];
  if (length < 126) head.push((masked ? 0x80 : 0) | length);
  else if (length < 65536) {
    head.push((masked ? 0x80 : 0) | 126);
    extended.push(Buffer.from([length >> 8, length & 0xff]));
  } else {
    head.push((masked ? 0x80 : 0) | 127);
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(length));
    extended.push(b);
  }
  const mask = masked ? randomBytes(4) : Buffer.alloc(0);
  const body = Buffer.from(payload.map((byte, i) => (masked ? byte ^ mask[i % 4] : byte)));
  return Buffer.concat([Buffer.from(head), ...extended, mask, body]);
}

/**
 * Opens an events socket with the token, waits for 101, sends `frames`, ends its side, and resolves with the close
 * (status code of the server's close frame, when it sent one) once the server has closed the connection.
 */
function wsExchange(frames: Buffer): Promise<{ upgraded: boolean; closeCode: number | null }> {
  return new Promise((resolve) => {
    const socket = connect(serve.port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let upgraded = false;
    socket.on('error', () => {});
    socket.on('data', (d) => {
      received = Buffer.concat([received, d]);
      if (upgraded) return;
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      upgraded = received.subarray(0, 12).toString() === 'HTTP/1.1 101';
      received = received.subarray(end + 4);
      socket.end(frames);
    });
    socket.on('close', () => {
      // A server close frame: 0x88, length, 2-byte code (server frames are not masked).
      const at = received.indexOf(0x88);
      resolve({ upgraded, closeCode: at >= 0 && received.length >= at + 4 ? received.readUInt16BE(at + 2) : null });
    });
    socket.on('connect', () => socket.write(handshake()));
  });
}

/** The server still serves: its process runs, an operation answers, and the page's socket is still open. */
async function checkAlive(): Promise<void> {
  expect(serve.child.exitCode, serve.stdout()).toBeNull();
  const reply = await httpRequest(`${serve.base}/api/app.info`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${serve.token}` },
    body: '{}',
  });
  expect(reply.status).toBe(200);
  expect(page.readyState).toBe(WebSocket.OPEN);
}

describe('sprout serve and a hostile client', () => {
  it('closes only the client that sent a 2 MiB message or a reserved opcode, while a run goes on', async () => {
    const before = lastStep;
    // 2 MiB: over maxPayload (WS_ERR_UNSUPPORTED_MESSAGE_LENGTH); 1009 = message too big.
    expect(await wsExchange(frame(0x2, randomBytes(1024), { declared: 2 << 20 }))).toEqual({ upgraded: true, closeCode: 1009 });
    // Opcodes 3-7 and 0xB-0xF are reserved (WS_ERR_INVALID_OPCODE); 1002 = protocol error.
    for (const opcode of [0x3, 0x7, 0xb, 0xf])
      expect(await wsExchange(frame(opcode, Buffer.from('x')))).toEqual({ upgraded: true, closeCode: 1002 });
    // Unmasked client frame, RSV bits without an extension, invalid UTF-8 text (1007).
    expect(await wsExchange(frame(0x1, Buffer.from('hi'), { masked: false }))).toEqual({ upgraded: true, closeCode: 1002 });
    expect(await wsExchange(frame(0x1, Buffer.from('hi'), { rsv: 0b100 }))).toEqual({ upgraded: true, closeCode: 1002 });
    expect(await wsExchange(frame(0x1, Buffer.from([0xc3, 0x28])))).toEqual({ upgraded: true, closeCode: 1007 });
    await checkAlive();
    expect(await stepPast(before)).toBeGreaterThan(before);
  });

  it('answers 400 to a request target that is no URL or an operation name that is no URI component', async () => {
    const auth = `Authorization: Bearer ${serve.token}\r\nHost: 127.0.0.1:${serve.port}\r\n`;
    expect(await rawExchange(Buffer.from(`GET http://[ HTTP/1.1\r\n${auth}\r\n`))).toMatch(/^HTTP\/1\.1 400 /);
    expect(
      await rawExchange(Buffer.from(`POST /api/%ff HTTP/1.1\r\n${auth}Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`)),
    ).toMatch(/^HTTP\/1\.1 400 /);
    expect(await rawExchange(Buffer.from(`GET http://[ HTTP/1.1\r\n${auth}Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n`))).toMatch(
      /^HTTP\/1\.1 400 /,
    );
    await checkAlive();
  });

  it(`survives ${FUZZ_CASES} seeded random clients beside ${IDLE_CONNECTIONS} idle connections, and the run keeps stepping`, async () => {
    const before = lastStep;
    const idle = await openIdle(IDLE_CONNECTIONS);
    try {
      const rng = mulberry32(2301);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
      const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rng() * 256)));
      const cases: (() => Promise<unknown>)[] = [];
      for (let i = 0; i < FUZZ_CASES; i++) {
        const kind = pick(['bytes', 'cut-request', 'cut-upgrade', 'frames', 'cut-frames', 'lying-length'] as const);
        const request = Buffer.from(
          `${pick(['GET', 'POST', 'PUT', 'HEAD', 'OPTIONS'])} ${pick(['/', '/api/app.info', '/api/%E0%A4%A', '/events', '/assets/../../x', `/?token=${serve.token}`])} HTTP/1.1\r\n` +
            `Host: 127.0.0.1:${serve.port}\r\nAuthorization: Bearer ${serve.token}\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{"a":[[[[[[[[[]`,
        );
        const frames = () =>
          Buffer.concat(
            Array.from({ length: 1 + Math.floor(rng() * 4) }, () =>
              frame(Math.floor(rng() * 16), bytes(Math.floor(rng() * 200)), {
                fin: rng() < 0.8,
                rsv: rng() < 0.2 ? Math.floor(rng() * 8) : 0,
                masked: rng() < 0.9,
                declared: rng() < 0.1 ? pick([126, 65536, 2 << 20, 2 ** 40]) : undefined,
              }),
            ),
          );
        if (kind === 'bytes') cases.push(() => rawExchange(bytes(Math.floor(rng() * 4096))));
        else if (kind === 'cut-request') cases.push(() => rawExchange(request, { cut: Math.floor(rng() * request.length) }));
        else if (kind === 'lying-length')
          cases.push(() =>
            rawExchange(Buffer.from(request.toString().replace('Content-Length: 16', `Content-Length: ${pick([0, 1, 99999, 2 << 20])}`))),
          );
        else if (kind === 'cut-upgrade') {
          const h = handshake();
          cases.push(() => rawExchange(h, { cut: Math.floor(rng() * h.length) }));
        } else if (kind === 'frames') cases.push(() => wsExchange(frames()));
        else {
          const f = frames();
          cases.push(() => wsExchange(f.subarray(0, Math.floor(rng() * f.length))));
        }
      }
      // Eight clients at a time; each case ends its connection, so every one finishes.
      const outcomes: unknown[] = [];
      for (let i = 0; i < cases.length; i += 8) outcomes.push(...(await Promise.all(cases.slice(i, i + 8).map((c) => c()))));
      // The fuzz reached the frame parser and the request handlers, not just the handshake.
      const closes = outcomes.filter((o): o is { upgraded: boolean; closeCode: number | null } => typeof o === 'object');
      expect(closes.filter((o) => o.closeCode === 1002).length).toBeGreaterThan(FUZZ_CASES / 20);
      expect(outcomes.filter((o) => typeof o === 'string' && /^HTTP\/1\.1 (200|400|404|405|413) /.test(o)).length).toBeGreaterThan(
        FUZZ_CASES / 20,
      );
      await checkAlive();
    } finally {
      for (const socket of idle) socket.destroy();
    }
    expect(await stepPast(before)).toBeGreaterThan(before);
    await checkAlive();
  });

  it('cancels the run and stops cleanly afterwards', async () => {
    const cancelled = await callApi(serve, 'train.cancel', { runId });
    expect(cancelled.status).toBe('cancelled');
    await checkAlive();
    expect(await serve.stop()).toBe(0);
  });
});

/** `n` connections that send half a request head and then wait (the server's headers timeout would end them). */
function openIdle(n: number): Promise<Socket[]> {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect(serve.port, '127.0.0.1', () => {
            socket.write(`POST /api/app.info HTTP/1.1\r\nHost: 127.0.0.1:${serve.port}\r\n`);
            resolve(socket);
          });
          socket.on('error', reject);
        }),
    ),
  );
}
