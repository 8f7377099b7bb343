import { resolve } from 'node:path';
import { readSafetensorsFile, readTensorF32 } from '../checkpoint/safetensors.js';
import { SproutError } from '../errors.js';
import { firstNonFinite } from '../runtime/finite.js';
import type { LabelPrompt, LabelTask } from './types.js';

/** The `ref` of a prompt read from a file; library prompts use their id. */
export const FILE_REF_PREFIX = 'file:';

/**
 * A soft prompt from a safetensors file holding one float32 tensor [P, d_model] (any name). This is the labeller's
 * way to use a prompt that is not in the library (tests, prompts trained elsewhere); the task comes from the caller.
 */
export function promptFromFile(file: string, task: LabelTask): LabelPrompt {
  const path = resolve(file);
  const { tensors } = readSafetensorsFile(path);
  if (tensors.size !== 1) {
    throw new SproutError(
      'label-bad-prompt-file',
      `The prompt file holds ${tensors.size} tensors; expected exactly one, the prompt [P, d_model].`,
      {
        file: path,
        hint: 'Export the prompt alone, or use a prompt from the library (--prompt).',
      },
    );
  }
  const entry = [...tensors.values()][0];
  if (entry.shape.length !== 2 || entry.shape[0] < 1) {
    throw new SproutError(
      'label-bad-prompt-file',
      `The prompt tensor "${entry.name}" has shape [${entry.shape.join(', ')}]; expected [P, d_model].`,
      { file: path },
    );
  }
  const data = readTensorF32(entry);
  // Found while scoring, a value that is not finite failed the job after its output was begun, and that output then
  // stood in the way of the next job writing there.
  const bad = firstNonFinite(data, entry.shape[1]);
  if (bad !== null) {
    throw new SproutError(
      'label-bad-prompt-file',
      `The prompt tensor "${entry.name}" holds ${bad}: a prompt of numbers that are not finite cannot label anything.`,
      { file: path, hint: 'Save the prompt again from where it was trained; its training may have diverged.' },
    );
  }
  return { ref: `${FILE_REF_PREFIX}${path}`, name: path, prompt: { length: entry.shape[0], data }, task };
}
