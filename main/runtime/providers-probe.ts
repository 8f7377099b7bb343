import { Graph } from '../graph/builder.js';
import * as op from '../graph/ops.js';
import { createSession, floatTensor, ort } from './session.js';
import type { DevicePreference, ProviderName } from './types.js';

/** The order `auto` tries: GPUs first, CPU always last (and always works). */
export const PROVIDER_ORDER: ProviderName[] = ['cuda', 'dml', 'coreml', 'webgpu', 'cpu'];

/** A small graph with the op kinds T5 leans on, whose result is known, to prove a provider really runs. */
function probeGraph(): Uint8Array {
  const g = new Graph('sprout_probe');
  const x = g.input('x', 'float32', [2, 3]);
  const w = g.constant([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1], 'float32', [4, 3]);
  g.output(op.softmax(op.linear(x, w)), 'y');
  return g.encode();
}

function probeOk(y: Float32Array): boolean {
  // x = [[1,2,3],[0,0,0]] -> logits [[1,2,3,6],[0,0,0,0]]
  const e = [1, 2, 3, 6].map(Math.exp);
  const sum = e.reduce((a, b) => a + b, 0);
  const expected = [...e.map((v) => v / sum), 0.25, 0.25, 0.25, 0.25];
  return expected.every((v, i) => Math.abs(v - y[i]) < 1e-4);
}

export interface ProviderChoice {
  provider: ProviderName;
  /** Why each provider tried before it was passed over. */
  skipped: { provider: ProviderName; reason: string }[];
}

const cache = new Map<DevicePreference, Promise<ProviderChoice>>();

/** Picks the first provider that creates a session and computes the probe correctly; a forced one must work. */
export function chooseProvider(preference: DevicePreference = 'auto'): Promise<ProviderChoice> {
  let choice = cache.get(preference);
  if (!choice) {
    choice = probeProviders(preference);
    cache.set(preference, choice);
  }
  return choice;
}

async function probeProviders(preference: DevicePreference): Promise<ProviderChoice> {
  const candidates = preference === 'auto' ? PROVIDER_ORDER : [preference];
  const skipped: ProviderChoice['skipped'] = [];
  const model = probeGraph();
  for (const provider of candidates) {
    try {
      const session = await createSession(model, { provider, threads: 1, strict: true });
      const out = await session.run({ x: floatTensor(new Float32Array([1, 2, 3, 0, 0, 0]), [2, 3]) });
      const ok = probeOk(out.y.data as Float32Array);
      await session.release();
      if (ok) return { provider, skipped };
      skipped.push({ provider, reason: 'computed a wrong result on the probe graph' });
    } catch (error) {
      skipped.push({ provider, reason: (error as Error).message.split('\n')[0] });
    }
  }
  const reasons = skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ');
  throw new Error(`no execution provider could run (${reasons})`);
}

export { ort };
