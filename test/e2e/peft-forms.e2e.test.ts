/**
 * The Library screen's two PEFT forms, in Chromium against `sprout serve`: Hugging Face's topic prompt from
 * mini-t5-instruct's reference run is imported by typing its folder, then exported to a new folder by the prompt's
 * detail; Python reads the exported adapter (its JSON config, and the safetensors header and float32 rows by hand)
 * and finds the reference prompt's numbers. A folder that is not an adapter, and an export folder whose parent does not
 * exist, are refused with the reason.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { repoRoot } from '../serve/spawn-serve.js';
import { App } from './app.js';
import { hfReferencePrompt } from './hf-prompt.js';

const shared = resolve(repoRoot, '../shared');
const model = join(shared, 'fixtures/mini-t5-instruct');

/** The adapter in `dir` as Python reads it: config fields and the prompt_embeddings rows. */
const READ_ADAPTER = `
import json, struct, sys
from array import array
folder = sys.argv[1]
config = json.load(open(folder + '/adapter_config.json'))
raw = open(folder + '/adapter_model.safetensors', 'rb').read()
size = struct.unpack('<Q', raw[:8])[0]
header = json.loads(raw[8:8 + size])
entry = header['prompt_embeddings']
start, end = entry['data_offsets']
values = array('f', raw[8 + size + start:8 + size + end])
rows, width = entry['shape']
print(json.dumps({'config': config, 'dtype': entry['dtype'], 'shape': entry['shape'],
                  'rows': [list(values[r * width:(r + 1) * width]) for r in range(rows)]}))
`;

let app: App;
let out: string;
beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'sprout-peft-forms-'));
  app = await App.start('peft-forms');
  await app.call('model.import', { path: model });
});
afterAll(async () => {
  await app?.stop();
  if (out) rmSync(out, { recursive: true, force: true });
});

