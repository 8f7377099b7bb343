/**
 * `sprout … | head -1`: a reader that closes the pipe before the command is done writing ends the command quietly,
 * as Unix tools end, instead of with an unhandled EPIPE and its stack trace. The pipe is closed before the first
 * write here, so every run meets it.
 */
import { spawn } from 'node:child_process';
import { expect, it } from 'vitest';
import { cli } from '../fault/spawn.js';

it('a closed stdout ends the command with its exit code and nothing on stderr', async () => {
  const child = spawn(process.execPath, [cli, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect([code, stderr]).toEqual([0, '']);
});
