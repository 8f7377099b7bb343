/**
 * Each list of choices is declared once (main/choices.ts): these tests fail on a hand-written copy in the source
 * (a zod enum, a union type, a help line, a menu's options) and on a command whose help and parsing disagree with
 * the declaration.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as choices from '../main/choices.js';
import { parseCommandArgs, UsageError } from '../main/cli/command.js';
import { commands } from '../main/cli/commands.js';
import { parseInit } from '../main/train/init.js';

const root = join(import.meta.dirname, '..');

/** Every exported list of values: an array of at least two strings. */
const lists = (Object.entries(choices) as [string, unknown][]).filter(
  (e): e is [string, readonly string[]] => Array.isArray(e[1]) && e[1].length >= 2 && e[1].every((v) => typeof v === 'string'),
);

/** Where values stand side by side for another reason than listing the choices: file, run (null: any), why. */
const NOT_COPIES: [string, string | null, string][] = [
  ['main/library/migrations.ts', null, 'a migration, once applied, keeps the CHECK constraints it was written with'],
  ['main/library/datasets.ts', 'validation, test, train', 'the order of preference of the split a dataset is scored on'],
  ['main/bench/sizes.ts', 'fp32, bf16, int8', 'the widths a benchmark row measures'],
];

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|svelte)$/.test(e.name))
    .map((e) => relative(root, join(e.parentPath, e.name)));
}

/** Runs of values written side by side: quoted literals joined by `,` or `|`, a|b|c words, a select's option values. */
export function valueRuns(text: string): string[][] {
  const runs: string[][] = [];
  const literal = /(['"])([^'"\\\n]*)\1/g;
  let run: string[] = [];
  let end = -1;
  for (const m of text.matchAll(literal)) {
    if (end >= 0 && /^\s*[,|]\s*$/.test(text.slice(end, m.index))) run.push(m[2]);
    else {
      if (run.length > 1) runs.push(run);
      run = [m[2]];
    }
    end = m.index + m[0].length;
  }
  if (run.length > 1) runs.push(run);
  for (const m of text.matchAll(/[\w:.-]+(?:\|[\w:.-]+)+/g)) runs.push(m[0].split('|'));
  for (const m of text.matchAll(/<select[\s\S]*?<\/select>/g)) runs.push([...m[0].matchAll(/<option value="([^"]*)"/g)].map((o) => o[1]));
  return runs;
}

/** A run that spells out a declared list: at least three of its values (both, for a list of two). */
function copiesOf(run: string[], list: readonly string[]): boolean {
  return new Set(run.filter((v) => list.includes(v))).size >= Math.min(3, list.length);
}

describe('each list of choices is declared once', () => {
  it('finds the lists to check', () => {
    expect(lists.map(([name]) => name)).toEqual(
      expect.arrayContaining([
        'DEVICE_PREFERENCES',
        'PRECISIONS',
        'WEIGHTS_CHOICES',
        'METRIC_REQUESTS',
        'OPTIMIZER_KINDS',
        'INIT_KINDS',
        'DATA_FORMATS',
        'OUTPUT_FORMATS',
      ]),
    );
  });

  it('recognises the forms a copy takes', () => {
    const copies = (text: string) => valueRuns(text).filter((run) => lists.some(([, list]) => copiesOf(run, list)));
    expect(copies("z.enum(['adafactor', 'adam', 'adamw'])")).toHaveLength(1);
    expect(copies("type Q = 'rfc4180' | 'none';")).toHaveLength(1);
    expect(copies('usage: `--device auto|gpu|cpu`')).toHaveLength(1);
    expect(
      copies('<select><option value="fp32">a</option><option value="bf16">b</option>\n<option value="int8">c</option></select>'),
    ).toHaveLength(1);
    expect(copies("const pair = ['fp32', 'bf16']; const other = { a: 'csv', b: 'tsv', c: 'json' };")).toHaveLength(0);
  });

  it('has no hand-written copy in main/, preload/ or renderer/', () => {
    const found: string[] = [];
    for (const file of ['main', 'preload', 'renderer'].flatMap(sources)) {
      if (file === 'main/choices.ts') continue;
      for (const run of valueRuns(readFileSync(join(root, file), 'utf8'))) {
        if (NOT_COPIES.some(([f, r]) => f === file && (r === null || r === run.join(', ')))) continue;
        for (const [name, list] of lists) if (copiesOf(run, list)) found.push(`${file}: ${run.join(', ')} (declared as ${name})`);
      }
    }
    expect(found).toEqual([]);
  });
});

describe('every command takes its choices from the declarations', () => {
  const withChoices = commands.filter((c) => c.choices?.length);

  it('shows each choice flag with exactly the declared values, and no other list of values', () => {
    const initHelp = `--init ${choices.INIT_FORMS.join('|')}`;
    for (const command of commands) {
      const helps = (command.choices ?? []).map((c) => c.help);
      for (const help of helps) expect(command.usage, `sprout ${command.path.join(' ')}`).toContain(help);
      const lines = [...command.usage.matchAll(/--[a-z0-9-]+ [\w:.-]+(?:\|[\w:.-]+)+/g)].map((m) => m[0]);
      expect(
        lines.filter((l) => !helps.includes(l) && l !== initHelp && !/^--prompt ID\|NAME$/.test(l)),
        `sprout ${command.path.join(' ')}`,
      ).toEqual([]);
    }
    expect(withChoices.map((c) => c.path.join(' '))).toEqual(
      expect.arrayContaining(['train', 'evaluate', 'label', 'label export', 'transfer rank', 'data import']),
    );
  });

  it('accepts every declared value and refuses any other, naming the values', () => {
    for (const command of withChoices) {
      for (const flag of command.choices!) {
        for (const value of flag.values)
          expect(flag.read((parseCommandArgs(command, [`--${flag.name}`, value]) as { values: Record<string, string> }).values)).toBe(
            value,
          );
        const refused = (() => {
          try {
            parseCommandArgs(command, [`--${flag.name}`, 'nonsense']);
          } catch (error) {
            return error;
          }
        })();
        expect(refused).toBeInstanceOf(UsageError);
        expect((refused as Error).message).toBe(`--${flag.name} must be one of ${flag.values.join(', ')}, not "nonsense".`);
      }
    }
  });

  it('train takes every device, precision, weights, optimiser and metric the contract does', () => {
    const train = commands.find((c) => c.path.join(' ') === 'train')!;
    const taken = Object.fromEntries(train.choices!.map((c) => [c.name, c.values]));
    expect(taken).toMatchObject({
      device: choices.DEVICE_PREFERENCES,
      precision: choices.PRECISIONS,
      weights: choices.WEIGHTS_CHOICES,
      optimizer: choices.OPTIMIZER_KINDS,
      metric: choices.METRIC_REQUESTS,
    });
  });

  it('parses every init form help names', () => {
    for (const form of choices.INIT_FORMS) expect(parseInit(form).kind).toBe(form.split(':')[0]);
    expect(() => parseInit('prompt')).toThrow(/Use one of vocab, labels, random, text:WORDS, prompt:ID/);
  });
});
