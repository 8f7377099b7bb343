import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECKPOINT_FILE, loadCheckpoint, PROMPT_TENSOR } from '../../main/train/run-store.js';
import { readTensorFile } from '../../main/train/tensor-file.js';
import { lastJson as lastLine, sprout, type Exit as Run } from '../fault/spawn.js';
import { debianPython, pythonCsvRows } from '../data/helpers.js';
import { shared, tinyModel } from './fixtures.js';

/**
 * Few enough steps, on float32 weights, that a kill, a resume and a straight run stay a small part of the timeout
 * on a busy machine: narrow weights build every session again after each evaluation, which costs more than the
 * steps on this tiny model. test/fault/train-sigkill.test.ts holds kill and resume on the default (bf16) weights.
 */
const STEPS = 30;
const trainArgs = [
  'train',
  '--model',
  tinyModel,
  '--device',
  'cpu',
  '--threads',
  '1',
  '--data',
  join(shared, 'data/cola/in_domain_train.tsv'),
  '--no-header',
  '--quoting',
  'none',
  '--limit',
  '200',
  '--validation',
  join(shared, 'data/cola/in_domain_dev.tsv'),
  '--validation-limit',
  '8',
  '--text-column',
  '3',
  '--label-column',
  '1',
  '--verbalizer',
  '0=unacceptable,1=acceptable',
  '--prompt-length',
  '4',
  '--batch-size',
  '4',
  '--steps',
  String(STEPS),
  '--eval-every',
  '15',
  '--checkpoint-every',
  '5',
  '--seed',
  '3',
  '--weights',
  'fp32',
];

/** The final JSON line of `sprout train`, with the fields these tests read. */
const lastJson = (r: Run) =>
  lastLine(r) as {
    prompt_file: string;
    task_embedding_file: string;
    run_id: number;
    status: string;
    steps: number;
    provider: string;
    first_loss: number;
    last_loss: number;
    best: unknown;
  };
const promptBytes = (file: string) => Buffer.from((readTensorFile(file).tensors.get(PROMPT_TENSOR)!.data as Float32Array).buffer);
const runIdOf = (r: Run) => /^run (\S+):/m.exec(r.stderr)![1];

/** A stderr hook that sends one Ctrl-C (SIGINT) when the run reports step `step`. */
function ctrlCAtStep(step: number): (line: string, kill: (s: NodeJS.Signals) => void) => void {
  let sent = false;
  return (line, kill) => {
    if (sent || !new RegExp(`^step ${step}/${STEPS}\\b`).test(line)) return;
    sent = true;
    kill('SIGINT');
  };
}

