import { statSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { nearestName } from './nearest-name.js';

/** One `sprout` sub-command. `path` is the words after `sprout`, e.g. ['data', 'import']. */
export interface Command {
  path: string[];
  summary: string;
  /** Usage text printed by --help; starts with the usage line. */
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Flags that take one of a declared list (main/cli/flags.ts): checked before `run`, their help shown in `usage`. */
  choices?: readonly ChoiceFlag[];
  /** Whether positional arguments are accepted. */
  positionals?: boolean;
  /** The flag that names the file a command without positionals reads (`input` for `sprout label --input FILE`). */
  fileFlag?: string;
  run(args: ParsedArgs): Promise<number | void>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  /**
   * Where a positional argument comes right after the value of a flag that may be repeated, how to repeat the flag
   * (listedAfterFlag): that word may have been meant for the flag, as in `--text-column premise hypothesis`.
   */
  listHint?: string;
}

/** A flag that takes one of `values` (made by main/cli/flags.ts's choiceFlag). */
export interface ChoiceFlag<T extends string = string> {
  /** Without the dashes, e.g. "device". */
  readonly name: string;
  readonly values: readonly T[];
  /** `--device auto|gpu|…`, as usage texts show it. */
  readonly help: string;
  /** The value given, checked; undefined when the flag is absent. */
  read(values: ParsedArgs['values']): T | undefined;
}

/** A mistake the user can fix: printed as one line without a stack trace, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseCommandArgs(command: Command, argv: string[]): ParsedArgs | 'help' {
  if (argv.includes('--help') || argv.includes('-h')) return 'help';
  const choices = command.choices ?? [];
  const options = { ...command.options, ...Object.fromEntries(choices.map((c) => [c.name, { type: 'string' as const }])) };
  const usage = `Run \`sprout ${command.path.join(' ')} --help\` for usage.`;
  const { values, positionals, tokens } = (() => {
    try {
      return parseArgs({ args: negativeValuesJoined(argv, options), options, allowPositionals: true, strict: true, tokens: true });
    } catch (error) {
      const unknown = /^Unknown option '([^']+)'/.exec((error as Error).message)?.[1];
      const message = unknown === undefined ? (error as Error).message : unknownFlagMessage(unknown, Object.keys(options));
      throw new UsageError(`${message}\n${usage}`);
    }
  })();
  refuseRepeated(tokens, options, usage);
  const listHint = listedAfterFlag(tokens, options);
  if (!command.positionals && positionals.length > 0) {
    const plain = `Unexpected argument '${positionals[0]}'. This command does not take positional arguments`;
    throw new UsageError(`${fileGivenBare(command, positionals, values) ?? listHint ?? plain}\n${usage}`);
  }
  const args: ParsedArgs = { values: values as ParsedArgs['values'], positionals, listHint };
  for (const choice of choices) choice.read(args.values);
  return args;
}

/**
 * A flag that takes one value, given twice (`--input a.csv --input b.csv`): parseArgs keeps the last, so the other was
 * dropped without a word, where the person may have meant both.
 */
function refuseRepeated(
  tokens: ReturnType<typeof parseArgs>['tokens'] & object,
  options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>,
  usage: string,
): void {
  const seen = new Map<string, string | undefined>();
  for (const token of tokens) {
    if (token.kind !== 'option' || options[token.name]?.multiple) continue;
    if (seen.has(token.name)) {
      const values = [seen.get(token.name), token.value].filter((v) => v !== undefined).map((v) => `"${v}"`);
      const given = values.length === 2 ? ` (${values.join(' and ')})` : '';
      throw new UsageError(`--${token.name} was given twice${given}; give it once.\n${usage}`);
    }
    seen.set(token.name, token.value);
  }
}

/**
 * `--steps -5` as `--steps=-5`: a negative number is no flag, and read as one, parseArgs calls the flag's value
 * "ambiguous" and suggests `--steps=-XYZ`, where the flag's own range check says what it takes.
 */
function negativeValuesJoined(argv: string[], options: Record<string, { type: 'string' | 'boolean' }>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = /^--([^=]+)$/.exec(argv[i])?.[1];
    if (name !== undefined && options[name]?.type === 'string' && /^-\d/.test(argv[i + 1] ?? '')) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

type Token = NonNullable<ReturnType<typeof parseArgs>['tokens']>[number];

/**
 * `--text-column a b` reads as a list to a person, but a flag takes one value and "b" becomes a positional argument:
 * refused by a command that takes none, or read as something else (a tag to add after `--remove old`). Finds the
 * first such word and says how to repeat the flag.
 */
function listedAfterFlag(tokens: Token[], options: Command['options']): string | undefined {
  for (let i = 0; i < tokens.length; i++) {
    const flag = tokens[i];
    if (flag.kind !== 'option' || flag.value === undefined || options[flag.name]?.multiple !== true) continue;
    const words = [flag.value];
    for (let j = i + 1; j < tokens.length; j++) {
      const next = tokens[j];
      if (next.kind !== 'positional') break;
      words.push(next.value);
    }
    if (words.length > 1) {
      const repeated = words.map((w) => `--${flag.name} ${w}`).join(' ');
      return `'${words[1]}' follows --${flag.name} ${words[0]}, which takes one value; repeat the flag for each: ${repeated}`;
    }
  }
  return undefined;
}

/**
 * `sprout label --prompt 1 reviews.csv`: a file named bare, where the command takes it by a flag. Said as such, since
 * the word would otherwise be taken for a second value of the flag before it.
 */
function fileGivenBare(command: Command, positionals: string[], values: Record<string, unknown>): string | undefined {
  const flag = command.fileFlag;
  if (flag === undefined || values[flag] !== undefined) return undefined;
  const file = positionals.find((word) => statSync(word, { throwIfNoEntry: false })?.isFile());
  return file === undefined ? undefined : `'${file}' is a file: give it as --${flag} ${file}`;
}

/**
 * "Unknown option '--text-columns'. Did you mean --text-column?" Node's own message advises `-- "--flag"` for a
 * positional argument that starts with a dash, which is seldom what happened.
 */
function unknownFlagMessage(flag: string, names: readonly string[]): string {
  const near = nearestName(flag.replace(/^-+/, ''), names);
  return `Unknown option '${flag}'.${near === undefined ? '' : ` Did you mean --${near}?`}`;
}

/** Prints a value as one line of JSON on stdout, the form scripts parse. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
