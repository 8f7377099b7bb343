/**
 * Where onnxruntime really places a graph's nodes on a provider: a child process first creates the session with
 * session.disable_cpu_ep_fallback = 1 (refused if any node lands on the CPU, with the reason), then again with
 * fallback and verbose logs, whose node-placement lines name each node and its provider. A child, because the
 * log goes to the native stderr, which only a parent process can read.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveOrt } from '../../runtime/probe-child.js';
import type { ProviderName } from '../../runtime/types.js';

const CHILD_SOURCE = `
const [ortPath, provider, modelFile, weightsDir] = process.argv.slice(1);
const ort = require(ortPath);
const options = (extra, level) => ({ executionProviders: [provider], logSeverityLevel: level, logVerbosityLevel: 0,
  extra: { session: { model_external_initializers_file_folder_path: weightsDir, disable_prepacking: '1', ...extra } } });
(async () => {
  let strict = null;
  try {
    const s = await ort.InferenceSession.create(modelFile, options({ disable_cpu_ep_fallback: '1' }, 3));
    await s.release();
  } catch (error) {
    strict = String(error && error.message || error).split('\\n')[0];
  }
  process.stderr.write('\\n@@verbose@@\\n');
  ort.env.logLevel = 'verbose';
  let fallback = null;
  try {
    const s = await ort.InferenceSession.create(modelFile, options({}, 0));
    await s.release();
  } catch (error) {
    fallback = String(error && error.message || error).split('\\n')[0];
  }
  process.stdout.write(JSON.stringify({ strict, fallback }) + '\\n');
})();
`;

export interface PlacementReport {
  /** null when the session was created with CPU fallback disabled: every node is on the provider. */
  strictError: string | null;
  fallbackError: string | null;
  /** onnxruntime's node-placement lines (provider headers and the nodes under them). */
  placementLines: string[];
  cpuNodes: number | null;
}

export function placementOf(model: Uint8Array, provider: ProviderName, weightsDir: string): Promise<PlacementReport> {
  const dir = mkdtempSync(join(tmpdir(), 'sprout-placement-'));
  const file = join(dir, 'graph.onnx');
  writeFileSync(file, model);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', CHILD_SOURCE, resolveOrt(), provider, file, weightsDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 300_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      rmSync(dir, { recursive: true, force: true });
      let parsed: { strict: string | null; fallback: string | null };
      try {
        parsed = JSON.parse(stdout.trim().split('\n').pop() ?? '');
      } catch {
        parsed = { strict: `placement child exited with code ${code}`, fallback: `placement child exited with code ${code}` };
      }
      const verbose = stderr.split('@@verbose@@')[1] ?? '';
      // Each line: "<time> [V:onnxruntime:, session_state.cc:N VerifyEachNodeIsAssignedToAnEp] <text>", where the
      // text is a provider header ("Node(s) placed on [CPUExecutionProvider]. Number of nodes: 3") or a node.
      const marker = 'VerifyEachNodeIsAssignedToAnEp]';
      const placementLines = verbose
        .split('\n')
        .filter((l) => l.includes(marker))
        .map((l) => l.slice(l.indexOf(marker) + marker.length).trim());
      const cpuHeader = placementLines.find((l) => /placed on \[CPUExecutionProvider\]/.test(l));
      const count = cpuHeader ? Number(/Number of nodes: (\d+)/.exec(cpuHeader)?.[1] ?? NaN) : 0;
      resolve({
        strictError: parsed.strict,
        fallbackError: parsed.fallback,
        placementLines: placementLines.slice(0, 400),
        cpuNodes: Number.isFinite(count) ? count : null,
      });
    });
  });
}
