import { Graph } from '../graph/builder.js';
import * as op from '../graph/ops.js';
import { createSession, floatTensor } from '../runtime/session.js';
import { chooseProvider } from '../runtime/providers-probe.js';
import type { DevicePreference } from '../runtime/types.js';
import { median, time } from './measure.js';

/** onnxruntime's own MatMul throughput for an n×n×n product on this machine: the ceiling a train step is measured against. */
export async function matmulPeakGflops(device: DevicePreference = 'cpu', n = 2048): Promise<number> {
  const g = new Graph('matmul_peak');
  const a = g.input('a', 'float32', [n, n]);
  const b = g.input('b', 'float32', [n, n]);
  g.output(op.matmul(a, b), 'c');
  const session = await createSession(g.encode(), {
    provider: device === 'auto' || device === 'gpu' ? (await chooseProvider(device)).provider : device,
  });
  const data = new Float32Array(n * n).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const feeds = { a: floatTensor(data, [n, n]), b: floatTensor(data, [n, n]) };
  await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < 5; i++) times.push(await time(() => session.run(feeds)));
  await session.release();
  return (2 * n ** 3) / (median(times) / 1000) / 1e9;
}
