/**
 * The Hub token set in Settings never sits in a file others can read: it has its own file created 0600 (or one
 * sealed by the system keychain in the desktop app), settings.json never holds it (a token an earlier Sprout left
 * there is moved out when a host starts), and Settings says where it lives.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostEngine } from '../../main/ipc/host.js';
import { effectiveHubSettings, readSettings, SETTINGS_FILE } from '../../main/ipc/handlers/settings.js';
import { PLAIN_TOKEN_FILE, SEALED_TOKEN_FILE, TokenStore, type SecretCipher } from '../../main/hub/token-store.js';
import { Harness, repoRoot } from '../ipc/harness.js';

const TOKEN = `hf_${randomBytes(12).toString('hex')}`;

/** Files under `dir` whose bytes hold `secret`, with their permission bits. */
function filesHolding(dir: string, secret: string): { file: string; mode: number }[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile() && readFileSync(f).includes(secret))
    .map((file) => ({ file, mode: statSync(file).mode & 0o777 }));
}

/** AES-256-GCM under a random key: a real cipher in the place of Electron's safeStorage, which cannot run here. */
function testKeychain(): SecretCipher {
  const key = randomBytes(32);
  return {
    encrypt(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]);
    },
    decrypt(sealed) {
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
      decipher.setAuthTag(sealed.subarray(12, 28));
      return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}

// No token from this machine's environment may stand in for the one under test.
const savedEnv = {
  HF_TOKEN: process.env.HF_TOKEN,
  HUGGING_FACE_HUB_TOKEN: process.env.HUGGING_FACE_HUB_TOKEN,
  HF_TOKEN_PATH: process.env.HF_TOKEN_PATH,
};
beforeAll(() => {
  delete process.env.HF_TOKEN;
  delete process.env.HUGGING_FACE_HUB_TOKEN;
  process.env.HF_TOKEN_PATH = join(mkdtempSync(join(tmpdir(), 'sprout-no-token-')), 'token');
});
afterAll(() => {
  for (const [name, value] of Object.entries(savedEnv))
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
});

/** A host started on `home` and closed again: what a start does to the data folder. */
async function startHost(home: string): Promise<void> {
  const engine = hostEngine({
    dataDir: home,
    workerScript: join(repoRoot, 'out/worker.js'),
    shell: 'serve',
    emit: () => {},
    log: () => {},
  });
  await engine.close();
}

describe('the Hub token', () => {
  it('set in Settings lives in an owner-only file, not settings.json, and Settings says where', async () => {
    const h = new Harness();
    try {
      const set = await h.call('settings.set', { hubToken: TOKEN, theme: 'dark' });
      const file = join(h.home, PLAIN_TOKEN_FILE);
      expect(set).toMatchObject({ hubTokenSet: true, hubTokenWhere: `${file}, readable by your user only`, theme: 'dark' });
      expect(filesHolding(h.home, TOKEN)).toEqual([{ file, mode: 0o600 }]);
      expect(readFileSync(join(h.home, SETTINGS_FILE), 'utf8')).not.toContain(TOKEN);
      expect(effectiveHubSettings(h.context).token).toBe(TOKEN);
      expect(await h.call('settings.set', { hubToken: null })).toMatchObject({ hubTokenSet: false, hubTokenWhere: null });
      expect(filesHolding(h.home, TOKEN)).toEqual([]);
      // A token pasted with its line end is stored without; one with a line break inside would break every request.
      expect(await h.call('settings.set', { hubToken: ` ${TOKEN}\n` })).toMatchObject({ hubTokenSet: true });
      expect(effectiveHubSettings(h.context).token).toBe(TOKEN);
      for (const hubToken of ['hf_abc\r\nX-Evil: 1', 'two words', ''])
        expect(await h.failure('settings.set', { hubToken })).toBe('invalid-request');
      // An endpoint the Hub client cannot speak to is refused in words a person can act on.
      await expect(h.call('settings.set', { hubEndpoint: 'ftp://mirror.example' })).rejects.toThrow(
        'The Hub endpoint is an http:// or https:// address, e.g. https://huggingface.co',
      );
      expect(effectiveHubSettings(h.context).token).toBe(TOKEN);
    } finally {
      await h.close();
    }
  });

  it('left in settings.json by an earlier Sprout is moved to the owner-only file when a host starts', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sprout-legacy-token-'));
    writeFileSync(join(home, SETTINGS_FILE), JSON.stringify({ defaultDevice: 'cpu', hubToken: TOKEN }), { mode: 0o644 });
    await startHost(home);
    expect(filesHolding(home, TOKEN)).toEqual([{ file: join(home, PLAIN_TOKEN_FILE), mode: 0o600 }]);
    expect(JSON.parse(readFileSync(join(home, SETTINGS_FILE), 'utf8'))).toMatchObject({ defaultDevice: 'cpu' });
    expect(effectiveHubSettings({ dataDir: home }).token).toBe(TOKEN);
  });

  it('is moved from a settings.json with a bad value, which stays for Settings to name; one that is not JSON lets the host start', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sprout-legacy-token-'));
    writeFileSync(join(home, SETTINGS_FILE), JSON.stringify({ theme: 'neon', hubToken: TOKEN }));
    await startHost(home);
    expect(JSON.parse(readFileSync(join(home, SETTINGS_FILE), 'utf8'))).toEqual({ theme: 'neon' });
    expect(filesHolding(home, TOKEN)).toEqual([{ file: join(home, PLAIN_TOKEN_FILE), mode: 0o600 }]);
    writeFileSync(join(home, SETTINGS_FILE), '{"theme": "dark",');
    await startHost(home);
    expect(() => readSettings(home)).toThrow('The settings file is not JSON');
  });

  it('is sealed by the keychain where one is lent, and a token stored without one is sealed once one is', () => {
    const home = mkdtempSync(join(tmpdir(), 'sprout-sealed-token-'));
    new TokenStore(home).write(TOKEN);
    const keychain = testKeychain();
    const store = new TokenStore(home, keychain);
    expect(store.read()).toBe(TOKEN);
    expect(filesHolding(home, TOKEN)).toEqual([]);
    expect(readdirSync(home)).toEqual([SEALED_TOKEN_FILE]);
    expect(statSync(join(home, SEALED_TOKEN_FILE)).mode & 0o777).toBe(0o600);
    expect(store.where()).toBe(`${join(home, SEALED_TOKEN_FILE)}, encrypted with the system keychain`);
    expect(keychain.decrypt(readFileSync(join(home, SEALED_TOKEN_FILE)))).toBe(TOKEN);
    // Without the keychain (sprout serve on the same folder) the sealed token reads as none.
    expect(new TokenStore(home).read()).toBeNull();
  });
});
