// Bundles the Node side: the CLI (also `sprout serve`), the engine worker, the Electron shell and its preload.
// Native and large packages stay external so that they load from node_modules at run time.
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
};

await Promise.all([
  build({ ...common, format: 'esm', entryPoints: { cli: 'main/cli.ts', worker: 'main/worker/entry.ts', bench: 'main/bench/index.ts' }, outdir: 'out', outExtension: { '.js': '.js' } }),
  // The shell is CommonJS: code that also runs as ESM falls back to __filename where import.meta is empty.
  build({ ...common, format: 'cjs', entryPoints: { electron: 'main/electron/index.ts' }, outdir: 'out', outExtension: { '.js': '.cjs' }, external: ['electron'], logOverride: { 'empty-import-meta': 'silent' } }),
  // A sandboxed preload may only require 'electron': bundle everything else into it.
  build({ ...common, packages: undefined, format: 'cjs', entryPoints: { preload: 'preload/index.ts' }, outdir: 'out', outExtension: { '.js': '.cjs' }, external: ['electron'] }),
]);
