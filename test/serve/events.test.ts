import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { hostEngine } from '../../main/ipc/host.js';
import { startServe, type ServeServer } from '../../main/ipc/serve.js';
import { httpRequest } from './http.js';
import { repoRoot } from './spawn-serve.js';

let server: ServeServer;
let engine: ReturnType<typeof hostEngine>;

beforeAll(async () => {
  server = await startServe({ rendererDir: join(repoRoot, 'out/renderer'), maxBodyBytes: 1024, maxEventBacklogBytes: 1 << 20 });
  engine = hostEngine({
    dataDir: mkdtempSync(join(tmpdir(), 'sprout-events-')),
    workerScript: join(repoRoot, 'out/worker.js'),
    shell: 'serve',
    emit: server.emit,
    log: () => {},
  });
});
afterAll(async () => {
  await Promise.all([server?.close(), engine?.close()]);
});

it('answers 503 until the engine is attached, then dispatches', async () => {
  const call = () =>
    httpRequest(`http://127.0.0.1:${server.port}/api/app.info`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${server.token}` },
      body: '{}',
    });
  expect((await call()).status).toBe(503);
  server.attach(engine.dispatch);
  const reply = await call();
  expect(reply.status).toBe(200);
  expect(JSON.parse(reply.body).value.shell).toBe('serve');
});

it('delivers emitted events to every connected page, in order', async () => {
  const sent = 4;
  // Each page's promise settles once it has received as many messages as were sent (the test's timeout catches a loss).
  const open = () =>
    new Promise<{ ws: WebSocket; received: Promise<unknown[]> }>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/events?token=${server.token}`);
      const messages: unknown[] = [];
      const received = new Promise<unknown[]>((done) =>
        ws.on('message', (data) => {
          messages.push(JSON.parse(String(data)));
          if (messages.length === sent) done(messages);
        }),
      );
      ws.on('open', () => resolve({ ws, received }));
      ws.on('error', reject);
    });
  const pages = [await open(), await open()];
  const progress = (bytes: number) => ({
    jobId: 'd1',
    modelId: 't5-small',
    status: 'running' as const,
    file: 'model.safetensors',
    fileBytes: bytes,
    fileTotal: 3000,
    bytes,
    totalBytes: 3000,
    rate: 1000,
    etaSeconds: (3000 - bytes) / 1000,
  });
  for (let bytes = 0; bytes < sent * 1000; bytes += 1000) server.emit('download.progress', progress(bytes));
  for (const { ws, received } of pages) {
    expect(await received).toEqual([0, 1000, 2000, 3000].map((bytes) => ({ event: 'download.progress', payload: progress(bytes) })));
    ws.close();
  }
});

it('drops a page that stops reading once its unread events pass the cap, while a reading page gets every one', async () => {
  const sent = 40;
  const big = 'x'.repeat(256 << 10);
  // The reading page: each event is emitted only once it has the one before, so its own backlog stays empty.
  const reader = new WebSocket(`ws://127.0.0.1:${server.port}/events?token=${server.token}`);
  let received = 0;
  let next: () => void = () => {};
  reader.on('message', () => {
    received++;
    next();
  });
  await new Promise((resolve) => reader.on('open', resolve));
  // The stalled page: a raw client that completes the handshake, then reads nothing.
  const stalled = connect(server.port, '127.0.0.1');
  stalled.on('error', () => {});
  await new Promise<void>((resolve) => {
    stalled.once('data', () => {
      stalled.pause();
      resolve();
    });
    stalled.write(
      `GET /events?token=${server.token} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
  for (let i = 0; i < sent; i++) {
    const delivered = new Promise<void>((resolve) => (next = resolve));
    server.emit('download.progress', {
      jobId: 'd1',
      modelId: big,
      status: 'running',
      file: 'f',
      fileBytes: i,
      fileTotal: sent,
      bytes: i,
      totalBytes: sent,
      rate: 1,
      etaSeconds: 1,
    });
    await delivered;
  }
  expect(received).toBe(sent);
  // Read what reached the stalled page, then hang up: it was cut off well before the last event.
  let bytes = 0;
  stalled.on('data', (d: Buffer) => (bytes += d.length));
  const closed = new Promise((resolve) => stalled.on('close', resolve));
  stalled.resume();
  stalled.end();
  await closed;
  expect(bytes).toBeLessThan(sent * big.length);
  expect(bytes).toBeGreaterThan(0);
  reader.close();
});

it('applies the configured body cap', async () => {
  const reply = await httpRequest(`http://127.0.0.1:${server.port}/api/doctor`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${server.token}` },
    body: JSON.stringify({ pad: 'x'.repeat(1100) }),
  });
  expect(reply.status).toBe(413);
  expect(JSON.parse(reply.body).error.details).toEqual({ maxBodyBytes: 1024 });
});
