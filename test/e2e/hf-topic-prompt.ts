/** Hugging Face's topic prompt from mini-t5-instruct's reference run, as a PEFT adapter folder a test can import. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors } from '../../main/checkpoint/safetensors.js';

/** Writes the adapter under `dir` (folder hf-topic) and returns its folder. */
export function hfTopicPrompt(model: string, dir: string): string {
  return hfReferencePrompt(model, dir, 'topic');
}

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
