import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron as electron } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../serve/spawn-serve.js';

const dist = join(repoRoot, 'node_modules/electron/dist');
const binary = join(
  dist,
  process.platform === 'win32' ? 'electron.exe' : process.platform === 'darwin' ? 'Electron.app/Contents/MacOS/Electron' : 'electron',
);
const present = existsSync(dist);
if (!present)
  console.log(
    `Electron E2E skipped: ${dist} is absent (Electron's binary is an optional download). \`npm start\` needs it; \`npm run serve\` does not.`,
  );

describe.skipIf(!present)('Electron shell', () => {
  it('opens one locked-down window titled Sprout that shows the providers', async () => {
    const app = await electron.launch({
      executablePath: binary,
      args: [join(repoRoot, 'out/electron.cjs'), ...(process.platform === 'linux' ? ['--no-sandbox'] : [])],
      env: { ...process.env, SPROUT_HOME: mkdtempSync(join(tmpdir(), 'sprout-electron-')) },
    });
    try {
      const page = await app.firstWindow();
      await page.getByRole('table', { name: 'Execution providers' }).waitFor();
      expect(await page.title()).toBe('Sprout');
      expect(
        await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().map((w: { getTitle(): string }) => w.getTitle())),
      ).toEqual(['Sprout']);
      const prefs = await app.evaluate(({ BrowserWindow }) => {
        // Electron 41's typings dropped getLastWebPreferences (still there at run time); without the cast, tsc fails
        // wherever npm kept the electron package.
        const contents = BrowserWindow.getAllWindows()[0].webContents as unknown as {
          getLastWebPreferences(): { contextIsolation?: boolean; sandbox?: boolean; nodeIntegration?: boolean } | null;
        };
        const p = contents.getLastWebPreferences();
        return { contextIsolation: p?.contextIsolation, sandbox: p?.sandbox, nodeIntegration: p?.nodeIntegration };
      });
      expect(prefs).toEqual({ contextIsolation: true, sandbox: true, nodeIntegration: false });
      expect(await page.evaluate(() => typeof (window as unknown as { require?: unknown }).require)).toBe('undefined');
      // A page script cannot open or navigate to remote content.
      expect(await page.evaluate(() => window.open('https://example.com') === null)).toBe(true);
      await page.evaluate(() => location.assign('https://example.com'));
      await page.waitForTimeout(500);
      expect(page.url()).toMatch(/^app:\/\/sprout\//);
      expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);
    } finally {
      await app.close();
    }
  });
});
