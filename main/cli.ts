import { commands } from './cli/commands.js';
import { parseCommandArgs, UsageError, type Command } from './cli/command.js';
import { wrapHelp } from './cli/help-text.js';
import { nearestName } from './cli/nearest-name.js';
import { asDiskFullError } from './disk-full.js';
import { asNoAccess } from './output-path.js';
import { asLibraryBusyError } from './library/db.js';
import { SproutError } from './errors.js';
import { dataDir } from './paths.js';

function overview(): string {
  const width = Math.max(...commands.map((c) => c.path.join(' ').length));
  const lines = commands.map((c) => `  sprout ${c.path.join(' ').padEnd(width)}  ${c.summary}`);
  return (
    `Sprout: train soft prompts on a frozen T5 and label text offline.\n\nUsage: sprout <command> [options]\n\nCommands:\n${lines.join('\n')}` +
    `\n\nRun \`sprout <command> --help\` for a command's options.\n` +
    `Exit status: 0 done; 2 refused or failed, said in one "sprout:" line on stderr (a flag, a file, the network); ` +
    `1 an internal error, with its stack trace; 130 stopped by Ctrl-C.\n`
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

/**
 * The command `argv` most likely meant: a group's sub-command (`data imprt`, `label reveiw`), else a command's first
 * word, with its sub-command where it has them (`trian`, `libary list`).
 */
function nearestCommand(argv: string[]): string[] | undefined {
  const group = commands.filter((c) => c.path.length > 1 && c.path[0] === argv[0]);
  if (group.length > 0 && argv[1] !== undefined && !argv[1].startsWith('-')) {
    const sub = nearestName(
      argv[1],
      group.map((c) => c.path[1]),
    );
    return sub === undefined ? undefined : [argv[0], sub];
  }
  if (group.length > 0) return argv[1] === undefined ? [argv[0]] : undefined;
  const first = nearestName(argv[0], [...new Set(commands.map((c) => c.path[0]))]);
  if (first === undefined) return undefined;
  return commands.some((c) => c.path.join(' ') === first) ? [first] : nearestCommand([first, ...argv.slice(1)]);
}

function didYouMean(argv: string[], meant: string[]): string {
  return `sprout: unknown command "${argv.slice(0, meant.length).join(' ')}". Did you mean \`sprout ${meant.join(' ')}\`?\n`;
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
    const near = nearestCommand(argv);
    process.stderr.write(near ? didYouMean(argv, near) : `sprout: unknown command "${argv.slice(0, 2).join(' ')}".\n\n${overview()}`);
    return 2;
  }
  // `sprout label reveiw`: `label` is a command too, which would refuse "reveiw" as a stray argument.
  const sub = found.command.positionals ? undefined : nearestCommand(argv);
  if (sub && sub.length > found.command.path.length) {
    process.stderr.write(didYouMean(argv, sub));
    return 2;
  }
  const parsed = parseCommandArgs(found.command, found.rest);
  if (parsed === 'help') {
    process.stdout.write(`${wrapHelp(found.command.usage.trimEnd())}\n`);
    return 0;
  }
  return (await found.command.run(parsed)) ?? 0;
}

// `sprout library list | head -1`: the reader has all it wanted and closed the pipe. The output was wanted only that
// far, so the command ends quietly, as Unix tools do, instead of with an unhandled EPIPE and its stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    error = asDiskFullError(error, dataDir()) ?? asNoAccess(error) ?? asLibraryBusyError(error) ?? error;
    if (error instanceof UsageError || error instanceof SproutError) {
      process.stderr.write(`sprout: ${error.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`sprout: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
