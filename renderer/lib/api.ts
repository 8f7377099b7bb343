/**
 * The renderer's only door to the engine. Under Electron it uses `window.sprout` (the preload's bridge); in a
 * browser it uses `sprout serve` (HTTP for operations, a WebSocket for events) with the token from the URL.
 * Components call `api.<operation>(request)` and `onEvent(name, listener)` and never learn which one it is.
 */
import type {
  ContractErrorShape,
  Envelope,
  EventName,
  EventPayload,
  OperationName,
  RequestOf,
  ResponseOf,
  SproutBridge,
} from '../../preload/contract.js';

declare global {
  interface Window {
    sprout?: SproutBridge;
  }
}

/** An operation's failure, rebuilt from the contract's error shape. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;
  constructor(shape: ContractErrorShape) {
    super(shape.message);
    this.code = shape.code;
    this.details = shape.details;
  }
}

interface Transport {
  invoke(name: OperationName, request: unknown): Promise<Envelope<unknown>>;
  on(event: EventName, listener: (payload: unknown) => void): () => void;
}

function electronTransport(bridge: SproutBridge): Transport {
  return {
    invoke: (name, request) => (bridge.invoke[name] as (request: unknown) => Promise<Envelope<unknown>>)(request),
    on: (event, listener) => bridge.on(event, listener),
  };
}

const TOKEN_KEY = 'sprout.token';

/** Takes the token out of the address bar (so it is not bookmarked or shared) into this tab's sessionStorage. */
function takeToken(): string {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    history.replaceState(history.state, '', `${url.pathname}${url.search}${url.hash}`);
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

function disconnected(message: string): Envelope<unknown> {
  return { ok: false, error: { code: 'disconnected', message } };
}

/** What keeps the page from Sprout (`sprout serve` gone, or a token it does not take), or null when nothing does. */
export type ConnectionProblem = { kind: 'unreachable' | 'unauthorized'; message: string } | null;
const connectionListeners = new Set<(problem: ConnectionProblem) => void>();
let unreachable = false;
let unauthorized: string | null = null;

/** A refused token outlasts the event socket's own comings and goings: only an answered operation clears it. */
function reportConnection(change: { unreachable?: boolean; unauthorized?: string | null }): void {
  ({ unreachable = unreachable, unauthorized = unauthorized } = change);
  const problem: ConnectionProblem =
    unauthorized !== null
      ? { kind: 'unauthorized', message: unauthorized }
      : unreachable
        ? { kind: 'unreachable', message: UNREACHABLE }
        : null;
  for (const listener of connectionListeners) listener(problem);
}

const UNREACHABLE =
  'Sprout is not reachable: is sprout serve still running? This tab reconnects by itself when it is back; a serve started again prints a new address, which this tab cannot follow.';

/** Listens to the connection's problems (never any under Electron); returns the function that stops listening. */
export function onConnection(listener: (problem: ConnectionProblem) => void): () => void {
  connectionListeners.add(listener);
  return () => connectionListeners.delete(listener);
}

function serveTransport(token: string): Transport {
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let retryMs = 500;

  function connect(): void {
    const url = new URL('events', location.href);
    url.protocol = 'ws:';
    url.search = `?token=${encodeURIComponent(token)}`;
    const socket = new WebSocket(url);
    socket.onopen = () => {
      retryMs = 500;
      reportConnection({ unreachable: false });
    };
    socket.onmessage = (message) => {
      const { event, payload } = JSON.parse(String(message.data)) as { event: string; payload: unknown };
      for (const listener of listeners.get(event) ?? []) listener(payload);
    };
    socket.onclose = () => {
      reportConnection({ unreachable: true });
      // Always connected, listeners or not: the socket is how the page learns that serve went away (and came back).
      setTimeout(connect, (retryMs = Math.min(retryMs * 2, 10_000)));
    };
  }

  connect();
  return {
    async invoke(name, request) {
      let response: Response;
      try {
        response = await fetch(`api/${encodeURIComponent(name)}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
          body: JSON.stringify(request ?? {}),
        });
      } catch {
        reportConnection({ unreachable: true });
        return disconnected('Sprout is not reachable. Is `sprout serve` still running?');
      }
      try {
        const envelope = (await response.json()) as Envelope<unknown>;
        const refused = !envelope.ok && envelope.error.code === 'unauthorized';
        reportConnection({ unreachable: false, unauthorized: refused ? envelope.error.message : null });
        return envelope;
      } catch {
        return disconnected(`Sprout answered ${response.status} ${response.statusText} without a result.`);
      }
    },
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    },
  };
}

const transport: Transport = window.sprout ? electronTransport(window.sprout) : serveTransport(takeToken());

export type SproutApi = { [K in OperationName]: (request: RequestOf<K>) => Promise<ResponseOf<K>> };

async function call(name: OperationName, request: unknown): Promise<unknown> {
  const envelope = await transport.invoke(name, request);
  if (!envelope.ok) throw new ApiError(envelope.error);
  return envelope.value;
}

/** One async function per operation of the contract, e.g. `await api.doctor({})`; failures throw ApiError. */
export const api = new Proxy({} as SproutApi, {
  get: (_target, name) => (typeof name === 'string' ? (request: unknown) => call(name as OperationName, request) : undefined),
});

/** Listens to one of the contract's events; returns the function that stops listening. */
export function onEvent<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
  return transport.on(event, listener as (payload: unknown) => void);
}

/**
 * Where a dropped file lives, when the shell can tell (the desktop app); undefined in a browser, which never
 * reveals a file's folder. Also says whether `app.pickPath` (an open dialog) is available.
 */
export const desktop = window.sprout
  ? { pathForFile: (file: File): string | undefined => window.sprout!.pathForFile(file) || undefined }
  : undefined;
