/**
 * `sprout serve`'s transport: the built renderer and the contract's handlers over loopback HTTP + WebSocket.
 * Requests: POST /api/<operation> with a JSON body. Events: a WebSocket at /events, one JSON message
 * { event, payload } per emit. Every request needs a Host naming this server and no foreign Origin; operations and
 * events also need the access token (Authorization: Bearer, or ?token= for the WebSocket, which sends no headers).
 * The renderer's files are the same for everyone and need no token: a cookie could carry it to them, but a browser
 * sends 127.0.0.1's cookies to every port of it, so any other local server the browser visits would receive it.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ContractErrorShape, Envelope, EventName, EventPayload } from '../../preload/contract.js';
import type { Dispatch } from './dispatch.js';
import { contentSecurityPolicy, readRendererFile } from './static.js';

export const LOOPBACK = '127.0.0.1';
export const DEFAULT_MAX_BODY_BYTES = 1 << 20;
/** How much of an oversized body is read and dropped after its 413 before the connection is cut. */
const DRAIN_LIMIT_BYTES = 16 << 20;
export const DEFAULT_MAX_EVENT_BACKLOG_BYTES = 16 << 20;
/** A client that has not sent its request head (or whole request) by then is dropped; loopback requests take milliseconds. */
const HEADERS_TIMEOUT_MS = 20_000;
const REQUEST_TIMEOUT_MS = 60_000;

export interface ServeOptions {
  rendererDir: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  token?: string;
  maxBodyBytes?: number;
  /**
   * Events a page has not read yet, in bytes, before it is dropped: a page that stops reading (a frozen tab, a
   * hostile client) would otherwise grow the server's memory with every progress event. The page reconnects.
   */
  maxEventBacklogBytes?: number;
}

export interface ServeServer {
  url: string;
  port: number;
  token: string;
  /** Sends an event to every connected page. */
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void;
  /** Starts answering operations; requests before that get 503 (the handlers' context needs `emit`). */
  attach(dispatch: Dispatch): void;
  close(): Promise<void>;
}

type Denial = { status: number; error: ContractErrorShape };

/** What an operation without the token is told, and through it the page: a tab kept open across a restart lands here. */
export const UNAUTHORIZED =
  'This tab has no access token, or one from an earlier run of sprout serve (it changes each time Sprout serves): open the address it printed this time.';

const statusOf: Record<string, number> = { 'invalid-request': 400, 'unknown-operation': 404, internal: 500 };
// A request target that is no URL (`GET http://[`) or an operation name that is no URI component (`/api/%ff`) is
// the client's error: 400, never an exception in the server.
const badRequest: Denial = { status: 400, error: { code: 'bad-request', message: 'The request target is not a valid URL.' } };
const notFound: Denial = { status: 404, error: { code: 'not-found', message: 'No such endpoint.' } };