describe('sprout train (spawned)', () => {
  it('SIGKILL mid-run, then --resume: the same prompt, bit for bit, as an uninterrupted run', async () => {
    const straight = await sprout(trainArgs, mkdtempSync(join(tmpdir(), 'sprout-cli-')));
    expect(straight.code).toBe(0);
    const expected = lastJson(straight);
    expect([expected.status, expected.steps, expected.provider]).toEqual(['completed', STEPS, 'cpu']);

    const home = mkdtempSync(join(tmpdir(), 'sprout-cli-'));
    const killed = await sprout(trainArgs, home, (line, kill) => new RegExp(`^step 13/${STEPS}\\b`).test(line) && kill('SIGKILL'));
    expect(killed.signal).toBe('SIGKILL');
    const runId = runIdOf(killed);
    const runFolder = join(home, 'runs', runId);
    const saved = loadCheckpoint(runFolder)!;
    expect(saved.step).toBeGreaterThanOrEqual(10);
    expect(saved.step).toBeLessThan(STEPS);
    expect(existsSync(join(runFolder, 'result.json'))).toBe(false);
    // No temporary file is left beside the checkpoint that could be mistaken for it.
    expect(readdirSync(runFolder).filter((f) => f.includes(CHECKPOINT_FILE))).toEqual([CHECKPOINT_FILE]);

    const resumed = await sprout(['train', '--resume', runId], home);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`run ${runId} resumed at step ${saved.step}`));
    const result = lastJson(resumed);
    expect([String(result.run_id), result.status, result.steps]).toEqual([runId, 'completed', STEPS]);
    expect(promptBytes(result.prompt_file).equals(promptBytes(expected.prompt_file))).toBe(true);
    expect(promptBytes(result.task_embedding_file).equals(promptBytes(expected.task_embedding_file))).toBe(true);
    expect([result.first_loss, result.last_loss, result.best]).toEqual([expected.first_loss, expected.last_loss, expected.best]);
  });

  it('Ctrl-C (SIGINT) stops with a usable checkpoint and prints the run to resume; --resume finishes it', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sprout-cli-'));
    const stopped = await sprout(trainArgs, home, ctrlCAtStep(7));
    expect(stopped.code).toBe(130);
    const out = lastJson(stopped);
    expect(out.status).toBe('cancelled');
    // It said "resume with --resume", without the run to resume.
    expect(stopped.stderr).toContain(`resume with: sprout train --resume ${out.run_id}\n`);
    const saved = loadCheckpoint(join(home, 'runs', String(out.run_id)))!;
    expect(saved.step).toBe(out.steps);
    expect(saved.prompts[0].data).toHaveLength(4 * 64);
    expect(existsSync(out.prompt_file)).toBe(true);
    const resumed = lastJson(await sprout(['train', '--resume', String(out.run_id)], home));
    expect([resumed.status, resumed.steps]).toEqual(['completed', STEPS]);
  });

  it('--resume refuses a training file changed since the run started, and resumes once it is as it was', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sprout-cli-'));
    const data = join(home, 'cola-train.tsv');
    const original = readFileSync(join(shared, 'data/cola/in_domain_train.tsv'), 'utf8');
    writeFileSync(data, original);
    const args = trainArgs.map((a, i) => (trainArgs[i - 1] === '--data' ? data : a));
    const stopped = await sprout(args, home, ctrlCAtStep(7));
    expect(stopped.code).toBe(130);
    const runId = String(lastJson(stopped).run_id);
    // One label of the rows it trains on flipped, as an edit in a spreadsheet would.
    const edited = original.replace(/^(\S+\t)1(\t)/, '$10$2');
    expect(edited).not.toBe(original);
    writeFileSync(data, edited);
    const refused = await sprout(['train', '--resume', runId], home);
    expect([refused.code, refused.stderr.trim().split('\n').at(-1)]).toEqual([
      2,
      `sprout: The train data (${data}) is not what this run started with: resuming would train on other data than its first ` +
        'steps did. Put the file back as it was to resume, or start a new run on the data as it is now.',
    ]);
    writeFileSync(data, original);
    const resumed = lastJson(await sprout(['train', '--resume', runId], home));
    expect([resumed.status, resumed.steps]).toEqual(['completed', STEPS]);
  });

  it('reports user mistakes in one line with exit code 2', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sprout-cli-'));
    const numeric = await sprout(
      trainArgs.filter((a, i, all) => a !== '--verbalizer' && all[i - 1] !== '--verbalizer'),
      home,
    );
    expect(numeric.code).toBe(2);
    expect(numeric.stderr).toMatch(/labels include numbers \(0, 1\)/);
    expect(numeric.stderr).not.toMatch(/at .*\.js:\d+/);
    const unknown = await sprout(['train', '--resume', '77'], home);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/There is no run 77/);
    // An init that cannot start a run is refused by the plan too, before a run is recorded that could not be resumed.
    for (const init of ['bogus', 'prompt:5']) {
      const planned = await sprout([...trainArgs, '--init', init, '--dry-run'], home);
      expect([init, planned.code]).toEqual([init, 2]);
    }
    const started = await sprout([...trainArgs, '--init', 'prompt:5'], home);
    expect([started.code, started.stderr]).toEqual([2, expect.stringContaining('There is no prompt 5 in the library.')]);
    expect(started.stderr).not.toMatch(/^run \d+:/m);
  });
});

