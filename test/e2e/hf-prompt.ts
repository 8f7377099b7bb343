/**
 * Hugging Face's prompts from mini-t5-instruct's reference runs, as PEFT adapter folders a test can import, and an
 * app whose library holds a prompt two steps on from one of them (so that its labels look sensible).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors } from '../../main/checkpoint/safetensors.js';
import type { RequestOf } from '../../preload/contract.js';
import { App } from './app.js';

/** The final prompt of one of the fixture's reference runs (topic, sst2), as the folder hf-RUN under `dir`. */
export function hfReferencePrompt(model: string, dir: string, run: 'topic' | 'sst2'): string {
  const reference = JSON.parse(readFileSync(join(model, 'prompt_tuning_reference.json'), 'utf8')) as {
    runs: Record<typeof run, { final_prompt: number[][] }>;
  };
  const rows = reference.runs[run].final_prompt;
  const folder = join(dir, `hf-${run}`);
  mkdirSync(folder);
  writeFileSync(
    join(folder, 'adapter_config.json'),
    JSON.stringify({
      peft_type: 'PROMPT_TUNING',
      task_type: 'SEQ_2_SEQ_LM',
      num_virtual_tokens: rows.length,
      token_dim: rows[0].length,
      num_transformer_submodules: 1,
    }),
  );
  writeSafetensors(join(folder, 'adapter_model.safetensors'), [
    { name: 'prompt_embeddings', dtype: 'F32', shape: [rows.length, rows[0].length], data: Float32Array.from(rows.flat()) },
  ]);
  return folder;
}

/**
 * Starts the app on `model`, imports the reference prompt of `run` and the dataset `data`, and starts a two-step run
 * from that prompt (train.start's settings but these: the run's name and label words). The run trains while the
 * caller's page loads; the caller waits for it.
 */
export async function startFromHfPrompt(
  o: { shots: string; model: string; dir: string; run: 'topic' | 'sst2'; data: RequestOf<'data.import'> } & Pick<
    RequestOf<'train.start'>,
    'name' | 'verbalizer'
  >,
): Promise<{ app: App; runId: number; datasetId: number }> {
  const app = await App.start(o.shots);
  await app.call('settings.set', { defaultDevice: 'cpu', threads: 1 });
  const modelId = (await app.call('model.import', { path: o.model })).id;
  const hf = await app.call('library.importPeft', { dir: hfReferencePrompt(o.model, o.dir, o.run), name: `hf ${o.run}`, modelId });
  const { datasetId } = await app.call('data.import', o.data);
  const { runId } = await app.call('train.start', {
    name: o.name,
    modelId,
    datasetId,
    verbalizer: o.verbalizer,
    init: `prompt:${hf.id}`,
    promptLength: 20,
    batchSize: 4,
    steps: 2,
    evalEvery: 2,
    evalLimit: 8,
    lr: 0.01,
    seed: 1,
  });
  return { app, runId, datasetId };
}
