import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { httpRequest } from './http.js';
import { cli, spawnServe, type RunningServe } from './spawn-serve.js';

let serve: RunningServe;
const json = { 'Content-Type': 'application/json' };
const auth = () => ({ ...json, Authorization: `Bearer ${serve.token}` });

beforeAll(async () => {
  serve = await spawnServe();
});
afterAll(async () => {
  await serve?.stop();
});

function refused(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2000 });
    socket.on('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('timeout', () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

function upgrade(url: string, headers: Record<string, string> = {}): Promise<{ opened: true } | { status: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      resolve({ opened: true });
    });
    ws.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0 }));
    ws.on('error', () => {});
  });
}

describe('sprout serve', () => {
  it('prints exactly the one line with a 256-bit token', () => {
    expect(serve.stdout()).toBe(`Sprout is serving at http://127.0.0.1:${serve.port}/?token=${serve.token}\n`);
    expect(Buffer.from(serve.token, 'base64url')).toHaveLength(32);
  });

  it('answers an operation or the event socket 401 without the token or with a wrong one, saying what to do', async () => {
    for (const headers of [json, { ...json, Authorization: 'Bearer wrong' }, { ...json, Authorization: serve.token }]) {
      const reply = await httpRequest(`${serve.base}/api/doctor`, { method: 'POST', headers, body: '{}' });
      expect(reply.status).toBe(401);
      expect(JSON.parse(reply.body)).toEqual({
        ok: false,
        error: {
          code: 'unauthorized',
          message:
            'This tab has no access token, or one from an earlier run of sprout serve (it changes each time Sprout serves): ' +
            'open the address it printed this time.',
        },
      });
    }
  });

  it('serves the page and its files under a strict CSP, with or without a token, and sets no cookie', async () => {
    for (const url of [serve.url, `${serve.base}/`, `${serve.base}/?token=from-an-earlier-run`]) {
      const reply = await httpRequest(url);
      expect(reply.status, url).toBe(200);
      expect(reply.body).toContain('<title>Sprout</title>');
      // A cookie for 127.0.0.1 goes to every port of it: any other local server the browser visits would get the token.
      expect(reply.headers['set-cookie'], url).toBeUndefined();
      const csp = String(reply.headers['content-security-policy']);
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-');
      expect(reply.headers['referrer-policy']).toBe('no-referrer');
      const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(reply.body)![1];
      const asset = await httpRequest(`${serve.base}/${script}`);
      expect(asset.status).toBe(200);
      expect(asset.headers['content-type']).toMatch(/^text\/javascript/);
    }
  });

  it('tells a browser naming another Host, in a page, that it may not load this one', async () => {
    const accept = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
    const foreign = await httpRequest(`${serve.base}/?token=${serve.token}`, { headers: { Accept: accept, Host: 'evil.example' } });
    expect(foreign.status).toBe(403);
    expect(foreign.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(foreign.body).toContain('<p>Requests must name this server as their Host.</p>');
    const script = await httpRequest(`${serve.base}/`, { headers: { Host: 'evil.example' } });
    expect(JSON.parse(script.body)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('runs operations with the token', async () => {
    const reply = await httpRequest(`${serve.base}/api/doctor`, { method: 'POST', headers: auth(), body: '{}' });
    expect(reply.status).toBe(200);
    const { ok, value } = JSON.parse(reply.body);
    expect(ok).toBe(true);
    expect(value.dataDir).toBe(serve.home);
    expect(value.providers.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['cpu', 'webgpu']));
  });

  it('answers a malformed request with 400 and the field', async () => {
    const reply = await httpRequest(`${serve.base}/api/app.info`, { method: 'POST', headers: auth(), body: '{"verbose":true}' });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).toMatchObject({ ok: false, error: { code: 'invalid-request', details: { field: 'verbose' } } });
    const notJson = await httpRequest(`${serve.base}/api/doctor`, { method: 'POST', headers: auth(), body: '{"' });
    expect(notJson.status).toBe(400);
    const unknown = await httpRequest(`${serve.base}/api/no.such`, { method: 'POST', headers: auth(), body: '{}' });
    expect(unknown.status).toBe(404);
    const form = await httpRequest(`${serve.base}/api/doctor`, {
      method: 'POST',
      headers: { ...auth(), 'Content-Type': 'text/plain' },
      body: '{}',
    });
    expect(form.status).toBe(415);
  });

  it('answers 403 to a foreign Origin or Host even with the token', async () => {
    for (const origin of ['http://evil.example', `http://127.0.0.1:${serve.port + 1}`, 'null', `https://127.0.0.1:${serve.port}`]) {
      const reply = await httpRequest(`${serve.base}/api/doctor`, { method: 'POST', headers: { ...auth(), Origin: origin }, body: '{}' });
      expect(reply.status, origin).toBe(403);
    }
    const same = await httpRequest(`${serve.base}/api/doctor`, { method: 'POST', headers: { ...auth(), Origin: serve.base }, body: '{}' });
    expect(same.status).toBe(200);
    const rebound = await httpRequest(serve.url, { headers: { Host: `attacker.example:${serve.port}` } });
    expect(rebound.status).toBe(403);
  });

  it('answers 413 to an oversized body, announced or streamed', async () => {
    const big = `{"pad":"${'x'.repeat(2 << 20)}"}`;
    for (const chunked of [false, true]) {
      const reply = await httpRequest(`${serve.base}/api/doctor`, { method: 'POST', headers: auth(), body: big, chunked });
      expect(reply.status, chunked ? 'chunked' : 'content-length').toBe(413);
      expect(JSON.parse(reply.body)).toMatchObject({ ok: false, error: { code: 'payload-too-large' } });
    }
    // The server is still fine afterwards.
    expect((await httpRequest(`${serve.base}/api/doctor`, { method: 'POST', headers: auth(), body: '{}' })).status).toBe(200);
  });

  it('lets a client that is still sending after the 413 finish its body and read the answer', async () => {
    // A client writes its whole body before it looks at the reply, as Node's and most others do: a server that
    // closed the connection on the 413 cut such a client off mid-write (EPIPE) instead of answering it.
    const chunk = Buffer.alloc(256 * 1024, 'x');
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${serve.base}/api/doctor`, { method: 'POST', headers: auth() }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          // Answered while the body was still coming: keep sending as a client that had not looked would.
          for (let i = 0; i < 8; i++) req.write(chunk);
          req.end();
          req.on('finish', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        });
      });
      req.on('error', reject);
      req.on('close', () => reject(new Error('the server closed the connection before the body was sent')));
      for (let i = 0; i < 5; i++) req.write(chunk); // past the 1 MiB limit: the server answers now
    });
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.body)).toMatchObject({ ok: false, error: { code: 'payload-too-large' } });
  });

  it('cuts off a body that goes on long after its 413', async () => {
    const chunk = Buffer.alloc(1 << 20, 'x');
    const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
    const { sent, answer } = await new Promise<{ sent: number; answer: string }>((resolve) => {
      let sent = 0;
      let answer = '';
      let closed = false;
      const socket = connect({ host: '127.0.0.1', port: serve.port }, () => {
        socket.write(
          `POST /api/doctor HTTP/1.1\r\nHost: 127.0.0.1:${serve.port}\r\nAuthorization: Bearer ${serve.token}\r\n` +
            'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
        );
        const pump = () => {
          while (!closed && sent < 256 << 20) {
            sent += chunk.length;
            if (!socket.write(frame)) return void socket.once('drain', pump);
          }
          if (!closed) resolve({ sent, answer });
        };
        pump();
      });
      socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        closed = true;
        resolve({ sent, answer });
      });
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(sent).toBeLessThan(256 << 20);
    expect((await httpRequest(`${serve.base}/api/doctor`, { method: 'POST', headers: auth(), body: '{}' })).status).toBe(200);
  });

  it('checks the token and Origin on the event socket', async () => {
    const ws = `ws://127.0.0.1:${serve.port}/events`;
    expect(await upgrade(ws)).toEqual({ status: 401 });
    expect(await upgrade(`${ws}?token=wrong`)).toEqual({ status: 401 });
    expect(await upgrade(`${ws}?token=${serve.token}`, { Origin: 'http://evil.example' })).toEqual({ status: 403 });
    expect(await upgrade(`${ws}?token=${serve.token}`, { Origin: serve.base })).toEqual({ opened: true });
  });

  it('listens on 127.0.0.1 only', async () => {
    expect(await refused('127.0.0.1', serve.port)).toBe('connected');
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && !a.internal)
      .map((a) => a!.address);
    // On Linux all of 127/8 reaches this machine, so 127.0.0.2 shows a socket bound to 127.0.0.1 alone.
    const candidates = [...others, ...(process.platform === 'linux' ? ['127.0.0.2'] : []), '::1'];
    for (const host of candidates) expect(await refused(host, serve.port), host).not.toBe('connected');
  });

  it('takes --port and rejects a bad one', async () => {
    const other = await spawnServe(['--port', String(serve.port + 1)]).catch(() => spawnServe(['--port', String(serve.port + 2)]));
    try {
      expect([serve.port + 1, serve.port + 2]).toContain(other.port);
    } finally {
      await other.stop();
    }
    const bad = spawnSync(process.execPath, [cli, 'serve', '--port', 'eighty'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--port eighty is not a port number');
    expect(bad.stdout).toBe('');
  });

  it('stops cleanly on SIGTERM', async () => {
    const other = await spawnServe();
    expect(await other.stop()).toBe(0);
  });
});
