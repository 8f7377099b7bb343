/**
 * Errors shown in the app speak of the app's choices, never of command-line flags (issue #25 item 7): the same
 * failures of real files through the real handlers, beside the CLI's wording of them.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SproutError } from '../../main/errors.js';
import { data, Harness } from '../ipc/harness.js';

let h: Harness;
beforeAll(() => {
  h = new Harness();
});
afterAll(async () => {
  await h?.close();
});

async function appMessage(file: string, quoting?: 'rfc4180' | 'none'): Promise<string> {
  return (await h.call('data.preview', { file, ...(quoting ? { quoting } : {}) }).then(
    () => expect.unreachable('the preview should fail'),
    (error: Error) => error.message,
  )) as string;
}

it("RTE's quotes read as RFC 4180: the app says which choice to change, not --quoting", async () => {
  const message = await appMessage(data('rte/train.tsv'), 'rfc4180');
  expect(message).toMatch(/^data-bad-quote: .*train\.tsv:52:254: Expected a tab or the end of the line after a closing double quote/);
  expect(message).toContain('set "Quotes in CSV/TSV" to "Quotes are text"');
  expect(message).not.toMatch(/--[a-z]/);
});

it('a Latin-1 byte: the app names its Encoding choice or saving as UTF-8, and the hint without app wording is left out rather than naming a flag', async () => {
  const file = join(h.scratch, 'latin1.csv');
  writeFileSync(file, Buffer.concat([Buffer.from('text,label\ncaf'), Buffer.from([0xe9]), Buffer.from(',1\n')]));
  const message = await appMessage(file);
  expect(message).toMatch(/Byte 0xe9 at byte column 4 is not valid UTF-8\. Read as Windows-1252, the line says "café,1"\./);
  expect(message).toMatch(/set "Encoding" to Windows-1252 .*Otherwise: Save the file again as UTF-8/);
  expect(message).not.toMatch(/--[a-z]/);
  const cliOnly = new SproutError('x', 'Something failed.', { hint: 'Pass --force to go on.' });
  expect(cliOnly.message).toBe('Something failed. Pass --force to go on.');
  expect(cliOnly.forApp()).toBe('Something failed.');
  expect(new SproutError('x', 'Something failed.', { hint: 'Check the file.' }).forApp()).toBe('Something failed. Check the file.');
});
