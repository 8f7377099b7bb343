/**
 * Where the Hub access token chosen in the app lives: never in settings.json. The desktop app seals it with
 * Electron's safeStorage (the system keychain: macOS Keychain, Windows DPAPI, libsecret or KWallet) in
 * <data>/hub-token.enc; `sprout serve`, and the desktop app where no keychain answers, keep it in <data>/hub-token.
 * Both files are created readable and writable by their owner only (0600; on Windows the data folder's own ACL,
 * which is private to the user, applies).
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SproutError } from '../errors.js';
import { tempPathBeside } from '../temp-path.js';

/** Electron's safeStorage as the desktop shell lends it (main/electron/index.ts); absent in `sprout serve` and the CLI. */
export interface SecretCipher {
  encrypt(plain: string): Buffer;
  decrypt(sealed: Buffer): string;
}

export const PLAIN_TOKEN_FILE = 'hub-token';
export const SEALED_TOKEN_FILE = 'hub-token.enc';

/** Writes `bytes` to `file` through a temporary file created 0600, so that no moment finds the token readable by others. */
function writePrivate(file: string, bytes: Buffer): void {
  const tmp = tempPathBeside(file);
  rmSync(tmp, { force: true });
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export class TokenStore {
  constructor(
    private readonly dataDir: string,
    private readonly cipher?: SecretCipher,
  ) {}

  private file(name: string): string {
    return join(this.dataDir, name);
  }

  /** The stored token, or null. A sealed token without the keychain to open it (in `sprout serve`) reads as none. */
  read(): string | null {
    const sealed = this.file(SEALED_TOKEN_FILE);
    const plain = this.file(PLAIN_TOKEN_FILE);
    // A token stored while no keychain was lent (or by `sprout serve` in this folder) is sealed once one is.
    if (this.cipher && !existsSync(sealed) && existsSync(plain)) this.write(readFileSync(plain, 'utf8').trim() || null);
    if (this.cipher && existsSync(sealed)) {
      try {
        return this.cipher.decrypt(readFileSync(sealed));
      } catch (error) {
        throw new SproutError('hub-token-unreadable', `The stored Hub token cannot be decrypted: ${(error as Error).message}.`, {
          file: sealed,
          hint: 'Store the token again in Settings (the system keychain may have been reset).',
        });
      }
    }
    return existsSync(plain) ? readFileSync(plain, 'utf8').trim() || null : null;
  }

  /** Stores the token (sealed where a keychain is lent), or forgets it with null; returns where it now lives. */
  write(token: string | null): string | null {
    rmSync(this.file(this.cipher ? PLAIN_TOKEN_FILE : SEALED_TOKEN_FILE), { force: true });
    if (token === null) {
      rmSync(this.file(this.cipher ? SEALED_TOKEN_FILE : PLAIN_TOKEN_FILE), { force: true });
      return null;
    }
    if (this.cipher) writePrivate(this.file(SEALED_TOKEN_FILE), this.cipher.encrypt(token));
    else writePrivate(this.file(PLAIN_TOKEN_FILE), Buffer.from(`${token}\n`));
    return this.where();
  }

  /** Where the stored token lives, in words for the Settings screen; null when none is stored. */
  where(): string | null {
    if (this.cipher && existsSync(this.file(SEALED_TOKEN_FILE)))
      return `${this.file(SEALED_TOKEN_FILE)}, encrypted with the system keychain`;
    if (existsSync(this.file(PLAIN_TOKEN_FILE))) return `${this.file(PLAIN_TOKEN_FILE)}, readable by your user only`;
    return null;
  }
}
