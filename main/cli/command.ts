import { parseArgs, type ParseArgsConfig } from 'node:util';

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
  run(args: ParsedArgs): Promise<number | void>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
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
  let parsed: ParsedArgs;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...command.options, ...Object.fromEntries(choices.map((c) => [c.name, { type: 'string' as const }])) },
      allowPositionals: command.positionals ?? false,
      strict: true,
    });
    parsed = { values: values as ParsedArgs['values'], positionals };
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nRun \`sprout ${command.path.join(' ')} --help\` for usage.`);
  }
  for (const choice of choices) choice.read(parsed.values);
  return parsed;
}

/** Prints a value as one line of JSON on stdout, the form scripts parse. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
