/**
 * Where the model a prompt was trained on is on this machine: one rule for scoring, labelling and choosing a
 * threshold, so that evaluation and labelling never read a prompt with two different models.
 */
import { existsSync } from 'node:fs';
import { SproutError } from '../errors.js';
import type { LibraryDb } from './db.js';
import { getModel } from './models.js';
import type { PromptRecord } from './prompts.js';

/**
 * The folder the prompt was trained from while it is there: its registered id may since name a newer download of
 * the repository, another commit with other weights. Else the registered model's folder, when its architecture is
 * the one the prompt was trained on (the same commit moved to another cache, say); else null.
 */
export function promptModelFolder(db: LibraryDb, prompt: PromptRecord): string | null {
  if (prompt.model.path && existsSync(prompt.model.path)) return prompt.model.path;
  const registered = prompt.model.id ? getModel(db, prompt.model.id) : undefined;
  if (!registered || !existsSync(registered.path) || registered.summary.dModel !== prompt.dModel) return null;
  const trained = prompt.model.summary ?? {};
  const same = (Object.keys(trained) as (keyof typeof trained)[]).every((k) => k === 'weightBytes' || trained[k] === registered.summary[k]);
  return same ? registered.path : null;
}

/** promptModelFolder, or an error that names the model to bring back. */
export function promptModelPath(db: LibraryDb, prompt: PromptRecord): string {
  const folder = promptModelFolder(db, prompt);
  if (folder !== null) return folder;
  const registered = prompt.model.id ? getModel(db, prompt.model.id) : undefined;
  const trainedOn = prompt.model.path ? ` It was trained on ${prompt.model.path}, which is gone.` : '';
  const other = registered && existsSync(registered.path) ? ` ${registered.id} is now ${registered.path}, a model of another shape.` : '';
  throw new SproutError(
    'model-missing',
    `The base model of prompt ${prompt.id} (${prompt.model.id ?? prompt.model.path ?? 'unknown'}) is not on this machine.${trainedOn}${other}`,
    { hint: 'Download or import the model it was trained on (the same commit), in the Model step or with `sprout model download`.' },
  );
}