it('imports an adapter folder typed into the Library screen and exports it to another', { timeout: 90_000 }, async () => {
  const page = app.page;
  app.shotOnFailure('peft-forms-failure.png');
  const reference = JSON.parse(readFileSync(join(model, 'prompt_tuning_reference.json'), 'utf8')) as {
    runs: { topic: { final_prompt: number[][] } };
  };
  const adapter = hfReferencePrompt(model, out, 'topic');
  const empty = join(out, 'empty');
  mkdirSync(empty);

  await page.getByRole('link', { name: 'Library' }).click();
  const importField = page.getByLabel('Import a PEFT prompt-tuning adapter (folder path)');
  const importButton = page.getByRole('button', { name: 'Import', exact: true });
  await expect(importButton.isDisabled()).resolves.toBe(true);
  await importField.fill(empty);
  await importButton.click();
  await expect.poll(() => page.getByRole('alert').first().innerText()).toMatch(/adapter_config\.json/);
  await expect(importField.inputValue()).resolves.toBe(empty); // kept, to be corrected

  // The adapter names no base model (Hugging Face's run saved none): the person chooses it, else the prompt would
  // belong to no model and never be offered as a transfer source.
  await page.getByRole('combobox', { name: /^Its base model/ }).selectOption('local/mini-t5-instruct');
  await importField.fill(`  ${adapter}  `);
  await importButton.click();
  await page.getByRole('status').getByText('Imported “hf-topic”.').waitFor();
  const listed = await app.call('library.list', {});
  expect(listed.map((p) => [p.name, p.modelId])).toEqual([['hf-topic', 'local/mini-t5-instruct']]);
  // Sprout never scored it: the details say so and how to score it, where they read "Headline: – — validation also chose…".
  await expect(page.getByTestId('prompt-headline').innerText()).resolves.toMatch(/^No score: Sprout did not train this prompt/);
  // Notes and a name typed and not saved survive the saved changes below (each tag brings the prompt back anew).
  const notes = page.getByLabel('Notes', { exact: true });
  const name = page.getByLabel('Name', { exact: true });
  await notes.fill('the reference run, 800 steps');
  await name.fill('hf topic (reference)');
  // Two tags, one holding a comma: the list shows two, not a comma-joined line that reads as three.
  for (const tag of ['first try, cpu', 'news']) {
    await page.getByLabel('Add a tag').fill(tag);
    await page.getByRole('button', { name: 'Add tag' }).click();
    await page.getByRole('status').getByText(`Tagged “${tag}”.`).waitFor();
  }
  await expect.poll(() => page.getByTestId('list-tag').allInnerTexts()).toEqual(['first try, cpu', 'news']);
  await expect([await notes.inputValue(), await name.inputValue()]).toEqual(['the reference run, 800 steps', 'hf topic (reference)']);
  await expect(page.getByTestId('unsaved').innerText()).resolves.toMatch(/^The name and notes you typed are not saved yet/);
  await page.getByRole('button', { name: 'Save notes' }).click();
  await page.getByRole('status').getByText('Notes saved.').waitFor();
  await expect(page.getByTestId('unsaved').innerText()).resolves.toMatch(/^The name you typed is not saved yet/);
  await name.fill('hf-topic');
  await expect(page.getByTestId('unsaved').count()).resolves.toBe(0);
  // A filter that leaves no prompt keeps offering every tag, names what it filters by, and clears in one click.
  const tagFilter = page.getByRole('search').getByRole('combobox', { name: /^Tag/ });
  await tagFilter.selectOption('news');
  await page.getByLabel('Search names, tasks and notes').fill('no such prompt');
  await expect
    .poll(() => page.getByTestId('no-prompts').innerText())
    .toBe('No prompt has “no such prompt” in its name, task or notes and the tag “news”. Show every prompt');
  await expect(tagFilter.locator('option').allInnerTexts()).resolves.toEqual(['Any', 'first try, cpu', 'news']);
  await expect(tagFilter.inputValue()).resolves.toBe('news');
  await page.getByRole('button', { name: 'Show every prompt' }).click();
  await page.getByRole('button', { name: /^hf-topic/ }).waitFor();
  await page.getByRole('button', { name: /^hf-topic/ }).waitFor();
  await expect(importField.inputValue()).resolves.toBe(''); // done: the next import starts blank
  await app.accessible('library with an imported adapter');

  // The folder is created, its parent must exist.
  const exportField = page.getByLabel('Export as a PEFT adapter into folder');
  const exportButton = page.getByRole('button', { name: 'Export', exact: true });
  await exportField.fill(join(out, 'missing', 'hf-topic-again'));
  await exportButton.click();
  await expect.poll(() => page.getByRole('alert').first().innerText()).toMatch(/missing for the export folder does not exist/);
  const exported = join(out, 'hf-topic-again');
  await exportField.fill(exported);
  await exportButton.click();
  await page.getByRole('status').getByText(`Wrote adapter_config.json, adapter_model.safetensors to ${exported}.`).waitFor();

  await expect(exportField.inputValue()).resolves.toBe(exported); // the folder written, as the message says
  const read = JSON.parse(execFileSync('python3', ['-c', READ_ADAPTER, exported], { encoding: 'utf8' })) as {
    config: Record<string, unknown>;
    dtype: string;
    shape: number[];
    rows: number[][];
  };
  const rows = reference.runs.topic.final_prompt;
  expect(read.config).toMatchObject({ peft_type: 'PROMPT_TUNING', num_virtual_tokens: rows.length, token_dim: rows[0].length });
  expect(read.dtype).toBe('F32');
  expect(read.shape[1]).toBe(rows[0].length);
  // The first num_virtual_tokens rows are the prompt, to float32's precision (a seq2seq adapter may repeat them).
  const f32 = (v: number) => Math.fround(v);
  expect(read.rows.slice(0, rows.length)).toEqual(rows.map((r) => r.map(f32)));

  // The same folder again is refused: the refusal stands alone beside the panel's top, the earlier "Wrote …" gone.
  await exportButton.click();
  const refusal = page.locator('section.detail').getByRole('alert');
  await expect.poll(() => refusal.innerText()).toMatch(/^That did not work\./);
  await expect(
    page
      .getByRole('status')
      .getByText(/^Wrote adapter_config\.json/)
      .count(),
  ).resolves.toBe(0);
  const [title, alert] = await Promise.all([page.locator('#detail-title').boundingBox(), refusal.boundingBox()]);
  expect(alert!.y - title!.y).toBeLessThan(200);
});

