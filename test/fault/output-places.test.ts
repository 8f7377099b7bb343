/**
 * Outputs a person points at places Sprout cannot write: a folder that does not exist, a folder given as the file,
 * and a place this user may not write in (Linux's /sys, which even root cannot create files in). Each is one line
 * saying which place and what to do, from the CLI (exit 2, before the model is loaded where the place is known bad
 * beforehand) and from the app's contract (its own error code, not an internal error); nothing is left behind.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Harness } from '../ipc/harness.js';
import { shared } from '../train/fixtures.js';
import { quickPrompt, sprout, type Exit } from './spawn.js';

const base = mkdtempSync(join(tmpdir(), 'sprout-output-places-'));
const home = join(base, 'home');
const input = join(base, 'in.tsv');
const denied = process.platform === 'linux' ? '/sys' : undefined;
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** The one line a refusal prints, without an internal error's stack. */
function refusal(run: Exit): string {
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr).not.toMatch(/internal error|\n\s+at /);
  return run.stderr.trim().split('\n').at(-1)!;
}

describe('outputs Sprout cannot write', () => {
  it('are refused by the CLI with the place and what to do', async () => {
    const cola = readFileSync(join(shared, 'data/cola/in_domain_dev.tsv'), 'utf8').split('\n').slice(0, 24);
    writeFileSync(
      input,
      `label\tsentence\n${cola
        .map((l) => l.split('\t'))
        .map((f) => `${f[1]}\t${f[3]}`)
        .join('\n')}\n`,
    );
    await quickPrompt(home, [
      '--data',
      input,
      '--text-column',
      'sentence',
      '--label-column',
      'label',
      '--verbalizer',
      '0=unacceptable,1=acceptable',
    ]);
    const label = (output: string, ...more: string[]) =>
      sprout(['label', '--prompt', '1', '--input', input, '--output', output, '--device', 'cpu', ...more], home);

    const missing = await label(join(base, 'no-such-folder', 'out.csv'));
    expect(refusal(missing)).toBe(
      `sprout: ${join(base, 'no-such-folder', 'out.csv')}: The folder ${join(base, 'no-such-folder')} for the output file does not exist. ` +
        'Create it first, or choose another place.',
    );
    const folder = join(base, 'a-folder');
    mkdirSync(folder);
    const asFile = await label(folder, '--overwrite');
    expect(refusal(asFile)).toBe(`sprout: ${folder}: The output file ${folder} is a folder. Give a file name inside it.`);
    // Known before any slow work: the model was not loaded for either.
    expect(missing.stderr + asFile.stderr).not.toMatch(/memory plan|labelling on/);

    if (denied) {
      const hint = 'Access was refused (permission denied). Choose a folder you can write to, or change its permissions.';
      expect(refusal(await label(`${denied}/out.csv`))).toBe(`sprout: ${denied}/out.csv: ${hint}`);
      // The backup is copied to a temporary file beside it first: the message names the folder, not that file.
      expect(refusal(await sprout(['library', 'backup', `${denied}/library.tar`], home))).toBe(`sprout: ${denied}: ${hint}`);
      expect(refusal(await sprout(['library', 'export', '1', '--peft', `${denied}/peft`], home))).toBe(`sprout: ${denied}/peft: ${hint}`);
    }
    expect(readdirSync(base).sort()).toEqual(['a-folder', 'home', 'in.tsv']);
    expect(readdirSync(folder)).toEqual([]);
  }, 60_000);

  it.runIf(denied)('are refused by the app with an error of their own, not an internal error', async () => {
    const h = new Harness(home);
    try {
      await expect(h.call('library.exportAll', { file: `${denied}/library.tar` })).rejects.toThrow(/^no-access: \/sys: Access was refused/);
      await expect(h.call('library.exportPeft', { id: 1, dir: `${denied}/peft` })).rejects.toThrow(
        /^no-access: \/sys\/peft: Access was refused/,
      );
    } finally {
      await h.close();
    }
  });
});
