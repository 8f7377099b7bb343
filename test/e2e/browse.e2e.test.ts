/**
 * The browser version's file picker (issue #25 item 6), in Chromium against `sprout serve`: folders added in
 * Settings become places to browse; the model folder and AG News' headerless CSV are chosen by clicking through
 * them instead of typing paths, and the Data step previews the chosen file. What Settings stored is read by Python.
 */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { repoRoot } from '../serve/spawn-serve.js';
import { App } from './app.js';

const shared = resolve(repoRoot, '../shared');

let app: App;
beforeAll(async () => {
  app = await App.start('browse');
});
afterAll(async () => {
  await app?.stop();
});

it('adds folders in Settings, then picks a model folder and a data file by browsing them', { timeout: 90_000 }, async () => {
  const page = app.page;
  app.shotOnFailure('browse-failure.png');

  // The Library's Browse buttons say what each one chooses (a description a screen reader reads, and a tooltip).
  await page.getByRole('link', { name: 'Library' }).click();
  await expect(
    page.getByRole('button', { name: /^Browse…/ }).evaluateAll((buttons) => buttons.map((b) => b.getAttribute('title'))),
  ).resolves.toEqual(['Choose the adapter folder', 'Choose the archive file', 'Choose the library archive']);
  await page.getByRole('link', { name: 'Home' }).click();
  // With none added, the picker lists the home folder only, and says where another place is added.
  await page.getByRole('button', { name: 'New task' }).click();
  await page.getByRole('form', { name: 'Import a model folder' }).getByRole('button', { name: 'Browse…' }).click();
  const first = page.getByRole('dialog', { name: 'Model folder' });
  await first.getByText(/^Only your home folder is listed here: add another place \(a data disk\) under Settings → Files/).waitFor();
  await first.getByRole('button', { name: 'Cancel' }).click();

  // Settings: two folders to browse; a file is refused with the reason.
  await page.getByRole('link', { name: 'Settings' }).click();
  const add = page.getByLabel(/Add a folder to browse/);
  await add.fill(join(shared, 'data', 'cola', 'in_domain_dev.tsv'));
  await page.getByRole('button', { name: 'Add folder' }).click();
  await expect(page.getByRole('alert').innerText()).resolves.toMatch(/is a file, not a folder/);
  for (const folder of ['data', 'fixtures']) {
    await add.fill(join(shared, folder));
    await page.getByRole('button', { name: 'Add folder' }).click();
    await page
      .getByRole('status')
      .getByText(`Saved: ${join(shared, folder)} added.`)
      .waitFor();
  }
  await expect(page.getByRole('list', { name: 'Folders to browse' }).getByRole('listitem').allInnerTexts()).resolves.toHaveLength(2);
  const stored = JSON.parse(
    execFileSync(
      'python3',
      ['-c', 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["browseFolders"]))', join(app.serve.home, 'settings.json')],
      { encoding: 'utf8' },
    ),
  );
  expect(stored).toEqual([join(shared, 'data'), join(shared, 'fixtures')]);

  // Model: browse to the fixture folder and choose it.
  await page.getByRole('link', { name: 'Home' }).click();
  await page.getByRole('button', { name: 'New task' }).click();
  await page.getByRole('form', { name: 'Import a model folder' }).getByRole('button', { name: 'Browse…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Model folder' });
  await dialog.getByLabel('Place').selectOption(join(shared, 'fixtures'));
  await expect(dialog.getByText(/^Only your home folder/).count()).resolves.toBe(0);
  await dialog.getByRole('button', { name: 'Open folder tiny-t5-v1_1' }).click();
  await expect.poll(() => dialog.getByRole('navigation', { name: 'Folder path' }).innerText()).toMatch(/^fixtures\s*\/\s*tiny-t5-v1_1$/);
  await dialog.getByRole('button', { name: `Choose ${join(shared, 'fixtures', 'tiny-t5-v1_1')}` }).click();
  await expect(dialog.isVisible()).resolves.toBe(false);
  await expect(page.getByLabel(/Import a model folder from disk/).inputValue()).resolves.toBe(join(shared, 'fixtures', 'tiny-t5-v1_1'));
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(page.getByRole('radio', { name: /tiny-t5-v1_1/ }).isChecked({ timeout: 20_000 })).resolves.toBe(true);
  await expect(page.getByLabel(/Import a model folder from disk/).inputValue()).resolves.toBe('');
  await page.getByRole('button', { name: 'Next: Data' }).click();

  // Data: browse to AG News, narrow the folder by name, choose test.csv; the preview follows.
  await page.locator('.drop', { hasText: 'Training file' }).getByRole('button', { name: 'Browse…' }).click();
  const files = page.getByRole('dialog', { name: 'Training file' });
  await files.getByLabel('Place').selectOption(join(shared, 'data'));
  await files.getByRole('button', { name: 'Open folder ag_news' }).click();
  await files.getByRole('button', { name: 'Choose test.csv' }).waitFor();
  await files.getByLabel('Filter names').fill('.txt');
  const names = async () => (await files.getByRole('list').getByRole('button').allInnerTexts()).map((t) => t.replace(/\s+/g, ' '));
  await expect.poll(names).toEqual(['.. (up to the folder above)', 'Choose classes.txt', 'Choose readme.txt']);
  await files.getByLabel('Filter names').fill('');
  await app.accessible('browse dialog');
  await app.shot('dialog');
  await files.getByRole('button', { name: 'Choose test.csv' }).click();
  await expect(page.getByLabel('Training file').inputValue()).resolves.toBe(join(shared, 'data', 'ag_news', 'test.csv'));
  await expect.poll(() => page.getByText(/rows · CSV/).innerText(), { timeout: 30_000 }).toMatch(/^7,600 rows · CSV/);
  await expect(page.getByLabel('Dataset name').inputValue()).resolves.toBe('ag_news test');
  // The one failed request is the refused file, which Chromium logs as a failed resource.
  expect(app.problems).toEqual([expect.stringMatching(/status of 422/)]);
});
