/**
 * Builds `window.sprout` from the contract's tables: one function per operation, each bound to its own channel,
 * and a subscription per declared event. ipcRenderer itself never reaches the page.
 */
import { eventChannel, eventNames, operationChannel, operationNames, type EventName, type SproutBridge } from './contract.js';

/** The part of Electron's preload API used here (Electron is optional, so its typings may be absent). */
interface ElectronPreload {
  contextBridge: { exposeInMainWorld(key: string, api: unknown): void };
  webUtils: { getPathForFile(file: File): string };
  ipcRenderer: {
    invoke(channel: string, request: unknown): Promise<unknown>;
    on(channel: string, listener: (event: unknown, payload: unknown) => void): void;
    removeListener(channel: string, listener: (event: unknown, payload: unknown) => void): void;
  };
}

// A sandboxed preload is CommonJS and may require only 'electron'; everything else is bundled in.
const { contextBridge, ipcRenderer, webUtils } = require('electron') as ElectronPreload;

const invoke = Object.fromEntries(
  operationNames.map((name) => [name, (request: unknown) => ipcRenderer.invoke(operationChannel(name), request)]),
) as SproutBridge['invoke'];

const bridge: SproutBridge = {
  invoke,
  pathForFile: (file) => webUtils.getPathForFile(file),
  on(event, listener) {
    if (!eventNames.includes(event as EventName)) throw new Error(`Unknown event "${String(event)}".`);
    const channel = eventChannel(event);
    const forward = (_event: unknown, payload: unknown) => listener(payload as never);
    ipcRenderer.on(channel, forward);
    return () => ipcRenderer.removeListener(channel, forward);
  },
};

contextBridge.exposeInMainWorld('sprout', bridge);
