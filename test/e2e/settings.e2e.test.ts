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
});
