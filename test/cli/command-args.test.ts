/**
 * Flags that may be repeated (--text-column, --remove) read to a person as lists: `--text-column sentence1 sentence2`
 * left parseArgs a stray "sentence2", reported as a positional argument the command does not take, and
 * `library tag 3 --remove old stale` added the tag "stale". The errors now say how to repeat the flag. A file named
 * without its flag, a flag or a command Sprout lacks, are answered with what was most likely meant.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommandArgs, UsageError, type ParsedArgs } from '../../main/cli/command.js';
import { commands } from '../../main/cli/commands.js';
import { onePositional } from '../../main/cli/data-shared.js';

const cbTest = resolve(__dirname, '../../../shared/data/cb/test.jsonl');
const command = (path: string) => commands.find((c) => c.path.join(' ') === path)!;
const parse = (path: string, argv: string[]) => parseCommandArgs(command(path), argv) as ParsedArgs;

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('accepted');
}

describe('a list given to a flag that is repeated instead', () => {
  it('names the flag and spells out the repeated form, where the command takes no positional arguments', () => {
    const argv = ['--model', 'm', '--dataset', '1', '--text-column', 'sentence1', 'sentence2', '--label-column', 'label'];
    expect(refusal(() => parse('train', argv))).toBe(
      "'sentence2' follows --text-column sentence1, which takes one value; repeat the flag for each: " +
        '--text-column sentence1 --text-column sentence2\nRun `sprout train --help` for usage.',
    );
    expect(refusal(() => parse('label', ['--text-column=a', 'b', 'c']))).toMatch(
      /^'b' follows --text-column a, .*: --text-column a --text-column b --text-column c\n/,
    );
  });

  it('is not invited by the help: a repeated flag is written "[--flag X]...", never "--flag X..." as if it took a list', () => {
    // `train --help` showed "--text-column C..." and "--text-column C ...", which the refusal above then corrected.
    const listLike = /--[a-z-]+ [A-Z][A-Za-z|]* ?(\.\.\.|…)/g;
    for (const { path, usage } of commands) expect(usage.match(listLike) ?? [], path.join(' ')).toEqual([]);
    for (const { path, usage, options } of commands) {
      for (const [name, option] of Object.entries(options))
        if ('multiple' in option && option.multiple) expect(usage, `${path.join(' ')} --${name}`).toMatch(`--${name} `);
    }
  });

  it('adds the hint where a command that takes one file got two', () => {
    const stray = parse('data import', ['rte.tsv', '--text-column', 'premise', 'hypothesis']);
    expect(stray.positionals).toEqual(['rte.tsv', 'hypothesis']);
    expect(refusal(() => onePositional(stray, 'data file', 'data import'))).toBe(
      "Give exactly one data file ('hypothesis' follows --text-column premise, which takes one value; repeat the flag " +
        'for each: --text-column premise --text-column hypothesis). Run `sprout data import --help` for usage.',
    );
    // The file after a flag's value is the ordinary form, and stays accepted.
    const fileLast = parse('data import', ['--text-column', 'premise', 'rte.tsv']);
    expect(onePositional(fileLast, 'data file', 'data import')).toBe('rte.tsv');
  });

  it('refuses `library tag ID --remove old stale` before it adds "stale"', async () => {
    const tag = command('library tag');
    await expect(tag.run(parse('library tag', ['3', '--remove', 'old', 'stale']))).rejects.toThrow(
      "'stale' follows --remove old, which takes one value; repeat the flag for each: --remove old --remove stale; tags to add go before --remove.",
    );
  });

  it("leaves parseArgs' own message where no repeatable flag comes before the stray word", () => {
    expect(refusal(() => parse('train', ['--model', 'm', 'extra']))).toBe(
      "Unexpected argument 'extra'. This command does not take positional arguments\nRun `sprout train --help` for usage.",
    );
    expect(refusal(() => parse('data list', ['extra']))).toMatch(/^Unexpected argument 'extra'/);
    expect(refusal(() => parse('data list', ['--nonsense']))).toMatch(/^Unknown option '--nonsense'/);
  });
});

describe('a file named bare where the command takes it by a flag', () => {
  it('says which flag takes it, before reading it as a second value of the flag before it', () => {
    expect(refusal(() => parse('label', ['--prompt', '1', cbTest]))).toBe(
      `'${cbTest}' is a file: give it as --input ${cbTest}\nRun \`sprout label --help\` for usage.`,
    );
    expect(refusal(() => parse('train', ['--model', 'm', cbTest]))).toMatch(/^'.*test\.jsonl' is a file: give it as --data /);
    expect(refusal(() => parse('evaluate', [cbTest, '--prompt', '1']))).toMatch(/give it as --data /);
    expect(refusal(() => parse('transfer rank', ['--model', 'm', cbTest]))).toMatch(/give it as --data /);
  });

  it('keeps the other messages where the word is no file, or the flag is given', () => {
    expect(refusal(() => parse('label', ['--prompt', '1', 'no-such-file.csv']))).toMatch(/^'no-such-file.csv' follows --prompt 1/);
    expect(refusal(() => parse('label', ['--input', cbTest, cbTest]))).toMatch(/^Unexpected argument/);
  });
});

describe('a flag that takes one value, given twice', () => {
  it('is refused, naming both values, where the last used to win without a word; repeatable flags still repeat', () => {
    expect(refusal(() => parse('label', ['--prompt', '1', '--input', cbTest, '--input', 'b.csv'])).split('\n')[0]).toBe(
      `--input was given twice ("${cbTest}" and "b.csv"); give it once.`,
    );
    expect(refusal(() => parse('train', ['--steps', '2', '--steps=-5'])).split('\n')[0]).toBe(
      '--steps was given twice ("2" and "-5"); give it once.',
    );
    expect(refusal(() => parse('data preview', [cbTest, '--no-header', '--no-header'])).split('\n')[0]).toBe(
      '--no-header was given twice; give it once.',
    );
    expect(parse('label', ['--prompt', '1', '--prompt', '2', '--input', cbTest]).values.prompt).toEqual(['1', '2']);
  });
});

describe('a flag the command does not have', () => {
  const unknown = (path: string, flag: string) => refusal(() => parse(path, [flag, 'x'])).split('\n')[0];

  it('names the one it most likely meant: a typo, a plural, a word left out or added', () => {
    expect(unknown('train', '--text-columns')).toBe("Unknown option '--text-columns'. Did you mean --text-column?");
    expect(unknown('train', '--stpes')).toBe("Unknown option '--stpes'. Did you mean --steps?");
    expect(unknown('train', '--verbaliser')).toBe("Unknown option '--verbaliser'. Did you mean --verbalizer?");
    expect(unknown('train', '--batch')).toBe("Unknown option '--batch'. Did you mean --batch-size?");
    expect(unknown('label', '--output-file')).toBe("Unknown option '--output-file'. Did you mean --output?");
    expect(unknown('data import', '--labelcolumn')).toBe("Unknown option '--labelcolumn'. Did you mean --label-column?");
  });

  it('names none where the nearest is another setting, or where two are as near', () => {
    // Four edits from --max-new-tokens, which sets the decoded length, not the input's.
    expect(unknown('label', '--max-input-tokens')).toBe("Unknown option '--max-input-tokens'.");
    expect(unknown('train', '--epochs')).toBe("Unknown option '--epochs'.");
    expect(unknown('data list', '--nonsense')).toBe("Unknown option '--nonsense'.");
    // --eval-every and --eval-steps both start with "eval".
    expect(unknown('train', '--eval')).toBe("Unknown option '--eval'.");
  });

  it('takes the same name for the input length in every command that cuts inputs', () => {
    for (const path of ['train', 'label', 'evaluate', 'transfer rank']) expect(command(path).options).toHaveProperty('max-input-length');
  });
});

describe('a command Sprout does not have (built CLI)', () => {
  const cli = resolve(__dirname, '../../out/cli.js');
  const run = (...argv: string[]) => spawnSync(process.execPath, [cli, ...argv], { encoding: 'utf8' });

  it('names the one it most likely meant, with its sub-command, and exits 2', () => {
    for (const [argv, meant] of [
      [
        ['trian', '--steps', '3'],
        ['trian', 'train'],
      ],
      [
        ['data', 'imprt', 'x.csv'],
        ['data imprt', 'data import'],
      ],
      [
        ['libary', 'list'],
        ['libary list', 'library list'],
      ],
      [['libary'], ['libary', 'library']],
      // `label` is a command too: the word is not taken for its stray argument.
      [
        ['label', 'reveiw', '3'],
        ['label reveiw', 'label review'],
      ],
    ] as const) {
      const r = run(...argv);
      expect([r.status, r.stderr], argv.join(' ')).toEqual([
        2,
        `sprout: unknown command "${meant[0]}". Did you mean \`sprout ${meant[1]}\`?\n`,
      ]);
    }
  });

  it('lists the commands where none is near', () => {
    const r = run('zzz');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^sprout: unknown command "zzz"\.\n\nSprout: train soft prompts/);
  });

  it('reads a negative number after a flag as its value, refused by the range the flag takes, not as an ambiguous flag', () => {
    const data = resolve(__dirname, '../../../shared/data/sst2/dev.tsv');
    for (const value of ['-1', '0'])
      expect(run('data', 'preview', data, '--rows', value).stderr).toBe(
        `sprout: --rows must be a whole number from 1 to 200, not "${value}".\n`,
      );
  });

  it('says what its exit statuses mean, and a refusal is status 2 with one line', () => {
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain(
      'Exit status: 0 done; 2 refused or failed, said in one "sprout:" line on stderr (a flag, a file, the network); ' +
        '1 an internal error, with its stack trace; 130 stopped by Ctrl-C.\n',
    );
    const refused = run('data', 'preview', '/nonexistent/reviews.csv');
    expect(refused.status).toBe(2);
    expect(refused.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/^sprout: /);
  });
});
