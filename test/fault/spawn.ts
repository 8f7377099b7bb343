import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../train/fixtures.js';

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
