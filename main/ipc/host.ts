import { EngineWorker } from '../worker/client.js';
import type { Emit, HandlerContext } from './context.js';
import { createDispatch, type Dispatch } from './dispatch.js';
import { handlers } from './handlers.js';
import { moveLegacyHubToken } from './handlers/settings.js';

export interface HostOptions {
  dataDir: string;
  /** Path of the bundled worker (out/worker.js). */
  workerScript: string;
  shell: HandlerContext['shell'];
  pickPath?: HandlerContext['pickPath'];
  secrets?: HandlerContext['secrets'];
  emit: Emit;
  /** Where unexpected faults are written in full (the caller only gets the message). */
  log: (error: unknown) => void;
}

/** The engine as a transport sees it: one dispatch function over the contract's handlers, whether work is running, and a way to stop. */
export function hostEngine(options: HostOptions): { dispatch: Dispatch; busy(): boolean; close(): Promise<void> } {
  const worker = new EngineWorker({ script: options.workerScript, onCrash: (error) => options.log(new Error(error.message)) });
  const context: HandlerContext = {
    dataDir: options.dataDir,
    emit: options.emit,
    worker,
    shell: options.shell,
    pickPath: options.pickPath,
    secrets: options.secrets,
  };
  moveLegacyHubToken(context);
  return { dispatch: createDispatch(handlers, context, options.log), busy: () => worker.busy, close: () => worker.close() };
}
