import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import axe from 'axe-core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { repoRoot, spawnServe, type RunningServe } from '../serve/spawn-serve.js';
import { launchBrowser } from '../../main/bench/browser.js';
import { callApi } from './api.js';

const shots = join(repoRoot, 'test-results');
let serve: RunningServe;
let browser: Browser;

beforeAll(async () => {
  // A missing browser is a broken setup, not a reason to skip: launchBrowser names the one-line install.
  mkdirSync(shots, { recursive: true });
  serve = await spawnServe();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

it('loads the app from the printed URL, calls doctor through the contract and shows the providers', async () => {
  const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  const apiCalls: string[] = [];
  page.on('request', (r) => r.url().includes('/api/') && apiCalls.push(new URL(r.url()).pathname));

  await page.goto(serve.url);
  const table = page.getByRole('table', { name: 'Execution providers' });
  await table.waitFor();
  const rows = await table.locator('tbody tr').allInnerTexts();
  expect(rows.map((r) => r.split('\t')[0].trim())).toEqual(expect.arrayContaining(['cpu', 'webgpu']));
  // A provider tried for the default device and passed over says why, as `sprout doctor` does (here: every GPU one).
  const { chosenProvider } = await callApi(serve, 'doctor', {});
  for (const { provider, reason } of chosenProvider.skipped)
    expect(rows.find((r) => r.startsWith(provider))).toContain(`Not usable here: ${reason}`);
  if (chosenProvider.name === 'cpu') expect(rows.find((r) => r.startsWith('cpu'))).toMatch(/Bundled\s+Yes$/);
  await expect(page.getByText(serve.home, { exact: true }).count()).resolves.toBe(1);
  expect(apiCalls).toEqual(expect.arrayContaining(['/api/doctor', '/api/app.info']));

  // The token left the address bar for sessionStorage; a reload stays logged in.
  expect(page.url()).toBe(`${serve.base}/`);
  expect(await page.evaluate(() => sessionStorage.getItem('sprout.token'))).toBe(serve.token);
  await page.reload();
  await table.waitFor();

  const shot = join(shots, 'serve-doctor.png');
  await page.screenshot({ path: shot, fullPage: true });
  expect(statSync(shot).size).toBeGreaterThan(10_000);

  // axe runs through the devtools protocol, which the page's CSP does not govern.
  await page.evaluate(axe.source);
  const violations = await page.evaluate(async () => {
    const result = await (window as unknown as { axe: typeof axe }).axe.run(document);
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
  expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);

  // Labelling with an empty library says where a prompt comes from, and links there.
  await page.getByRole('link', { name: 'Labelling' }).click();
  await expect(page.getByTestId('no-prompts').innerText()).resolves.toBe(
    'The library has no prompts yet: train one, or import a PEFT adapter.',
  );
  await page.getByRole('link', { name: 'train one' }).click();
  await page.getByRole('heading', { name: '1. Model' }).waitFor();
  expect(problems).toEqual([]);
  await page.close();
});

it('opens each screen at its top, whatever the scroll of the screen left behind', async () => {
  const page = await browser.newPage({ viewport: { width: 1100, height: 420 } });
  await page.goto(serve.url);
  await page.getByRole('table', { name: 'Execution providers' }).waitFor();
  const main = page.locator('main');
  await main.evaluate((el) => (el.scrollTop = 300));
  await expect(main.evaluate((el) => el.scrollTop)).resolves.toBeGreaterThan(0);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
  await expect(main.evaluate((el) => el.scrollTop)).resolves.toBe(0);
  await page.close();
});

it('shows the engine error in the page when the token is wrong', async () => {
  const page = await browser.newPage();
  await page.goto(`${serve.base}/?token=${serve.token}`);
  await page.getByRole('table', { name: 'Execution providers' }).waitFor();
  await page.evaluate(() => sessionStorage.setItem('sprout.token', 'wrong'));
  await page.reload();
  const told =
    'This tab has no access token, or one from an earlier run of sprout serve (it changes each time Sprout serves): ' +
    'open the address it printed this time.';
  await expect(page.locator('main > p.connection').innerText()).resolves.toBe(told);
  // The address printed this time clears it.
  await page.goto(serve.url);
  await page.getByRole('table', { name: 'Execution providers' }).waitFor();
  await expect.poll(() => page.locator('main > p.connection').count()).toBe(0);
  await page.close();
});

it('says, above the screen, that sprout serve is gone when it stops, where the page looked alive', async () => {
  const other = await spawnServe();
  const page = await browser.newPage();
  await page.goto(other.url);
  await page.getByRole('table', { name: 'Execution providers' }).waitFor();
  await expect(page.locator('main > p.connection').count()).resolves.toBe(0);
  await other.stop();
  const banner = page.getByRole('alert').filter({ hasText: 'Sprout is not reachable' });
  await expect(banner.innerText({ timeout: 20_000 })).resolves.toBe(
    'Sprout is not reachable: is sprout serve still running? This tab reconnects by itself when it is back; ' +
      'a serve started again prints a new address, which this tab cannot follow.',
  );
  await page.close();
});
