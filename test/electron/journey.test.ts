/**
 * The journey's first steps in the desktop shell (Electron's own window, preload bridge and IPC): import the
 * fixture model by path and CB's training data, checked through window.sprout and in library.sqlite.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
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
    `Electron journey skipped: ${dist} is absent (Electron's binary is an optional download); test/e2e/journey.test.ts runs the whole journey in Chromium.`,
  );

const shared = resolve(repoRoot, '../shared');
const model = join(shared, 'fixtures/tiny-t5-v1_1');
const cb = join(shared, 'data/cb');

describe.skipIf(!present)('Electron journey, first steps', () => {
  it('imports a model and a dataset through the wizard in the desktop window', { timeout: 120_000 }, async () => {
    const home = mkdtempSync(join(tmpdir(), 'sprout-electron-journey-'));
    const app = await electron.launch({
      executablePath: binary,
      args: [join(repoRoot, 'out/electron.cjs'), ...(process.platform === 'linux' ? ['--no-sandbox'] : [])],
      env: { ...process.env, SPROUT_HOME: home },
    });
    try {
      const page = await app.firstWindow();
      await page.getByRole('heading', { name: 'Home', level: 1 }).waitFor();
      await expect(page.getByRole('contentinfo', { name: 'Status' }).innerText()).resolves.toContain('desktop app');
      await page.getByRole('button', { name: 'New task' }).click();

      await page.getByLabel(/Import a model folder from disk/).fill(model);
      await page.getByRole('button', { name: 'Import', exact: true }).click();
      await expect(page.getByRole('radio', { name: /tiny-t5-v1_1/ }).isChecked({ timeout: 20_000 })).resolves.toBe(true);
      const models = await page.evaluate(async () => {
        const envelope = await window.sprout!.invoke['model.list']({});
        return envelope.ok ? envelope.value.map((m) => m.path) : [];
      });
      expect(models).toEqual([model]);
      await page.getByRole('button', { name: 'Next: Data' }).click();

      await page.getByLabel('Training file').fill(join(cb, 'train.jsonl'));
      await page.getByRole('button', { name: 'Preview' }).click();
      await page.getByRole('table', { name: 'First rows' }).waitFor();
      await page.getByLabel(/Validation file/).fill(join(cb, 'val.jsonl'));
      await page.getByLabel('Dataset name').fill('cb');
      await page.getByRole('button', { name: 'Import into the library' }).click();
      await page.getByRole('heading', { name: /Imported “cb”/ }).waitFor({ timeout: 30_000 });
      await expect(page.getByRole('button', { name: 'Next: Prompt' }).isEnabled()).resolves.toBe(true);

      const db = new Database(join(home, 'library.sqlite'), { readonly: true, fileMustExist: true });
      try {
        const splits = db.prepare('SELECT split, count(*) AS n FROM dataset_rows GROUP BY split ORDER BY split').all();
        expect(splits).toEqual([
          { split: 'train', n: 250 },
          { split: 'validation', n: 56 },
        ]);
      } finally {
        db.close();
      }
    } finally {
      await app.close();
    }
  });
});