it('backs the whole library up to an archive, and adds the archive of another library to it', { timeout: 90_000 }, async () => {
  const page = app.page;
  app.shotOnFailure('peft-forms-archive-failure.png');
  // Another library, made with the CLI: the model and Hugging Face's sst2 prompt, written to an archive.
  const other = join(out, 'other-home');
  const cli = (...args: string[]) =>
    execFileSync(process.execPath, [join(repoRoot, 'out/cli.js'), ...args], {
      env: { ...process.env, SPROUT_HOME: other },
      encoding: 'utf8',
    });
  cli('model', 'import', model);
  cli('library', 'import', '--peft', hfReferencePrompt(model, out, 'sst2'), '--model', 'local/mini-t5-instruct');
  const otherArchive = join(out, 'other.tar');
  cli('library', 'export-all', otherArchive);

  await page.getByRole('link', { name: 'Library' }).click();
  const backup = page.getByRole('form', { name: 'Back up the library' });
  const archive = join(out, 'library.tar');
  await backup.getByRole('textbox').fill(archive);
  await backup.getByRole('button', { name: 'Back up' }).click();
  await page.getByRole('status').getByText(`Wrote the library and its 1 prompt to ${archive}.`).waitFor();
  // Python's tarfile finds the adapter of the prompt and every entry's sha256 as the manifest records it.
  const listed = JSON.parse(
    execFileSync(
      'python3',
      [
        '-c',
        `import hashlib, json, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    manifest = json.load(t.extractfile('sprout-library.json'))
    sums = {m.name: hashlib.sha256(t.extractfile(m).read()).hexdigest() for m in t if m.name != 'sprout-library.json'}
print(json.dumps({'names': [p['name'] for p in manifest['prompts']], 'agree': sums == manifest['sha256']}))`,
        archive,
      ],
      { encoding: 'utf8' },
    ),
  ) as { names: string[]; agree: boolean };
  expect(listed).toEqual({ names: ['hf-topic'], agree: true });

  const add = page.getByRole('form', { name: 'Add a library archive' });
  const addField = add.getByRole('textbox');
  const damaged = join(out, 'damaged.tar');
  const bytes = readFileSync(otherArchive);
  bytes[bytes.length - 2048] ^= 0x01;
  writeFileSync(damaged, bytes);
  await addField.fill(damaged);
  await add.getByRole('button', { name: 'Add' }).click();
  const archiveAlert = page.locator('section', { has: page.getByRole('heading', { name: 'Whole library' }) }).getByRole('alert');
  await expect.poll(() => archiveAlert.innerText()).toMatch(/The archive is damaged: its prompts\/.+ does not match the checksum/);
  await addField.fill(otherArchive);
  await add.getByRole('button', { name: 'Add' }).click();
  await page.getByRole('status').getByText('Added 1 prompt.').waitFor();
  await page.getByRole('button', { name: /^hf-sst2/ }).waitFor();
  await expect(addField.inputValue()).resolves.toBe('');
  await addField.fill(archive);
  await add.getByRole('button', { name: 'Add' }).click();
  await page.getByRole('status').getByText('Added nothing: everything in it is here already.').waitFor();
  await app.accessible('library with its archive forms');
});

it('deletes a prompt by keyboard: the confirmation takes focus, Escape keeps the prompt, and focus never falls to the page', async () => {
  const page = app.page;
  app.shotOnFailure('peft-forms-delete-failure.png');
  const focused = () => page.evaluate(() => document.activeElement?.textContent?.trim() ?? '');
  await page.getByRole('link', { name: 'Library' }).click();
  await page.getByRole('button', { name: /^hf-sst2/ }).click();
  await expect.poll(() => page.locator('#detail-title').innerText()).toBe('hf-sst2');
  const ask = page.getByRole('button', { name: 'Delete this prompt…' });
  await ask.focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('group', { name: 'Confirm the deletion' }).innerText()).resolves.toMatch(
    /^Delete “hf-sst2”\? This cannot be undone\./,
  );
  await expect.poll(focused).toBe('Keep it');
  await page.keyboard.press('Escape');
  await expect.poll(focused).toBe('Delete this prompt…');
  await page.keyboard.press('Enter');
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await page.getByRole('status').getByText('Deleted.').waitFor();
  await expect.poll(focused).toMatch(/^Prompts/);
  await expect(page.getByRole('button', { name: /^hf-sst2/ }).count()).resolves.toBe(0);
});
