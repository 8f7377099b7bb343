/**
 * The headless Chromium that draws the benchmark figures and runs the browser tests, found where Playwright users
 * keep one: CHROME_PATH when set (an explicit choice wins), Playwright's own download (`npx playwright install
 * chromium`, PLAYWRIGHT_BROWSERS_PATH honoured), the system Chromium, then Google Chrome where its installer puts it.
 * playwright-core is a development dependency, loaded only when a browser is wanted.
 */
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';

export const BROWSER_INSTALL = 'npx playwright install chromium';

export interface BrowserCandidate {
  path: string;
  /** Where the candidate comes from, for the message when none is there. */
  source: string;
}

/** Playwright's own Chromium for the installed playwright-core (it need not be downloaded). */
function playwrightChromium(): string | undefined {
  try {
    const { chromium } = createRequire(import.meta.url)('playwright-core') as typeof import('playwright-core');
    return chromium.executablePath();
  } catch {
    return undefined;
  }
}

/** Google Chrome's stable channel where its installer puts it, as Playwright's `channel: 'chrome'` looks for it. */
function chromePaths(env: NodeJS.ProcessEnv): string[] {
  if (process.platform === 'darwin') return ['/Applications/Google Chrome.app/Contents/MacOS/Google Chrome'];
  if (process.platform === 'win32') {
    return [env.LOCALAPPDATA, env.PROGRAMFILES, env['PROGRAMFILES(X86)']]
      .filter((d): d is string => !!d)
      .map((d) => join(d, 'Google', 'Chrome', 'Application', 'chrome.exe'));
  }
  return ['/opt/google/chrome/chrome', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];
}

/** Every place looked at, in order. */
export function browserCandidates(env: NodeJS.ProcessEnv = process.env): BrowserCandidate[] {
  const playwright = playwrightChromium();
  return [
    ...(env.CHROME_PATH ? [{ path: env.CHROME_PATH, source: 'CHROME_PATH' }] : []),
    ...(playwright ? [{ path: playwright, source: "Playwright's Chromium" }] : []),
    ...['/usr/bin/chromium', '/usr/bin/chromium-browser', '/snap/bin/chromium'].map((path) => ({ path, source: 'the system Chromium' })),
    ...chromePaths(env).map((path) => ({ path, source: 'Google Chrome' })),
  ];
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first candidate that is there, or an error that lists where it looked and names the one-line install. */
export function findBrowser(env: NodeJS.ProcessEnv = process.env, isThere: (path: string) => boolean = executable): string {
  const candidates = browserCandidates(env);
  const found = candidates.find((c) => isThere(c.path));
  if (found) return found.path;
  throw new Error(
    `No Chromium or Chrome found (looked at ${candidates.map((c) => `${c.path} (${c.source})`).join(', ')}). ` +
      `Install one with \`${BROWSER_INSTALL}\`, or set CHROME_PATH to a Chrome or Chromium.`,
  );
}

/** A headless browser from findBrowser, with the flags a container or CI machine needs. */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = findBrowser();
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}
