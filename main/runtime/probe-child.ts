/**
 * Probes one GPU execution provider in a child process. onnxruntime's GPU providers print to the native stderr
 * while they look for a device (Dawn's "Couldn't load Vulkan" stack trace, CUDA loader messages), which
 * ort.env.logLevel cannot silence: in a child, that output is captured and summarised into the reason instead of
 * reaching the user's terminal before their answer. The child also keeps a provider that crashes while loading
 * from taking the caller down.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import type { ProviderName } from './types.js';
import { clipped } from '../wording.js';

/** Runs as `node -e` (CommonJS): loads onnxruntime-node, runs the probe graph on one provider, prints one JSON line. */
const CHILD_SOURCE = `
const [ortPath, provider, model] = process.argv.slice(1);
const ort = require(ortPath);
ort.env.logLevel = 'fatal';
const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
(async () => {
  try {
    const session = await ort.InferenceSession.create(Buffer.from(model, 'base64'), { executionProviders: [provider], logSeverityLevel: 4 });
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(1, 2, 3, 0, 0, 0), [2, 3]) });
    say({ ok: true, y: Array.from(out.y.data) });
  } catch (error) {
    say({ ok: false, reason: String((error && error.message) || error).split('\\n')[0] });
  }
})();
`;

export type ChildProbe = { ok: true; y: number[]; stderr: string } | { ok: false; reason: string; stderr: string };

/** Long enough for a cold GPU driver to initialise; a probe that hangs past it is a failed probe. */
const PROBE_TIMEOUT_MS = 120_000;

/** onnxruntime-node as this module resolves it; the CommonJS bundle (Electron's shell) has no import.meta.url. */
export function resolveOrt(request = 'onnxruntime-node'): string {
  return createRequire(import.meta.url ?? __filename).resolve(request);
}

export function probeInChild(provider: ProviderName, model: Uint8Array): Promise<ChildProbe> {
  const ortPath = resolveOrt();
  return new Promise((resolveProbe) => {
    const child = spawn(process.execPath, ['-e', CHILD_SOURCE, ortPath, provider, Buffer.from(model).toString('base64')], {
      // Inside Electron, execPath is Electron itself: run it as plain Node.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: PROBE_TIMEOUT_MS,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => resolveProbe({ ok: false, reason: `could not start the probe process (${error.message})`, stderr }));
    child.on('close', (code, signal) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolveProbe({ ...(JSON.parse(line) as { ok: true; y: number[] } | { ok: false; reason: string }), stderr });
      } catch {
        resolveProbe({
          ok: false,
          reason: signal ? `the probe process was stopped (${signal})` : `the probe process exited with code ${code}`,
          stderr,
        });
      }
    });
  });
}

/** The first line of a provider's native output that says something, for a one-line reason. */
export function summariseNativeOutput(stderr: string): string | null {
  const line = stderr
    .split('\n')
    .map((l) => l.trim().replace(/^Warning: /, ''))
    .find((l) => l.length > 0 && !l.startsWith('at '));
  if (!line) return null;
  return clipped(line, 158);
}

/**
 * onnxruntime's failed checks read "/onnxruntime_src/…/file.cc:100 function(args) condition was false. What
 * happened": a user needs the last part only.
 */
export function tidyReason(message: string): string {
  return message.replace(/^\/\S+:\d+ .* was false\. /, '').trim();
}
