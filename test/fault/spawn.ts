import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot, shared } from '../train/fixtures.js';

export const cli = join(repoRoot, 'out/cli.js');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node out/cli.js ARGS` with SPROUT_HOME=home; `onLine` sees each stderr line and may signal the process (its pid is the third argument). */
export function sprout(
  args: string[],
  home: string,
  onLine?: (line: string, kill: (s: NodeJS.Signals) => void, pid: number) => void,
  env: NodeJS.ProcessEnv = {},
): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: { ...process.env, ...env, SPROUT_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const l of lines) onLine?.(l, (s) => child.kill(s), child.pid!);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export const lastJson = (r: Exit): Record<string, unknown> => JSON.parse(r.stdout.trim().split('\n').at(-1)!);

/**
 * A library prompt trained for one step on the tiny fixture, for tests in which a prompt must exist and its quality
 * does not matter: `train` with these data and task flags. Its library id.
 */
export async function quickPrompt(home: string, args: string[]): Promise<number> {
  const trained = await sprout(
    ['train', '--model', join(shared, 'fixtures/tiny-t5-v1_0'), '--steps', '1', '--device', 'cpu', ...args],
    home,
  );
  if (trained.code !== 0) throw new Error(`sprout train failed: ${trained.stderr}`);
  return (lastJson(trained) as { prompt_id: number }).prompt_id;
}
