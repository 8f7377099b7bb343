import { operationChannel, operationNames, type Envelope } from '../../preload/contract.js';
import type { Dispatch } from './dispatch.js';

interface IpcMainLike {
  handle(channel: string, listener: (event: { senderFrame: { url: string } | null }, request: unknown) => Promise<unknown>): void;
}

/**
 * Answers each operation's channel with the shared dispatch. Only frames showing the app itself may call;
 * anything else (a frame that somehow navigated away) gets `forbidden`.
 */
export function bindElectronIpc(ipcMain: IpcMainLike, dispatch: Dispatch, isAppUrl: (url: string) => boolean): void {
  for (const name of operationNames) {
    ipcMain.handle(operationChannel(name), async (event, request): Promise<Envelope<unknown>> => {
      const url = event.senderFrame?.url ?? '';
      if (!isAppUrl(url))
        return { ok: false, error: { code: 'forbidden', message: `A page at ${url || 'an unknown address'} may not call Sprout.` } };
      return dispatch(name, request);
    });
  }
}
