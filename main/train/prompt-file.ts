import { SproutError } from '../errors.js';
import type { SoftPrompt } from '../runtime/types.js';
import { PROMPT_TENSOR } from './run-store.js';
import { readTensorFile } from './tensor-file.js';

/** A prompt file as Sprout writes it (one float32 tensor [P, d_model] named prompt_embeddings). */
export function readPromptFile(file: string, dModel: number): SoftPrompt {
  const f = readTensorFile(file);
  const t = f.tensors.get(PROMPT_TENSOR);
  if (!t || !(t.data instanceof Float32Array) || t.shape.length !== 2) {
    throw new SproutError('bad-prompt-file', `The file has no float32 tensor "${PROMPT_TENSOR}" of shape [P, d_model].`, { file });
  }
  if (t.shape[1] !== dModel) {
    throw new SproutError('bad-prompt-file', `The prompt is ${t.shape[1]} wide but the model's embeddings are ${dModel}.`, { file, hint: 'Use a prompt trained on this base model.' });
  }
  return { length: t.shape[0], data: t.data };
}
