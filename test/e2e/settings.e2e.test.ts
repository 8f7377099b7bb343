/**
 * The Settings screen's own fields, typed and saved in Chromium as a person does. Threads' Save did nothing: its
 * number input gives a number, which the form trimmed as text (a TypeError in the console, the setting unchanged).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from './app.js';

let app: App;
beforeAll(async () => {
  app = await App.start('settings');
});
afterAll(async () => app?.stop());

describe('Settings', () => {
  it("saves the thread count typed, and an emptied field as Sprout's choice", { timeout: 60_000 }, async () => {
    const { page } = app;
    await page.getByRole('link', { name: 'Settings' }).click();
    const threads = page.getByLabel("Threads (empty: Sprout's choice for this machine)");
    const save = page.locator('form', { has: threads }).getByRole('button', { name: 'Save' });
    await threads.fill('3');
    await save.click();
    await page.getByRole('status').filter({ hasText: 'Saved: threads.' }).waitFor();
    expect((await app.call('settings.get', {})).threads).toBe(3);
    // The footer's device line follows the setting.
    await page.getByText('CPU · 3 threads').first().waitFor();

    await threads.fill('');
    await save.click();
    await expect.poll(async () => (await app.call('settings.get', {})).threads).toBeNull();
    await page.reload();
    await page.getByRole('link', { name: 'Settings' }).click();
    expect(await threads.inputValue()).toBe('');
    expect(app.problems).toEqual([]);
  });

  it('in a narrow window puts the screens in a bar above, so that a screen has the whole width', { timeout: 60_000 }, async () => {
    const { page } = app;
    await page.setViewportSize({ width: 760, height: 700 });
    try {
      await page.getByRole('link', { name: 'Home' }).click();
      const [nav, main] = await Promise.all([
        page.getByRole('navigation', { name: 'Sprout' }).boundingBox(),
        page.locator('main').boundingBox(),
      ]);
      expect(main!.y).toBeGreaterThanOrEqual(nav!.y + nav!.height - 1);
      expect(main!.width).toBeGreaterThan(740);
      // Every screen's link stays in view in the bar.
      for (const name of ['Home', 'New task', 'Library', 'Labelling', 'Settings']) {
        const link = await page.getByRole('link', { name, exact: true }).boundingBox();
        expect(link!.x + link!.width, name).toBeLessThanOrEqual(760);
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });
});
