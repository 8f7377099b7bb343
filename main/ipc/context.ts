import type { EventName, EventPayload } from '../../preload/contract.js';
import type { SecretCipher } from '../hub/token-store.js';
import type { EngineWorker } from '../worker/client.js';

export type Emit = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

/** What every handler may use, whichever transport called it. */
export interface HandlerContext {
  /** The data directory (Electron's userData, or SPROUT_HOME / the platform data dir); it exists. */
  dataDir: string;
  /** Pushes a progress event to the renderer(s) connected to this transport. */
  emit: Emit;
  /** Runs long work on the engine worker thread, so the main thread (and the window) never stalls. */
  worker: EngineWorker;
  shell: 'electron' | 'serve';
  /** The shell's open dialog, where it has one: the chosen path, or null when the person cancels. */
  pickPath?: (kind: 'file' | 'folder', title?: string) => Promise<string | null>;
  /** The system keychain (Electron's safeStorage) where the desktop app has one: the Hub token is sealed with it. */
  secrets?: SecretCipher;
}
