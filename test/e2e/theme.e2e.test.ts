/**
 * The Settings theme in Chromium against `sprout serve`: 'system' follows the operating system's light or dark
 * scheme, 'light' and 'dark' hold whatever the system asks. Each theme is saved through the API as the Settings
 * screen saves it, then the app is loaded under each scheme and the page's background read: light is #f4f6f2 and
 * dark #131614 (app.css), and the text must change with it.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { THEMES } from '../../main/choices.js';
import { launchBrowser } from '../../main/bench/browser.js';
import { spawnServe, type RunningServe } from '../serve/spawn-serve.js';
import { callApi } from './api.js';

const LIGHT = { background: 'rgb(244, 246, 242)', text: 'rgb(28, 33, 29)' };
const DARK = { background: 'rgb(19, 22, 20)', text: 'rgb(230, 235, 230)' };

let serve: RunningServe;
let browser: Browser;

beforeAll(async () => {
  serve = await spawnServe();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe('the theme setting against the system scheme', () => {
  for (const theme of THEMES) {
    it(`${theme}: the page under a light and a dark system scheme`, { timeout: 60_000 }, async () => {
      await callApi(serve, 'settings.set', { theme });
      for (const scheme of ['light', 'dark'] as const) {
        const expected = theme === 'dark' || (theme === 'system' && scheme === 'dark') ? DARK : LIGHT;
        const page = await browser.newPage({ colorScheme: scheme });
        const problems: string[] = [];
        page.on('pageerror', (e) => problems.push(e.message));
        try {
          await page.goto(serve.url);
          // The theme is applied once the app has read its settings; 'system' sets nothing, so wait for the app.
          await page.waitForFunction(
            (t) => (t === 'system' ? !document.documentElement.dataset.theme : document.documentElement.dataset.theme === t),
            theme,
          );
          await page.getByRole('navigation').first().waitFor();
          const seen = await page.evaluate(() => ({
            background: getComputedStyle(document.body).backgroundColor,
            text: getComputedStyle(document.body).color,
          }));
          expect({ scheme, ...seen }).toEqual({ scheme, ...expected });
          expect(problems).toEqual([]);
        } finally {
          await page.close();
        }
      }
    });
  }
});
