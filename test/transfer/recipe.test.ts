import { describe, expect, it } from 'vitest';
import { createRun } from '../../main/library/runs.js';
import { probeRecipe } from '../../main/transfer/probe.js';
import { recipeOf } from '../../main/transfer/recipe.js';
import { storedTargetEmbeddings } from '../../main/transfer/target.js';
import { addPrompt, addTaskRecord, freshLibrary, TINY_MODEL } from '../library/helpers.js';

describe('a stored task embedding of the target stands in for a probe only when trained as the probe would be', () => {
  it('resolves the engine defaults on both sides: a config that leaves them out matches a probe that states them', () => {
    expect(recipeOf({}, 100)).toEqual({ init: 'vocab', promptLength: 20, batchSize: 32, optimizer: 'adafactor', lr: 0.3, step: 100 });
    expect(recipeOf({ optimizer: { kind: 'adam' } }, 5)).toMatchObject({ optimizer: 'adam', lr: 0.01 });
    expect(probeRecipe({ steps: 100, batchSize: 32, optimizer: { kind: 'adafactor', lr: 0.3 } })).toEqual(recipeOf({ seed: 4 }, 100));
    expect(recipeOf({ batchSize: 'eight' }, 100)).toBeNull();
  });

  it('filters the stored embeddings by start, prompt length, batch, optimiser, learning rate and step; imported ones have none', () => {
    const { db } = freshLibrary();
    const { datasetId, taskId } = addTaskRecord(db, 'target');
    const base = { id: TINY_MODEL.id, path: TINY_MODEL.path, dModel: 4 };
    const stored = (step: number, config: Record<string, unknown> | null) =>
      addPrompt(db, step, {
        taskId,
        taskEmbedding: new Float32Array(12).fill(step),
        taskEmbeddingStep: step,
        runId: config ? createRun(db, { taskId, config, status: 'done' }).id : null,
      });
    const probeLike = stored(100, { batchSize: 8, seed: 2 });
    const realRun = stored(100, { batchSize: 8, steps: 2000, seed: 0, optimizer: { kind: 'adafactor', lr: 0.3 } });
    stored(100, { batchSize: 32 });
    stored(50, { batchSize: 8 });
    stored(100, { batchSize: 8, promptLength: 10 });
    stored(100, { batchSize: 8, optimizer: { kind: 'adafactor', lr: 0.1 } });
    stored(100, { batchSize: 8, optimizer: { kind: 'adamw' } });
    stored(100, { batchSize: 8, init: 'prompt:1' });
    stored(100, null);
    const recipe = probeRecipe({ steps: 100, batchSize: 8 });
    const found = storedTargetEmbeddings(db, base, [datasetId], { limit: 10, recipe });
    expect(found.map((t) => [t.promptId, t.seed])).toEqual([
      [realRun, 0],
      [probeLike, 2],
    ]);
    expect(storedTargetEmbeddings(db, base, [datasetId], { limit: 10 })).toHaveLength(9);
    db.close();
  });
});
