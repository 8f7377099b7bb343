/**
 * Labelling N rows with 3 prompts: in mixed batches (each batch carries rows of all three prompts) versus
 * three separate passes with one shared prompt each, rows/s for both, on the t5-small shape.
 */
import { join } from 'node:path';
import { loadPromptModel } from '../runtime/model.js';
import { ensureCheckpoint, T5_SMALL } from './engine.js';
import { randomIds, time } from './measure.js';

export async function benchMixed(o: { workDir: string; tokenizerFrom: string; rows?: number; batch?: number }) {
  const dir = await ensureCheckpoint(join(o.workDir, 't5-small-random'), T5_SMALL, o.tokenizerFrom);
  const model = await loadPromptModel(dir, { device: 'cpu' });
  const N = o.rows ?? 96;
  const B = o.batch ?? 32;
  const prompts = [20, 20, 20].map((P, k) => ({ length: P, data: model.embeddings(randomIds(P, 5000, 7 + k)) }));
  const rows = Array.from({ length: N }, (_, i) => randomIds(63, 32000, 1000 + i).concat(1));
  const candidates = [
    [9961, 1],
    [29452, 1],
  ];
  const batches = <T>(xs: T[]) => Array.from({ length: Math.ceil(xs.length / B) }, (_, i) => xs.slice(i * B, (i + 1) * B));

  const separate = async () => {
    for (const p of prompts) for (const chunk of batches(rows)) await model.score(p, chunk, candidates);
  };
  const pairs = rows.flatMap((r) => prompts.map((_, k) => ({ r, k })));
  const mixed = async () => {
    for (const chunk of batches(pairs)) {
      await model.scoreMixed(
        { prompts, promptIndex: chunk.map((c) => c.k) },
        chunk.map((c) => c.r),
        chunk.map(() => candidates),
      );
    }
  };
  await model.score(prompts[0], rows.slice(0, 2), candidates);
  await model.scoreMixed({ prompts, promptIndex: [0, 1] }, rows.slice(0, 2), [candidates, candidates]);
  const separateMs = await time(separate);
  const mixedMs = await time(mixed);
  await model.dispose();
  const labelled = N * prompts.length;
  return {
    benchmark: 'mixed',
    prompts: prompts.length,
    rows: N,
    batch: B,
    separate_rows_per_s: Number((labelled / (separateMs / 1000)).toFixed(1)),
    mixed_rows_per_s: Number((labelled / (mixedMs / 1000)).toFixed(1)),
    speedup: Number((separateMs / mixedMs).toFixed(2)),
  };
}
