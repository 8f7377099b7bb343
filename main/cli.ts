import { commands } from './cli/commands.js';
import { parseCommandArgs, UsageError, type Command } from './cli/command.js';
import { wrapHelp } from './cli/help-text.js';
import { asDiskFullError } from './disk-full.js';
import { asLibraryBusyError } from './library/db.js';
import { SproutError } from './errors.js';
import { dataDir } from './paths.js';

function overview(): string {
  const width = Math.max(...commands.map((c) => c.path.join(' ').length));
  const lines = commands.map((c) => `  sprout ${c.path.join(' ').padEnd(width)}  ${c.summary}`);
  return (
    `Sprout: train soft prompts on a frozen T5 and label text offline.\n\nUsage: sprout <command> [options]\n\nCommands:\n${lines.join('\n')}` +
    `\n\nRun \`sprout <command> --help\` for a command's options.\n`
  );
}

function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  let best: { command: Command; rest: string[] } | undefined;
  for (const command of commands) {
    const n = command.path.length;
    if (argv.length >= n && command.path.every((word, i) => argv[i] === word)) {
      if (!best || n > best.command.path.length) best = { command, rest: argv.slice(n) };
    }
  }
  return best;
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(overview());
    return 0;
  }
  const found = findCommand(argv);
  if (!found) {
    const group = commands.filter((c) => c.path[0] === argv[0]);
    if (group.length > 0 && (argv.length === 1 || argv[1] === '--help')) {
      process.stdout.write(group.map((c) => `  sprout ${c.path.join(' ')}  ${c.summary}`).join('\n') + '\n');
      return argv.length === 1 ? 2 : 0;
    }
    process.stderr.write(`sprout: unknown command "${argv.slice(0, 2).join(' ')}".\n\n${overview()}`);
    return 2;
  }
  const parsed = parseCommandArgs(found.command, found.rest);
  if (parsed === 'help') {
    process.stdout.write(`${wrapHelp(found.command.usage.trimEnd())}\n`);
    return 0;
  }
  return (await found.command.run(parsed)) ?? 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    error = asDiskFullError(error, dataDir()) ?? asLibraryBusyError(error) ?? error;
    if (error instanceof UsageError || error instanceof SproutError) {
      process.stderr.write(`sprout: ${error.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`sprout: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
