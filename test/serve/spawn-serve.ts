import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../..');
export const cli = join(repoRoot, 'out/cli.js');

export interface RunningServe {
  url: string;
  base: string;
  port: number;
  token: string;
  home: string;
  child: ChildProcessWithoutNullStreams;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far (the stacks of internal errors among it). */
  stderr(): string;
  stop(): Promise<number | null>;
}

/** Starts `node out/cli.js serve` with a fresh SPROUT_HOME and waits for its one line. */
export function spawnServe(args: string[] = []): Promise<RunningServe> {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first (npm test does).`);
  const home = mkdtempSync(join(tmpdir(), 'sprout-serve-'));
  const child = spawn(process.execPath, [cli, 'serve', ...args], { env: { ...process.env, SPROUT_HOME: home }, cwd: repoRoot });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`sprout serve printed nothing in 20 s; stderr: ${err}`)), 20_000);
    child.on('exit', (code) => reject(new Error(`sprout serve exited with ${code}: ${err}`)));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /^Sprout is serving at (http:\/\/127\.0\.0\.1:(\d+))\/\?token=([A-Za-z0-9_-]+)\n/.exec(out);
      if (!match) return;
      clearTimeout(timer);
      resolvePromise({
        url: `${match[1]}/?token=${match[3]}`,
        base: match[1],
        port: Number(match[2]),
        token: match[3],
        home,
        child,
        stdout: () => out,
        stderr: () => err,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done(child.exitCode);
            child.once('exit', (code) => done(code));
            child.kill('SIGTERM');
          }),
      });
    });
  });
}