function sameToken(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function decodeComponent(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** Who may call this server (its token, Host and Origin) and the headers every answer carries. */
class Gate {
  port = 0;
  constructor(readonly token: string) {}

  parseUrl(req: IncomingMessage): URL | undefined {
    const base = `http://${LOOPBACK}:${this.port}`;
    return URL.canParse(req.url ?? '/', base) ? new URL(req.url ?? '/', base) : undefined;
  }

  /** Whether the request comes from this server's own page: the Host and Origin checks every request passes. */
  checkPlace(req: IncomingMessage): Denial | undefined {
    // A foreign Host means DNS rebinding; a foreign Origin means another site's page is calling.
    if (![`${LOOPBACK}:${this.port}`, `localhost:${this.port}`].includes(req.headers.host ?? '')) {
      return { status: 403, error: { code: 'forbidden', message: 'Requests must name this server as their Host.' } };
    }
    const origin = req.headers.origin;
    if (origin !== undefined && ![`http://${LOOPBACK}:${this.port}`, `http://localhost:${this.port}`].includes(origin)) {
      return { status: 403, error: { code: 'forbidden', message: `Origin ${origin} may not use this server.` } };
    }
    return undefined;
  }

  /** checkPlace, and the access token. */
  check(req: IncomingMessage, url: URL): Denial | undefined {
    const misplaced = this.checkPlace(req);
    if (misplaced) return misplaced;
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const given = bearer ?? url.searchParams.get('token');
    if (!sameToken(given ?? undefined, this.token)) {
      return {
        status: 401,
        error: { code: 'unauthorized', message: UNAUTHORIZED },
      };
    }
    return undefined;
  }

  headers(): Record<string, string> {
    return {
      'Content-Security-Policy': contentSecurityPolicy([`ws://${LOOPBACK}:${this.port}`, `ws://localhost:${this.port}`]),
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'no-store',
    };
  }

  send(res: ServerResponse, status: number, body: Buffer | string, contentType: string, extra: Record<string, string> = {}): void {
    res.writeHead(status, { ...this.headers(), 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...extra });
    res.end(body);
  }

  sendEnvelope(res: ServerResponse, status: number, envelope: Envelope<unknown>, extra: Record<string, string> = {}): void {
    this.send(res, status, JSON.stringify(envelope), 'application/json', extra);
  }

  deny(req: IncomingMessage, res: ServerResponse, denial: Denial): void {
    req.resume();
    this.sendEnvelope(res, denial.status, { ok: false, error: denial.error });
  }

  /** A denied page load, said to the person at the browser, where a JSON envelope would leave them guessing. */
  denyPage(req: IncomingMessage, res: ServerResponse, denial: Denial): void {
    req.resume();
    const escaped = denial.error.message.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    const body = `<!doctype html>\n<html lang="en"><meta charset="utf-8"><title>Sprout</title><h1>Sprout</h1><p>${escaped}</p></html>\n`;
    this.send(res, denial.status, body, 'text/html; charset=utf-8');
  }
}

/**
 * The body, or 'too-large' as soon as it passes maxBodyBytes. What follows is read and dropped, so that a client
 * that sends its whole body before it reads the reply (most do) gets the 413 instead of a reset mid-write; past
 * DRAIN_LIMIT_BYTES the connection is cut, so that an endless body cannot hold it.
 */
function readBody(req: IncomingMessage, maxBodyBytes: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const drain = () => {
      req.removeAllListeners('data');
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > DRAIN_LIMIT_BYTES) req.socket.destroy();
      });
      resolve('too-large');
    };
    if (Number(req.headers['content-length'] ?? 0) > maxBodyBytes) return drain();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) drain();
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The HTTP side: POST /api/<operation> through the dispatch (503 until attached), GET for the renderer's files. */
function requestHandler(gate: Gate, options: ServeOptions & { maxBodyBytes: number }, dispatch: () => Dispatch | undefined) {
  async function api(req: IncomingMessage, res: ServerResponse, operation: string): Promise<void> {
    if (req.method !== 'POST')
      return gate.sendEnvelope(
        res,
        405,
        { ok: false, error: { code: 'method-not-allowed', message: 'Operations are called with POST.' } },
        { Allow: 'POST' },
      );
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
      return gate.sendEnvelope(res, 415, {
        ok: false,
        error: { code: 'unsupported-media-type', message: 'Send the request as application/json.' },
      });
    }
    const body = await readBody(req, options.maxBodyBytes);
    if (body === 'too-large') {
      const error = {
        code: 'payload-too-large',
        message: `Request bodies are limited to ${options.maxBodyBytes} bytes.`,
        details: { maxBodyBytes: options.maxBodyBytes },
      };
      return gate.sendEnvelope(res, 413, { ok: false, error });
    }
    let request: unknown = {};
    if (body.length > 0) {
      try {
        request = JSON.parse(body.toString('utf8'));
      } catch {
        return gate.sendEnvelope(res, 400, {
          ok: false,
          error: { code: 'invalid-request', message: 'The request body is not valid JSON.', details: { field: '(request)' } },
        });
      }
    }
    const d = dispatch();
    if (!d) return gate.sendEnvelope(res, 503, { ok: false, error: { code: 'starting', message: 'Sprout is still starting; try again.' } });
    const envelope = await d(operation, request);
    gate.sendEnvelope(res, envelope.ok ? 200 : (statusOf[envelope.error.code] ?? 422), envelope);
  }

  async function page(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return gate.send(res, 405, 'Method not allowed', 'text/plain', { Allow: 'GET, HEAD' });
    const file = await readRendererFile(options.rendererDir, url.pathname);
    if (!file) return gate.send(res, 404, 'Not found', 'text/plain');
    res.writeHead(200, { ...gate.headers(), 'Content-Type': file.contentType, 'Content-Length': file.body.length });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = gate.parseUrl(req);
    if (!url) return gate.deny(req, res, badRequest);
    const op = /^\/api\/([^/]+)$/.exec(url.pathname)?.[1];
    if (op === undefined) {
      const misplaced = gate.checkPlace(req);
      if (!misplaced) return page(req, res, url);
      return /\btext\/html\b/.test(req.headers.accept ?? '') ? gate.denyPage(req, res, misplaced) : gate.deny(req, res, misplaced);
    }
    const denied = gate.check(req, url);
    if (denied) return gate.deny(req, res, denied);
    const operation = decodeComponent(op);
    return operation === undefined ? gate.deny(req, res, badRequest) : api(req, res, operation);
  }

  return (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent)
        gate.sendEnvelope(res, 500, { ok: false, error: { code: 'internal', message: `Internal error: ${(error as Error).message}` } });
      else res.destroy();
    });
  };
}

