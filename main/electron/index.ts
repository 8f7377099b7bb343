/** The Electron shell: one window showing the renderer, the engine behind the contract's IPC channels. */
import { join } from 'node:path';
import { eventChannel } from '../../preload/contract.js';
import { bindElectronIpc } from '../ipc/electron.js';
import { hostEngine } from '../ipc/host.js';
import { contentSecurityPolicy, readRendererFile } from '../ipc/static.js';
import type { SecretCipher } from '../hub/token-store.js';
import { dataDir } from '../paths.js';
import type { BrowserWindow, ElectronMain } from './electron-api.js';

// The shell is bundled to CommonJS (out/electron.cjs), where require is the way to reach Electron.
const { app, BrowserWindow: Window, dialog, ipcMain, protocol, safeStorage, session } = require('electron') as ElectronMain;

/** The renderer is served from app://sprout/ so that it gets a real origin, a CSP header and no file:// access. */
const SCHEME = 'app';
const APP_ORIGIN = `${SCHEME}://sprout`;
const rendererDir = join(__dirname, 'renderer');

const isAppUrl = (url: string): boolean => url === APP_ORIGIN || url.startsWith(`${APP_ORIGIN}/`);

/**
 * The system keychain for the Hub token, when one answers. Linux without a keyring falls back to 'basic_text',
 * a fixed key that protects nothing: there the owner-only token file is as good and says what it is.
 */
function keychain(): SecretCipher | undefined {
  if (!safeStorage.isEncryptionAvailable() || safeStorage.getSelectedStorageBackend?.() === 'basic_text') return undefined;
  return { encrypt: (plain) => safeStorage.encryptString(plain), decrypt: (sealed) => safeStorage.decryptString(sealed) };
}

protocol.registerSchemesAsPrivileged([{ scheme: SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

let window: BrowserWindow | undefined;
let engineBusy: () => boolean = () => false;

function createWindow(): BrowserWindow {
  const win = new Window({
    title: 'Sprout',
    width: 1200,
    height: 800,
    minWidth: 800,
    minHeight: 560,
    show: false,
    backgroundColor: '#f7f8f5',
    webPreferences: {
      preload: join(__dirname, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(`${APP_ORIGIN}/index.html`);
  return win;
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  // Every web contents, now or later: no navigation away from the app, no new windows, no webviews.
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event) => {
      if (!isAppUrl(event.url)) event.preventDefault();
    });
    contents.on('will-redirect', (event) => {
      if (!isAppUrl(event.url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });

  // Starting Sprout again while it runs in the background (its window closed during a training run) reopens it.
  app.on('second-instance', () => {
    if (!window || window.isDestroyed()) {
      window = createWindow();
      return;
    }
    if (window.isMinimized()) window.restore();
    window.focus();
  });

  void app.whenReady().then(() => {
    session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
    session.defaultSession.setPermissionCheckHandler(() => false);

    protocol.handle(SCHEME, async (request) => {
      const file = isAppUrl(request.url) ? await readRendererFile(rendererDir, new URL(request.url).pathname) : undefined;
      if (!file) return new Response('Not found', { status: 404 });
      return new Response(new Uint8Array(file.body), {
        headers: {
          'Content-Type': file.contentType,
          'Content-Security-Policy': contentSecurityPolicy(),
          'X-Content-Type-Options': 'nosniff',
        },
      });
    });

    const engine = hostEngine({
      dataDir: dataDir({ electronUserData: app.getPath('userData') }),
      workerScript: join(__dirname, 'worker.js'),
      shell: 'electron',
      secrets: keychain(),
      pickPath: async (kind, title) => {
        const target = window && !window.isDestroyed() ? window : undefined;
        const result = await dialog.showOpenDialog(target, { title, properties: [kind === 'file' ? 'openFile' : 'openDirectory'] });
        return result.canceled ? null : (result.filePaths[0] ?? null);
      },
      emit: (event, payload) => {
        for (const win of Window.getAllWindows()) if (!win.webContents.isDestroyed()) win.webContents.send(eventChannel(event), payload);
      },
      log: (error) => console.error('sprout:', error),
    });
    bindElectronIpc(ipcMain, engine.dispatch, isAppUrl);
    engineBusy = engine.busy;
    app.on('before-quit', () => void engine.close());

    window = createWindow();
    app.on('activate', () => {
      if (Window.getAllWindows().length === 0) window = createWindow();
    });
  });

  // Closing the window does not stop a training run, download or labelling job: the app keeps running until the
  // work is done (reopen it by starting Sprout again), then quits as usual.
  app.on('window-all-closed', () => {
    if (process.platform === 'darwin') return;
    if (!engineBusy()) {
      app.quit();
      return;
    }
    const poll = setInterval(() => {
      if (Window.getAllWindows().length > 0) clearInterval(poll);
      else if (!engineBusy()) {
        clearInterval(poll);
        app.quit();
      }
    }, 2000);
  });
}
