import { parseArgs, type ParseArgsConfig } from 'node:util';

/** One `sprout` sub-command. `path` is the words after `sprout`, e.g. ['data', 'import']. */
export interface Command {
  path: string[];
  summary: string;
  /** Usage text printed by --help; starts with the usage line. */
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Whether positional arguments are accepted. */
  positionals?: boolean;
  run(args: ParsedArgs): Promise<number | void>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/** A mistake the user can fix: printed as one line without a stack trace, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseCommandArgs(command: Command, argv: string[]): ParsedArgs | 'help' {
  if (argv.includes('--help') || argv.includes('-h')) return 'help';
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: command.options,
      allowPositionals: command.positionals ?? false,
      strict: true,
    });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nRun \`sprout ${command.path.join(' ')} --help\` for usage.`);
  }
}

/** Prints a value as one line of JSON on stdout, the form scripts parse. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
