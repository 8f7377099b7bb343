/**
 * The one contract between the renderer and the engine, shared by main, preload and renderer.
 *
 * `operations` declares every request/response pair: a zod schema for the request (checked at the boundary
 * by main/ipc/dispatch.ts) and the response type (compile-time only). `events` declares the progress streams
 * main pushes to the renderer. Adding an operation = one entry here + one handler in main/ipc/handlers.ts;
 * the Electron preload, the serve transport and the renderer API are all derived from these two tables.
 */
import { z } from 'zod';

/** Marks a response or event payload type; the value is never read at run time. */
function type<T>(): T {
  return undefined as T;
}

// ---- Data types carried by operations and events ----

export interface ExecutionProviderInfo {
  /** onnxruntime's name, e.g. "cpu", "webgpu", "cuda". */
  name: string;
  /** Shipped inside onnxruntime-node; unbundled ones need extra libraries (see README, CUDA opt-in). */
  bundled: boolean;
}

export interface DoctorReport {
  versions: { sprout: string; node: string; onnxruntime: string; electron: string | null };
  providers: ExecutionProviderInfo[];
  /** The provider a session uses when Sprout asks for none. */
  defaultProvider: string;
  dataDir: string;
  /** Bytes free to this user on the data directory's file system. */
  freeDiskBytes: number;
  platform: string;
  arch: string;
  cpus: number;
}

export interface AppInfo {
  name: 'Sprout';
  version: string;
  /** How the renderer is connected: the Electron window or a browser through `sprout serve`. */
  shell: 'electron' | 'serve';
  dataDir: string;
}

export interface TrainingProgress {
  runId: string;
  step: number;
  totalSteps: number;
  loss: number;
  /** Latest validation metric, when one has been computed. */
  validation?: { metric: string; value: number };
  stepsPerSecond: number;
}

export interface DownloadProgress {
  modelId: string;
  file: string;
  bytes: number;
  totalBytes: number;
}

export interface LabellingProgress {
  jobId: string;
  rows: number;
  totalRows: number;
}

// ---- The tables ----

export const operations = {
  doctor: { request: z.strictObject({}), response: type<DoctorReport>() },
  'app.info': { request: z.strictObject({}), response: type<AppInfo>() },
} satisfies Record<string, { request: z.ZodType; response: unknown }>;

export const events = {
  'training.progress': type<TrainingProgress>(),
  'download.progress': type<DownloadProgress>(),
  'labelling.progress': type<LabellingProgress>(),
};

// ---- Types derived from the tables ----

export type OperationName = keyof typeof operations;
/** What a caller sends (before defaults are applied). */
export type RequestOf<K extends OperationName> = z.input<(typeof operations)[K]['request']>;
/** What a handler receives (validated, defaults applied). */
export type ValidRequestOf<K extends OperationName> = z.output<(typeof operations)[K]['request']>;
export type ResponseOf<K extends OperationName> = (typeof operations)[K]['response'];

export type EventName = keyof typeof events;
export type EventPayload<E extends EventName> = (typeof events)[E];

/**
 * Every failure a caller can see. `code` is stable for branching: `invalid-request` (details.field names the
 * bad field), `unknown-operation`, `worker-crashed`, `internal`, transport codes (`unauthorized`, `forbidden`,
 * `payload-too-large`, `unsupported-media-type`, `not-found`), or a SproutError's own code.
 */
export interface ContractErrorShape {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/** How a response travels over every transport: errors are values, so no transport loses their shape. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: ContractErrorShape };

export const operationNames = Object.keys(operations) as OperationName[];
export const eventNames = Object.keys(events) as EventName[];

/** Electron IPC channels, one per operation and one per event. */
export const operationChannel = (name: OperationName): string => `sprout:op:${name}`;
export const eventChannel = (name: EventName): string => `sprout:event:${name}`;

/** What the preload exposes as `window.sprout`: one function per operation, and a subscription per event. */
export interface SproutBridge {
  invoke: { [K in OperationName]: (request: RequestOf<K>) => Promise<Envelope<ResponseOf<K>>> };
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
}