describe('--model (spawned)', () => {
  it('takes --model as the id `sprout model import` printed, and names a model it does not know', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sprout-cli-'));
    const imported = await sprout(['model', 'import', tinyModel], home);
    expect(imported.code).toBe(0);
    const { id } = lastLine(imported) as { id: string };
    expect(id).toMatch(/^local\//);
    const withModel = (model: string, steps = String(STEPS)) =>
      trainArgs.map((a, i, all) => (all[i - 1] === '--model' ? model : all[i - 1] === '--steps' ? steps : a));
    const run = await sprout(withModel(id, '2'), home);
    expect(run.code).toBe(0);
    expect([lastJson(run).status, lastJson(run).steps]).toEqual(['completed', 2]);
    const unknown = await sprout(withModel('local/no-such-model'), home);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/"local\/no-such-model" is neither a model in the library nor a folder\. See `sprout model list`/);

    // A registered model whose folder is moved away: listed as missing, and named with where it was.
    const copy = join(home, 'moved-model');
    cpSync(tinyModel, copy, { recursive: true });
    const { id: movedId } = lastLine(await sprout(['model', 'import', copy], home)) as { id: string };
    rmSync(copy, { recursive: true });
    const listed = lastLine(await sprout(['model', 'list', '--json'], home)) as { models: { id: string; present: boolean }[] };
    expect(listed.models.map((m) => [m.id, m.present])).toEqual([
      [id, true],
      [movedId, false],
    ]);
    expect((await sprout(['model', 'list'], home)).stdout).toContain(`${copy}  (files missing: moved or deleted)`);
    const moved = await sprout(withModel(movedId), home);
    expect(moved.code).toBe(2);
    expect(moved.stderr).toContain(`The files of model "${movedId}" are gone from ${copy}.`);
  });
});

describe('held-out rows that training saw (spawned)', () => {
  it('refuses validation that is the training rows again, and notes validation rows that repeat a training input, as overlapping --skip/--limit ranges give', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sprout-cli-'));
    const cola = join(shared, 'data/cola/in_domain_train.tsv');
    const ranges = { '--limit': '200', '--validation': cola, '--validation-limit': '100', '--steps': '1', '--eval-every': '1' };
    const args = trainArgs.map((a, i, all) => ranges[all[i - 1] as keyof typeof ranges] ?? a);
    const run = await sprout([...args, '--validation-skip', '150', '--eval-limit', '4', '--max-input-length', '12'], home);
    expect(run.code).toBe(0);
    // Rows 150–249 against rows 0–199, as Python's csv reads them: the 50 shared rows, and any repeated sentence.
    const sentences = pythonCsvRows(cola, { delimiter: '\t', quoting: 'none' }).map((r) => r[3]);
    const trained = new Set(sentences.slice(0, 200));
    const repeated = sentences.slice(150, 250).filter((s) => trained.has(s)).length;
    expect(repeated).toBeGreaterThanOrEqual(50);
    // The very same rows, through another path to the file: refused, as `sprout data import` refuses them.
    const link = join(home, 'same.tsv');
    symlinkSync(cola, link);
    const again = { ...ranges, '--validation': link, '--validation-limit': '200' };
    const same = await sprout(
      trainArgs.map((a, i, all) => again[all[i - 1] as keyof typeof again] ?? a),
      home,
    );
    expect([same.code, same.stderr]).toEqual([2, expect.stringContaining('The validation file is the training file, read the same way')]);
    // The cut inputs are counted as SentencePiece (Python) counts the sentences longer than 11 tokens and eos.
    const [trainCut, validationCut] = debianPython(
      `import csv, sys, sentencepiece
sp = sentencepiece.SentencePieceProcessor(model_file=sys.argv[2])
rows = [r[3] for r in csv.reader(open(sys.argv[1], newline=''), delimiter='\\t', quoting=csv.QUOTE_NONE)]
print(*(sum(len(sp.encode(t)) + 1 > 12 for t in part) for part in (rows[:200], rows[150:250])))`,
      cola,
      join(tinyModel, 'spiece.model'),
    )
      .split(' ')
      .map(Number);
    expect(trainCut).toBeGreaterThan(1);
    expect((lastLine(run) as { notes: string[] }).notes).toEqual(
      expect.arrayContaining([
        `${trainCut} training inputs were longer than the input limit and cut.`,
        `${validationCut} validation inputs were longer than the input limit and cut.`,
      ]),
    );
    expect((lastLine(run) as { notes: string[] }).notes).toContain(
      `${repeated} of the 100 validation rows repeat the text of a training row: scored on what training saw, the validation score reads higher than new text would.`,
    );
  });
});
