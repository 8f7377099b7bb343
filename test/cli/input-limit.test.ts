/**
 * A prompt trained with --max-input-length N is evaluated and labels with inputs cut at N, as training's own
 * validation cut them, unless their own --max-input-length says otherwise: `sprout evaluate` then reports what training
 * reported for the same rows, and the label job's plan and truncation count name the same limit. Before, both
 * read 512 tokens: a prompt trained on AG News cut to 16 tokens scored 32.5 % in training and 55 % in evaluate.
 * Data: AG News test.csv in its original form (headerless, RFC 4180), on mini-t5-instruct, which reads topics.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../main/tokenizer/index.js';
import { lastJson, sprout } from '../fault/spawn.js';
import { shared } from '../train/fixtures.js';

const model = join(shared, 'fixtures/mini-t5-instruct');
const agNews = join(shared, 'data/ag_news/test.csv');
const LIMIT = 12;
const read = ['--no-header', '--text-column', '1', '--text-column', '2', '--label-column', '0', '--template', '{1} {2}'];

/** AG News rows 6000..6047 (held out from mini-t5-instruct's training), as Python's csv reads and writes them. */
function heldOut(file: string): string[][] {
  const script = `
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))[6000:6048]
csv.writer(open(sys.argv[2], 'w', newline='', encoding='utf-8')).writerows(rows)
print(json.dumps(rows))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, agNews, file], { encoding: 'utf8' })) as string[][];
}

describe('the input limit a prompt was trained with', () => {
  it('is where evaluate and label cut inputs, so evaluate reports what training reported on the same rows', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sprout-input-limit-'));
    const input = join(mkdtempSync(join(tmpdir(), 'sprout-input-limit-files-')), 'held-out.csv');
    const rows = heldOut(input);
    const trained = await sprout(
      [
        'train',
        '--model',
        model,
        '--device',
        'cpu',
        '--threads',
        '2',
        '--data',
        agNews,
        '--limit',
        '64',
        '--validation',
        input,
        ...read,
        '--verbalizer',
        '1=world,2=sports,3=business,4=science',
        '--init',
        'labels',
        '--steps',
        '2',
        '--eval-every',
        '2',
        '--max-input-length',
        String(LIMIT),
      ],
      home,
    );
    expect(trained.code, trained.stderr).toBe(0);
    const t = lastJson(trained) as { prompt_id: number; best: { step: number; rank_accuracy: number; macro_f1: number; mcc: number } };
    expect(t.best.step).toBe(2);
    const prompt = String(t.prompt_id);

    // The rows over the limit, counted with the model's tokenizer (eos included, as the limit counts it).
    const tokenizer = await loadTokenizer(model);
    const over = rows.filter((r) => tokenizer.encode(`${r[1]} ${r[2]}`).length > LIMIT).length;
    expect(over).toBeGreaterThan(0);
    const evaluated = await sprout(
      // No --label-column: the prompt's run read its gold labels from column 0 of a file, which evaluate takes.
      ['evaluate', '--prompt', prompt, '--data', input, '--no-header', '--device', 'cpu'],
      home,
    );
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const e = lastJson(evaluated) as {
      examples: number;
      accuracy: number;
      macro_f1: number;
      mcc: number;
      input_limit: number;
      truncated: number;
    };
    expect([e.examples, e.input_limit, e.truncated]).toEqual([48, LIMIT, over]);
    expect(evaluated.stderr).toContain(
      `note: ${over} rows were longer than ${LIMIT} tokens: each was scored on its first ${LIMIT - 1} tokens and the end-of-text token. --max-input-length N scores at another limit.`,
    );
    expect([e.accuracy, e.macro_f1, e.mcc].map((v) => v.toFixed(6))).toEqual(
      [t.best.rank_accuracy, t.best.macro_f1, t.best.mcc].map((v) => v.toFixed(6)),
    );

    const plan = await sprout(['label', '--prompt', prompt, '--input', input, '--dry-run', '--device', 'cpu'], home);
    expect((lastJson(plan) as { plan: { inputTokens: number } }).plan.inputTokens).toBe(LIMIT);
    const labelled = await sprout(['label', '--prompt', prompt, '--input', input, '--device', 'cpu'], home);
    expect(labelled.code, labelled.stderr).toBe(0);
    expect((lastJson(labelled) as { truncated: number }).truncated).toBe(over);
    expect(labelled.stderr).toContain(`longer than ${LIMIT} tokens`);
    // --max-input-length still wins.
    const wide = await sprout(
      ['label', '--prompt', prompt, '--input', input, '--dry-run', '--device', 'cpu', '--max-input-length', '512'],
      home,
    );
    expect((lastJson(wide) as { plan: { inputTokens: number } }).plan.inputTokens).toBe(512);
    const whole = await sprout(
      ['evaluate', '--prompt', prompt, '--data', input, '--no-header', '--device', 'cpu', '--max-input-length', '512'],
      home,
    );
    expect(whole.code, whole.stderr).toBe(0);
    const longest = Math.max(...rows.map((r) => tokenizer.encode(`${r[1]} ${r[2]}`).length));
    expect(longest).toBeLessThanOrEqual(512);
    expect(lastJson(whole)).toMatchObject({ examples: 48, input_limit: 512, truncated: 0 });
    expect(whole.stderr).not.toContain('longer than');
    // Labelling, evaluation and transfer probes take the limits training takes (RUN_LIMITS.maxInputLength).
    const tooShort = await sprout(['label', '--prompt', prompt, '--input', input, '--dry-run', '--max-input-length', '4'], home);
    expect([tooShort.code, tooShort.stderr]).toEqual([2, 'sprout: --max-input-length must be a whole number from 8 to 4096, not "4".\n']);
    const tooLong = await sprout(['evaluate', '--prompt', prompt, '--data', input, '--no-header', '--max-input-length', '5000'], home);
    expect([tooLong.code, tooLong.stderr]).toEqual([2, 'sprout: --max-input-length must be a whole number from 8 to 4096, not "5000".\n']);
  });
});
