/**
 * Which model a library prompt is read with, by `evaluate` and by `label` alike: the folder it was trained from
 * while it is there, though its registered id now names another download (a newer commit of the repository, here a
 * model of another shape); the registered folder when the trained one is gone and the registered one has the same
 * shape; else a refusal that says what became of both. The registry is changed with Python's sqlite3, as a new
 * download would change it.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sprout, type Exit } from '../fault/spawn.js';
import { shared } from '../train/fixtures.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sprout-prompt-model-'));
const home = path.join(dir, 'home');
const trained = path.join(dir, 'tiny-a');
const other = path.join(dir, 'tiny-b');
/** CoLA's first 24 dev rows, as a file of its own: `label` reads whole files. */
const rows = path.join(dir, 'cola-24.tsv');
const columns = ['--no-header', '--quoting', 'none', '--text-column', '3'];
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a statement on the library with Python's sqlite3, printing what it selects as JSON. */
function sql(statement: string, ...params: string[]): unknown {
  const script =
    'import json, sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nr = c.execute(sys.argv[2], sys.argv[3:]).fetchall()\nc.commit()\nprint(json.dumps(r))';
  return JSON.parse(execFileSync('python3', ['-c', script, path.join(home, 'library.sqlite'), statement, ...params], { encoding: 'utf8' }));
}

function ok(run: Exit): Exit {
  expect(run.code, run.stderr).toBe(0);
  return run;
}

const lastLine = (run: Exit) => JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
const evaluate = () => sprout(['evaluate', '--prompt', '1', '--data', rows, ...columns, '--label-column', '1'], home);
const label = (output: string) => sprout(['label', '--prompt', '1', '--input', rows, ...columns, '--output', path.join(dir, output)], home);
const labelled = (output: string) => readFileSync(path.join(dir, output), 'utf8');

describe("a library prompt's model", () => {
  it('is the folder it was trained from, the registered one of its shape when that is gone, else a refusal naming both', async () => {
    cpSync(path.join(shared, 'fixtures/tiny-t5-v1_0'), trained, { recursive: true });
    cpSync(path.join(shared, 'fixtures/tiny-t5-v1_1'), other, { recursive: true });
    writeFileSync(rows, readFileSync(path.join(shared, 'data/cola/in_domain_dev.tsv'), 'utf8').split('\n').slice(0, 24).join('\n') + '\n');
    const id = lastLine(ok(await sprout(['model', 'import', trained], home))).id as string;
    const otherId = lastLine(ok(await sprout(['model', 'import', other], home))).id as string;
    const train = ['train', '--model', id, '--data', rows, ...columns, '--label-column', '1'];
    ok(await sprout([...train, '--verbalizer', '0=unacceptable,1=acceptable', '--steps', '1', '--device', 'cpu'], home));
    const score = async () => lastLine(ok(await evaluate())).per_class;
    const before = await score();
    ok(await label('before.csv'));
    const [[summary]] = sql('SELECT summary FROM models WHERE id = ?', id) as [[string]];

    // The id now names another download, of another shape: the folder it was trained from is still read.
    sql('UPDATE models SET path = ?, summary = (SELECT summary FROM models WHERE id = ?) WHERE id = ?', other, otherId, id);
    expect(await score()).toEqual(before);
    ok(await label('swapped.csv'));
    expect(labelled('swapped.csv')).toBe(labelled('before.csv'));

    // That folder gone, the other shape is refused by both commands, in the same words.
    const moved = path.join(dir, 'tiny-a-moved');
    renameSync(trained, moved);
    for (const run of [await evaluate(), await label('gone.csv')]) {
      expect(run.code).not.toBe(0);
      expect(run.stderr).toContain(
        `The base model of prompt 1 (${id}) is not on this machine. It was trained on ${trained}, which is gone. ` +
          `${id} is now ${other}, a model of another shape.`,
      );
    }

    // The same model registered in its new place is read from there.
    sql('UPDATE models SET path = ?, summary = ? WHERE id = ?', moved, summary, id);
    expect(await score()).toEqual(before);
    ok(await label('moved.csv'));
    expect(labelled('moved.csv')).toBe(labelled('before.csv'));
  }, 120_000);
});
