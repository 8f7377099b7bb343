/**
 * The part of Electron's main-process API the shell uses. Electron is an optional dependency (its binary cannot
 * be downloaded everywhere), so its own typings may be absent; these declarations keep the shell type-checked
 * either way. They follow Electron 41's documented signatures.
 */
export interface IpcMainInvokeEvent {
  senderFrame: { url: string } | null;
}

export interface WebContents {
  send(channel: string, payload: unknown): void;
  isDestroyed(): boolean;
  on(event: 'will-navigate' | 'will-redirect', listener: (event: { url: string; preventDefault(): void }) => void): void;
  on(event: 'will-attach-webview', listener: (event: { preventDefault(): void }) => void): void;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

export interface BrowserWindow {
  webContents: WebContents;
  loadURL(url: string): Promise<void>;
  once(event: 'ready-to-show', listener: () => void): void;
  show(): void;
  focus(): void;
  isMinimized(): boolean;
  isDestroyed(): boolean;
  restore(): void;
}

export interface BrowserWindowOptions {
  title: string;
  width: number;
  height: number;
  minWidth: number;
  minHeight: number;
  show: boolean;
  backgroundColor: string;
  icon?: string;
  webPreferences: {
    preload: string;
    contextIsolation: true;
    sandbox: true;
    nodeIntegration: false;
    webSecurity: true;
    webviewTag: false;
    spellcheck: boolean;
  };
}

export interface ElectronMain {
  app: {
    getPath(name: 'userData'): string;
    getVersion(): string;
    whenReady(): Promise<void>;
    quit(): void;
    requestSingleInstanceLock(): boolean;
    on(event: 'window-all-closed' | 'second-instance' | 'before-quit', listener: () => void): void;
    on(event: 'web-contents-created', listener: (event: unknown, contents: WebContents) => void): void;
    on(event: 'activate', listener: () => void): void;
  };
  BrowserWindow: { new (options: BrowserWindowOptions): BrowserWindow; getAllWindows(): BrowserWindow[] };
  dialog: {
    showOpenDialog(
      window: BrowserWindow | undefined,
      options: { title?: string; properties: ('openFile' | 'openDirectory')[] },
    ): Promise<{ canceled: boolean; filePaths: string[] }>;
  };
  ipcMain: { handle(channel: string, listener: (event: IpcMainInvokeEvent, request: unknown) => Promise<unknown>): void };
  protocol: {
    registerSchemesAsPrivileged(
      schemes: { scheme: string; privileges: { standard: boolean; secure: boolean; supportFetchAPI: boolean } }[],
    ): void;
    handle(scheme: string, handler: (request: Request) => Promise<Response>): void;
  };
  /** Encryption by the system keychain; getSelectedStorageBackend exists on Linux only. */
  safeStorage: {
    isEncryptionAvailable(): boolean;
    encryptString(plain: string): Buffer;
    decryptString(encrypted: Buffer): string;
    getSelectedStorageBackend?(): string;
  };
  session: {
    defaultSession: {
      setPermissionRequestHandler(handler: (webContents: unknown, permission: string, callback: (granted: boolean) => void) => void): void;
      setPermissionCheckHandler(handler: () => boolean): void;
    };
  };
}
