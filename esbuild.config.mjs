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
  build({
    ...common,
    format: 'esm',
    entryPoints: { cli: 'main/cli.ts', worker: 'main/worker/entry.ts', bench: 'main/bench/index.ts' },
    outdir: 'out',
    outExtension: { '.js': '.js' },
  }),
  // The shell is CommonJS: code that also runs as ESM falls back to __filename where import.meta is empty.
  build({
    ...common,
    format: 'cjs',
    entryPoints: { electron: 'main/electron/index.ts' },
    outdir: 'out',
    outExtension: { '.js': '.cjs' },
    external: ['electron'],
    logOverride: { 'empty-import-meta': 'silent' },
  }),
  // The device check travels to a bare GPU machine without node_modules: everything but onnxruntime-node is inside.
  build({
    ...common,
    packages: undefined,
    external: ['onnxruntime-node'],
    format: 'esm',
    entryPoints: { 'device-check': 'main/bench/device-check.ts' },
    outdir: 'out',
    banner: { js: "import { createRequire as sproutRequire } from 'node:module'; const require = sproutRequire(import.meta.url);" },
  }),
  // A sandboxed preload may only require 'electron': bundle everything else into it.
  build({
    ...common,
    packages: undefined,
    format: 'cjs',
    entryPoints: { preload: 'preload/index.ts' },
    outdir: 'out',
    outExtension: { '.js': '.cjs' },
    external: ['electron'],
  }),
]);
