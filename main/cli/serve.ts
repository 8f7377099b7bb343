import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SproutError } from '../errors.js';
import { hostEngine } from '../ipc/host.js';
import { startServe } from '../ipc/serve.js';
import { dataDir } from '../paths.js';
import type { Command } from './command.js';

function parsePort(value: string | undefined): number {
  if (value === undefined) return 0;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535)
    throw new SproutError('bad-port', `--port ${value} is not a port number.`, {
      hint: 'Use 1-65535, or leave it out to take a free port.',
    });
  return port;
}

export const serveCommand: Command = {
  path: ['serve'],
  summary: 'Serve the Sprout app to a browser on this machine (127.0.0.1 only, token required)',
  usage: `Usage: sprout serve [--port N]

Serves the app and its engine at http://127.0.0.1:PORT and prints the one URL to open, which carries the
access token. Only this machine can connect; every request must carry the token. Stop with Ctrl+C.

Options:
  --port N   Port to listen on (default: a free port)
`,
  options: { port: { type: 'string' } },
  async run({ values }) {
    const port = parsePort(values.port as string | undefined);
    const rendererDir = fileURLToPath(new URL('./renderer/', import.meta.url));
    if (!existsSync(rendererDir))
      throw new SproutError('not-built', `The app is not built (${rendererDir} is missing).`, {
        hint: 'Run `npm run build`, then try again.',
      });
    const server = await startServe({ rendererDir, port }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE')
        throw new SproutError('port-in-use', `Port ${port} is already in use.`, { hint: 'Choose another with --port, or leave it out.' });
      throw error;
    });
    let engine: ReturnType<typeof hostEngine>;
    try {
      engine = hostEngine({
        dataDir: dataDir(),
        workerScript: fileURLToPath(new URL('./worker.js', import.meta.url)),
        shell: 'serve',
        emit: server.emit,
        log: (error) => process.stderr.write(`sprout serve: ${(error as Error)?.stack ?? String(error)}\n`),
      });
    } catch (error) {
      // The port is open: left so, the process would outlive its error, serving nothing.
      await server.close();
      throw error;
    }
    server.attach(engine.dispatch);
    // Listen for the stop signal before announcing the URL: whoever reads the line may signal at once.
    const stopped = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    process.stdout.write(`Sprout is serving at ${server.url}\n`);
    await stopped;
    await Promise.all([server.close(), engine.close()]);
  },
};
