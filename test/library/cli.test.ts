import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { libraryPath, openLibrary } from '../../main/library/db.js';
import { listPrompts, requirePrompt } from '../../main/library/prompts.js';
import { repoRoot, tempDir } from '../checkpoint/helpers.js';

const run = promisify(execFile);

async function sprout(home: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(repoRoot, 'out/cli.js'), ...args], {
      env: { PATH: process.env.PATH ?? '', SPROUT_HOME: home },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function json(home: string, args: string[]): Promise<Record<string, any>> {
  const r = await sprout(home, args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

/** A PEFT adapter folder as PEFT writes it: [2N, d] float32, the decoder half different so that reading it shows. */
function peftFolder(values: number[], n: number, d: number): string {
  const dir = join(tempDir(), 'adapter');
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'adapter_config.json'),
    JSON.stringify({
      peft_type: 'PROMPT_TUNING',
      task_type: 'SEQ_2_SEQ_LM',
      num_virtual_tokens: n,
      token_dim: d,
      num_transformer_submodules: 2,
      base_model_name_or_path: 'google/t5-small-lm-adapt',
    }),
  );
  const data = Buffer.from(Float32Array.from([...values, ...values.map(() => 5)]).buffer);
  const header = Buffer.from(JSON.stringify({ prompt_embeddings: { dtype: 'F32', shape: [2 * n, d], data_offsets: [0, data.length] } }));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  writeFileSync(join(dir, 'adapter_model.safetensors'), Buffer.concat([length, header, data]));
  return dir;
}

// One scenario on one library, in three tests of a few spawns each: every spawn is a process start, and nineteen
// of them in one test made it a large part of its timeout on a busy machine.
describe('sprout library (spawned)', () => {
  const home = tempDir('sprout-home-');
  const values = [0.5, -1, 2, 0.25, 3, -0.125];

  it('import, duplicate, tag, rename, note', async () => {
    expect(await json(home, ['library', 'import', '--peft', peftFolder(values, 2, 3), '--name', 'tweets'])).toEqual({ id: 1 });
    expect(await json(home, ['library', 'duplicate', '1', '--name', 'tweets v2'])).toEqual({ id: 2 });
    expect(await json(home, ['library', 'tag', '2', 'glue', 'best'])).toEqual({ id: 2, tags: ['best', 'glue'] });
    expect(await json(home, ['library', 'tag', '2', '--remove', 'best'])).toEqual({ id: 2, tags: ['glue'] });
    expect(await json(home, ['library', 'rename', '2', 'tweets', 'final'])).toEqual({ id: 2, name: 'tweets final' });
    expect(await json(home, ['library', 'note', '2', 'kept for the demo'])).toEqual({ id: 2, notes: 'kept for the demo' });
    // A forgotten TEXT does not erase them; an empty one, given, does.
    const forgotten = await sprout(home, ['library', 'note', '2']);
    expect([forgotten.code, forgotten.stderr]).toEqual([
      2,
      'sprout: Give the notes: sprout library note ID TEXT (an empty "" clears them).\n',
    ]);
    expect(await json(home, ['library', 'note', '1', ''])).toEqual({ id: 1, notes: '' });
  });

  it('list, show with lineage, guarded rm', async () => {
    const list = await json(home, ['library', 'list', '--tag', 'glue', '--json']);
    expect(list.prompts).toMatchObject([
      {
        id: 2,
        name: 'tweets final',
        length: 2,
        d_model: 3,
        init: 'copy:1',
        parent_id: 1,
        tags: ['glue'],
        notes: 'kept for the demo',
        model: { id: 'google/t5-small-lm-adapt', path: null },
      },
    ]);
    const shown = await json(home, ['library', 'show', '2', '--json']);
    expect(shown.lineage.map((p: { id: number }) => p.id)).toEqual([1]);
    expect((await json(home, ['library', 'show', '1', '--json'])).derived.map((p: { id: number }) => p.id)).toEqual([2]);
    const text = await sprout(home, ['library', 'show', '2']);
    expect(text.stdout).toContain('Transferred from:\n  1  tweets  (google/t5-small-lm-adapt, 2×3, init peft)\n');

    // A prompt that training scored (its record as run-result.ts stores it, written by Python's sqlite3): its
    // headline in the list, as the app's Library shows it, and its metrics in words.
    const metrics = {
      best: { step: 40, examples: 30, rank_accuracy: 0.7, macro_f1: 0.411765, mcc: 0.25 },
      metric: 'macro_f1',
      metric_reason: 'macro-F1: the classes are imbalanced (auto)',
      warnings: [],
    };
    execFileSync('python3', [
      '-c',
      'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("UPDATE prompts SET metrics = ? WHERE id = 2", (sys.argv[2],)); c.commit()',
      libraryPath(home),
      JSON.stringify(metrics),
    ]);
    const listed = await sprout(home, ['library', 'list']);
    expect(listed.stdout).toContain(
      '   2  tweets final  (google/t5-small-lm-adapt, 2×3, init copy:1)  macro-F1 0.412 on validation (optimistic)  [glue]\n',
    );
    expect(listed.stdout).toContain('   1  tweets  (google/t5-small-lm-adapt, 2×3, init peft)\n');
    const scored = (await sprout(home, ['library', 'show', '2'])).stdout;
    expect(scored).toContain('      judged by macro-F1: the classes are imbalanced (auto)\n');
    expect(scored).toContain('      best evaluation: accuracy: 70.0\u00a0%\n      best evaluation: macro-F1: 0.412\n');

    const refused = await sprout(home, ['library', 'rm', '1']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      'sprout: Prompt 1 ("tweets") is the source of prompt 2, so it was not deleted. Delete those first, or use --force: they will then derive from no prompt.\n',
    );
    const missing = await sprout(home, ['library', 'show', '7']);
    expect([missing.code, missing.stderr]).toEqual([
      2,
      'sprout: There is no prompt 7 in the library. See the ids with `sprout library list`.\n',
    ]);
    // By name, as `sprout label --prompt` takes it: a name one prompt has, or an error naming the ids.
    expect((await json(home, ['library', 'show', 'tweets final', '--json'])).prompt.id).toBe(2);
    expect(await json(home, ['library', 'duplicate', 'tweets', '--name', 'tweets final'])).toEqual({ id: 3 });
    const twice = await sprout(home, ['library', 'show', 'tweets final']);
    expect([twice.code, twice.stderr]).toEqual([
      2,
      'sprout: 2 prompts are named "tweets final" (ids 2, 3). Give the prompt id instead; `sprout library list` shows ids and names.\n',
    ]);
    expect(await json(home, ['library', 'rm', '3'])).toEqual({ deleted: 3, reparented: [] });
  });

  it('export, backup, export-all, rm --force and import-all', async () => {
    const out = join(tempDir(), 'peft-out');
    expect(await json(home, ['library', 'export', '2', '--peft', out])).toMatchObject({
      id: 2,
      num_virtual_tokens: 2,
      token_dim: 3,
      base_model_name_or_path: 'google/t5-small-lm-adapt',
    });
    expect(existsSync(join(out, 'adapter_model.safetensors'))).toBe(true);
    const backup = join(tempDir(), 'backup.sqlite');
    expect((await json(home, ['library', 'backup', backup])).file).toBe(backup);
    const archive = join(tempDir(), 'library.tar');
    expect(await json(home, ['library', 'export-all', archive])).toEqual({ file: archive, prompts: 2 });
    expect(await json(home, ['library', 'rm', '1', '--force'])).toEqual({ deleted: 1, reparented: [2] });

    const other = tempDir('sprout-home-');
    expect(await json(other, ['library', 'import-all', archive])).toEqual({
      models: 0,
      datasets: 0,
      tasks: 0,
      runs: 0,
      prompts: 2,
      prompts_present: 0,
    });
    for (const file of [libraryPath(other), backup]) {
      const db = openLibrary(file);
      expect(listPrompts(db).map((p) => [p.name, p.parentId])).toEqual([
        ['tweets', null],
        ['tweets final', 1],
      ]);
      expect([...requirePrompt(db, 2).embedding]).toEqual(values);
      db.close();
    }
  });
});
