import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { EventName, EventPayload, OperationName, RequestOf, ResponseOf } from '../../preload/contract.js';
import type { HandlerContext } from '../../main/ipc/context.js';
import { createDispatch, type Dispatch } from '../../main/ipc/dispatch.js';
import { handlers } from '../../main/ipc/handlers.js';
import { releaseState } from '../../main/ipc/handlers/state.js';
import { EngineWorker } from '../../main/worker/client.js';

export const repoRoot = resolve(import.meta.dirname, '../..');
export const shared = resolve(repoRoot, '../shared');
export const tinyModel = join(shared, 'fixtures/tiny-t5-v1_1');
export const data = (path: string) => join(shared, 'data', path);

export interface Emitted {
  event: EventName;
  payload: unknown;
}

/** The real handlers behind the real dispatch, with the built engine worker and a fresh data folder. */
export class Harness {
  /** A fresh data folder, or the one given (which a test made, with the CLI say): close() removes it either way. */
  readonly home: string;
  readonly scratch = mkdtempSync(join(tmpdir(), 'sprout-ipc-files-'));
  readonly events: Emitted[] = [];
  readonly context: HandlerContext;
  private readonly listeners = new Set<() => void>();
  private readonly dispatch: Dispatch;

  constructor(home?: string) {
    this.home = home ?? mkdtempSync(join(tmpdir(), 'sprout-ipc-'));
    this.context = {
      dataDir: this.home,
      emit: (event, payload) => {
        this.events.push({ event, payload });
        for (const listener of [...this.listeners]) listener();
      },
      worker: new EngineWorker({ script: join(repoRoot, 'out/worker.js') }),
      shell: 'serve',
    };
    this.dispatch = createDispatch(handlers, this.context, (error) => console.error(error));
  }

  /** The operation's value; a failure throws an Error whose message starts with its code. */
  async call<K extends OperationName>(name: K, request: RequestOf<K>): Promise<ResponseOf<K>> {
    const envelope = await this.dispatch(name, request);
    if (!envelope.ok) throw Object.assign(new Error(`${envelope.error.code}: ${envelope.error.message}`), { code: envelope.error.code });
    return envelope.value as ResponseOf<K>;
  }

  /** The error code of a call that must fail. */
  async failure<K extends OperationName>(name: K, request: RequestOf<K>): Promise<string> {
    const envelope = await this.dispatch(name, request);
    if (envelope.ok) throw new Error(`${name} succeeded: ${JSON.stringify(envelope.value)}`);
    return envelope.error.code;
  }

  /** The payloads of `event` emitted so far that `where` accepts, from the `from`th emitted event on. */
  payloads<E extends EventName>(event: E, where: (p: EventPayload<E>) => boolean = () => true, from = 0): EventPayload<E>[] {
    return this.events
      .slice(from)
      .filter((e) => e.event === event)
      .map((e) => e.payload as EventPayload<E>)
      .filter(where);
  }

  /** The first matching event, already emitted or still to come; a run that never emits one ends at the test's timeout. */
  waitFor<E extends EventName>(event: E, where: (p: EventPayload<E>) => boolean): Promise<EventPayload<E>> {
    return new Promise((resolve) => {
      const check = () => {
        const found = this.payloads(event, where)[0];
        if (found === undefined) return;
        this.listeners.delete(check);
        resolve(found);
      };
      this.listeners.add(check);
      check();
    });
  }

  async close(): Promise<void> {
    await this.context.worker.close();
    releaseState(this.context);
    rmSync(this.home, { recursive: true, force: true });
    rmSync(this.scratch, { recursive: true, force: true });
  }
}
