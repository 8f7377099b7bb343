#!/usr/bin/env node
// `npm start`: opens the Electron app when Electron's binary is installed; otherwise says how to use Sprout
// in a browser instead. Electron is an optional dependency because its binary is a separate download.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dist = fileURLToPath(new URL('../../node_modules/electron/dist', import.meta.url));

if (!existsSync(dist)) {
  process.stderr.write(
    'Sprout: Electron is not installed here (node_modules/electron/dist is missing), so the desktop window cannot open.\n' +
      'Its binary is downloaded by `npm install` when the network allows it; try `npm install electron` again later.\n\n' +
      'Meanwhile, use Sprout in your browser:\n\n    npm run serve\n\nand open the URL it prints.\n',
  );
  process.exit(1);
}
if (!existsSync(new URL('../../out/electron.cjs', import.meta.url))) {
  process.stderr.write('Sprout: the app is not built yet. Run `npm run build`, then `npm start`.\n');
  process.exit(1);
}

// The electron package's main export is the path of its binary.
const electron = createRequire(import.meta.url)('electron');
const child = spawn(electron, [root], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
