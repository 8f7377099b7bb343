/**
 * `--help` fits 120 columns although its flag lists are generated from the declared choices and grow with them:
 * the printed text is wrapped at word boundaries outside `[…]` groups, continuing where the hand-wrapped lines do,
 * and nothing but whitespace changes.
 */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commands } from '../../main/cli/commands.js';
import { HELP_WIDTH, wrapHelp } from '../../main/cli/help-text.js';

const root = resolve(__dirname, '../..');
const bare = (text: string) => text.replace(/\s+/g, '');

describe('wrapped help', () => {
  it("keeps every command's help within the width, changing only whitespace", () => {
    for (const command of commands) {
      const wrapped = wrapHelp(command.usage);
      const name = `sprout ${command.path.join(' ')}`;
      expect(
        wrapped.split('\n').filter((l) => l.length > HELP_WIDTH),
        name,
      ).toEqual([]);
      expect(bare(wrapped), name).toBe(bare(command.usage));
    }
  });

  it('continues a usage line after its command, and an option line under its first group, keeping groups whole', () => {
    const preview = wrapHelp(commands.find((c) => c.path.join(' ') === 'data preview')!.usage).split('\n');
    const after = 'Usage: sprout data preview '.length;
    expect(preview[1]).toMatch(new RegExp(`^ {${after}}\\[--`));
    const train = wrapHelp(commands.find((c) => c.path.join(' ') === 'train')!.usage).split('\n');
    const data = train.findIndex((l) => l.startsWith('  --data FILE ['));
    expect(train[data + 1]).toMatch(/^ {14}\[--/);
    // Each bracketed group opens and closes on one line, but for one longer than the room (the encodings after 14
    // spaces), broken after a `|` of its list.
    const listBroken = (i: number) => train[i].endsWith('|') || train[i - 1]?.endsWith('|');
    expect(train.filter((_, i) => listBroken(i))).toHaveLength(2);
    for (const [i, line] of train.entries()) if (!listBroken(i)) expect(line.split('[').length, line).toBe(line.split(']').length);
  });

  it('breaks a group longer than the room after a `|` of its list, and leaves a short text alone', () => {
    const line = `Usage: sprout x [--encoding ${Array.from({ length: 12 }, (_, i) => `windows-12${50 + i}`).join('|')}]`;
    const lines = wrapHelp(line).split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(HELP_WIDTH);
    expect(lines[0]).toMatch(/\|$/);
    expect(wrapHelp('short\n  text')).toBe('short\n  text');
  });

  it('runs what a break pushes out on into the next line of its paragraph, never past a new option or a blank line', () => {
    const long = `${'word '.repeat(22)}pushed outward`;
    expect(wrapHelp(`${long}\ngoes on here`).split('\n')).toEqual([`${'word '.repeat(22)}pushed`, 'outward goes on here']);
    expect(wrapHelp(`  ${long}\n  --next option`).split('\n')).toEqual([`  ${'word '.repeat(22)}pushed`, '  outward', '  --next option']);
    expect(wrapHelp(`${long}\n\nnew paragraph`).split('\n')).toEqual([`${'word '.repeat(22)}pushed`, 'outward', '', 'new paragraph']);
    // A run-on that overflows the next line in turn carries on down the paragraph.
    const paragraph = wrapHelp(`${long}\n${'x'.repeat(60)} ${'y'.repeat(55)}\nend`).split('\n');
    expect(paragraph.slice(1)).toEqual([`outward ${'x'.repeat(60)}`, `${'y'.repeat(55)} end`]);
  });

  it('keeps an option and the name of its value together (`--threads N`)', () => {
    const line = `  ${'a'.repeat(108)} --threads N  --precision auto`;
    expect(wrapHelp(line).split('\n')[1]).toBe('  --threads N  --precision auto');
  });

  it('leaves no short line inside a paragraph but those written so', () => {
    const indent = (l: string) => /^ */.exec(l)![0].length;
    for (const command of commands) {
      const written = new Set(command.usage.split('\n').map((l) => l.trim()));
      const lines = wrapHelp(command.usage).split('\n');
      const goesOn = (i: number) => lines[i + 1]?.trim() && indent(lines[i + 1]) === indent(lines[i]) && !/^\s*--/.test(lines[i + 1]);
      // The end of a choice list too long for any line (the encodings) is the one short line a break may leave.
      const short = lines.filter(
        (l, i) => l.trim() !== '' && l.trim().length < 25 && goesOn(i) && !written.has(l.trim()) && !lines[i - 1]?.endsWith('|'),
      );
      expect(short, `sprout ${command.path.join(' ')}`).toEqual([]);
    }
  });

  it('is what `sprout train --help` prints', () => {
    const printed = execFileSync(process.execPath, [join(root, 'out/cli.js'), 'train', '--help'], { encoding: 'utf8' });
    expect(printed).toBe(`${wrapHelp(commands.find((c) => c.path.join(' ') === 'train')!.usage.trimEnd())}\n`);
    expect(Math.max(...printed.split('\n').map((l) => l.length))).toBeLessThanOrEqual(HELP_WIDTH);
  });
});
