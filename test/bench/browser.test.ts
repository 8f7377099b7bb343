/**
 * The browser tests and figures find Chromium where Playwright users keep one, an explicit CHROME_PATH first, and
 * without one the error names the one-line install.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { BROWSER_INSTALL, browserCandidates, findBrowser } from '../../main/bench/browser.js';

describe('finding a browser', () => {
  it('takes CHROME_PATH first, then Playwright’s own Chromium, the system Chromium, then Google Chrome', () => {
    const chrome = join(mkdtempSync(join(tmpdir(), 'sprout-chrome-')), 'chrome');
    writeFileSync(chrome, '#!/bin/sh\n');
    chmodSync(chrome, 0o755);
    expect(findBrowser({ CHROME_PATH: chrome })).toBe(chrome);
    const order = browserCandidates({ CHROME_PATH: chrome }).map((c) => c.source);
    expect([...new Set(order)]).toEqual(['CHROME_PATH', "Playwright's Chromium", 'the system Chromium', 'Google Chrome']);
    expect(browserCandidates({ CHROME_PATH: chrome })[1].path).toBe(chromium.executablePath());
    // A CHROME_PATH that is not there is passed over, not fatal.
    const missing = join(tmpdir(), 'no-such-chrome');
    expect(findBrowser({ CHROME_PATH: missing }, (p) => p !== missing && p === '/usr/bin/chromium')).toBe('/usr/bin/chromium');
  });

  it('without any names every place it looked and the one-line install', () => {
    expect(() => findBrowser({}, () => false)).toThrow(
      new RegExp(`/usr/bin/chromium \\(the system Chromium\\).*Install one with \`${BROWSER_INSTALL}\`, or set CHROME_PATH`),
    );
  });
});
