import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot } from '../serve/spawn-serve.js';

// electron-builder's own loader and schema check (the same calls `electron-builder` makes before packaging).
const require = createRequire(join(repoRoot, 'package.json'));
const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  getConfig(projectDir: string, configPath: string | null, fromOptions: null): Promise<Record<string, any>>;
  validateConfiguration(config: Record<string, unknown>, logger: unknown): Promise<void>;
};
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };

it('electron-builder.yml passes electron-builder schema check and targets every platform', async () => {
  const config = await getConfig(repoRoot, null, null);
  await validateConfiguration(config, new DebugLogger(false));
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  expect(config.productName).toBe('Sprout');
  expect(config.electronVersion).toBe(pkg.optionalDependencies.electron);
  expect(config.linux.target).toEqual(['AppImage', 'deb']);
  expect(config.win.target).toEqual(['nsis']);
  expect(config.mac.target).toEqual(['dmg']);
  expect(config.asarUnpack.join(' ')).toMatch(/onnxruntime-node.*better-sqlite3/);
  expect(JSON.stringify(config.files)).toMatch(/"out\/\*\*\/\*".*"!\*\*\/test\/\*\*"/);
  await expect(
    validateConfiguration({ ...config, linux: { ...config.linux, targets: ['AppImage'] } }, new DebugLogger(false)),
  ).rejects.toThrow(/configuration/);
});
