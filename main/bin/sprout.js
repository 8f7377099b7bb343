#!/usr/bin/env node
// The `sprout` command: runs the bundled CLI (built by `npm run build`, which `npm install` runs via prepare).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cli = fileURLToPath(new URL('../../out/cli.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write('sprout: the CLI is not built yet. Run `npm run build` in the project folder, then try again.\n');
  process.exit(1);
}
await import(pathToFileURL(cli).href);