/** The events side: a WebSocket at /events per page, one JSON message { event, payload } per emit. */
function eventSockets(server: Server, gate: Gate, maxPayload: number, maxBacklog: number) {
  const sockets = new WebSocketServer({ noServer: true, maxPayload });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A client that resets its connection mid-handshake must not take the server with it.
    socket.on('error', () => socket.destroy());
    const url = gate.parseUrl(req);
    const denied = !url ? badRequest : url.pathname === '/events' ? gate.check(req, url) : notFound;
    if (denied) {
      socket.end(`HTTP/1.1 ${denied.status} ${denied.error.code}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      // Events flow one way; anything a page sends is ignored. A frame ws cannot accept (too large, a reserved
      // opcode, bad UTF-8) is that client's error: ws fails the connection and reports it here, and only that
      // client goes (an 'error' with no listener would end the process and every run inside it).
      ws.on('message', () => {});
      ws.on('error', () => ws.terminate());
    });
  });
  return {
    emit(message: string): void {
      for (const client of sockets.clients) {
        if (client.readyState !== client.OPEN) continue;
        if (client.bufferedAmount > maxBacklog) client.terminate();
        else client.send(message);
      }
    },
    close(): void {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
    },
  };
}

export async function startServe(options: ServeOptions): Promise<ServeServer> {
  const gate = new Gate(options.token ?? randomBytes(32).toString('base64url'));
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  let dispatch: Dispatch | undefined;
  const server = createServer(
    { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
    requestHandler(gate, { ...options, maxBodyBytes }, () => dispatch),
  );
  const events = eventSockets(server, gate, maxBodyBytes, options.maxEventBacklogBytes ?? DEFAULT_MAX_EVENT_BACKLOG_BYTES);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, LOOPBACK, () => resolve());
  });
  gate.port = (server.address() as AddressInfo).port;
  return {
    url: `http://${LOOPBACK}:${gate.port}/?token=${gate.token}`,
    port: gate.port,
    token: gate.token,
    emit: (event, payload) => events.emit(JSON.stringify({ event, payload })),
    attach(d) {
      dispatch = d;
    },
    close() {
      events.close();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
