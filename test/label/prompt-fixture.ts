import { join } from 'node:path';
import { writeSafetensors } from '../../main/checkpoint/safetensors.js';
import { loadPromptModel } from '../../main/runtime/model.js';
import { fixedPrompt, tinyModel } from './helpers.js';

/** Writes prompt files [P, d] for the tiny fixture model (as `--prompt-file` reads them); returns their paths. */
export async function writePromptFiles(dir: string, seeds: number[], length = 4): Promise<string[]> {
  const model = await loadPromptModel(tinyModel, { device: 'cpu' });
  const d = model.config.dModel;
  const files = seeds.map((seed) => {
    const p = fixedPrompt(model, length, seed);
    const file = join(dir, `prompt-${seed}.safetensors`);
    writeSafetensors(file, [{ name: 'prompt', dtype: 'F32', shape: [length, d], data: p.data }]);
    return file;
  });
  await model.dispose();
  return files;
}
