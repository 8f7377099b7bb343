import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openLibrary, libraryPath, type LibraryDb } from '../../main/library/db.js';
import type { LabelEngine } from '../../main/label/job.js';
import type { LabelTask } from '../../main/label/types.js';
import { loadPromptModel } from '../../main/runtime/model.js';
import type { PromptModel } from '../../main/runtime/types.js';
import { loadTokenizer } from '../../main/tokenizer/index.js';

export const repoRoot = resolve(__dirname, '../..');
export const shared = resolve(repoRoot, '../shared');
export const tinyModel = join(shared, 'fixtures/tiny-t5-v1_1');
export const data = (path: string) => join(shared, 'data', path);

export function tempDir(prefix = 'sprout-label-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function freshLibrary(): { home: string; db: LibraryDb } {
  const home = tempDir('sprout-home-');
  process.env.SPROUT_HOME = home;
  return { home, db: openLibrary(libraryPath(home)) };
}

/** A deterministic soft prompt: rows of the model's own embeddings of some ordinary tokens, scaled. */
export function fixedPrompt(model: PromptModel, length: number, seed: number): { length: number; data: Float32Array } {
  const ids = Array.from({ length }, (_, i) => 100 + ((seed * 7919 + i * 104729) % 30000));
  return { length, data: model.embeddings(ids) };
}

export const cbTask: LabelTask = {
  kind: 'classification',
  labels: ['entailment', 'contradiction', 'neutral'],
  verbalisers: ['entailment', 'contradiction', 'neutral'],
  template: 'premise: {premise} hypothesis: {hypothesis}',
};

export async function tinyEngine(task: LabelTask, seeds: number[] = [1], promptLength = 4): Promise<LabelEngine> {
  const model = await loadPromptModel(tinyModel, { device: 'cpu' });
  const tokenizer = await loadTokenizer(tinyModel);
  return {
    model,
    tokenizer,
    modelRef: tinyModel,
    prompts: seeds.map((s) => ({ ref: `test-prompt-${s}`, name: `test prompt ${s}`, prompt: fixedPrompt(model, promptLength, s), task })),
  };
}
