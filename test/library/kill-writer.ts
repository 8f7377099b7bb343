/**
 * Bundled and spawned by integrity.test.ts: writes prompts (each with two tags) and run metrics to the library in
 * its argv[2] as fast as it can, printing each prompt id after its transaction commits, until it is killed.
 */
import { openLibrary } from '../../main/library/db.js';
import { insertPrompt } from '../../main/library/prompts.js';
import { createRun, recordRunMetric, updateRun } from '../../main/library/runs.js';

const db = openLibrary(process.argv[2]);
const run = createRun(db, { config: { writer: process.pid } });
const embedding = new Float32Array(20 * 64); // a 20-token prompt for d_model 64
for (let i = 1; ; i++) {
  embedding.fill(i);
  const id = insertPrompt(db, {
    name: `w${i}`,
    model: { id: 'm', path: null, summary: null },
    length: 20,
    dModel: 64,
    embedding,
    init: 'vocab',
    tags: ['a', `t${i}`],
    taskEmbedding: embedding,
  });
  recordRunMetric(db, run.id, { step: i, loss: 1 / i, eval: null });
  updateRun(db, run.id, { step: i });
  process.stdout.write(`${id}\n`);
}
