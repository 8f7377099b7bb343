/** `sprout train --mixture`: the request for a mixture of imported datasets, each a task of its own. */
import type { MixtureConfigInput } from '../train/config.js';
import { UsageError } from './command.js';
import { requireDataset } from './data-shared.js';
import { withLibrary } from './model-shared.js';

/** Data flags of single-task training that a mixture does not take (each dataset brings its own columns and template). */
const SINGLE_TASK_FLAGS = ['data', 'dataset', 'validation', 'validation-limit', 'text-column', 'label-column', 'template', 'verbalizer'];

/** `dataset:ID[:template]` (or a bare ID): the dataset, with its own template unless one is given. */
function parseEntry(spec: string): { id: number; template?: string } {
  const m = /^(?:dataset:)?([1-9]\d*)(?::(.+))?$/s.exec(spec);
  if (!m) throw new UsageError(`--mixture takes dataset:ID[:template], not "${spec}".`);
  return { id: Number(m[1]), template: m[2] };
}

export async function buildMixtureConfig(
  values: Record<string, unknown>,
  common: Omit<MixtureConfigInput, 'tasks' | 'sharedPrompt'>,
  limits: { maxInputLength?: number; maxTargetLength?: number; limit?: number },
): Promise<MixtureConfigInput> {
  const given = SINGLE_TASK_FLAGS.filter((f) => values[f] !== undefined && values[f] !== false);
  if (given.length)
    throw new UsageError(`--mixture trains on imported datasets with their own columns and templates; drop --${given.join(', --')}.`);
  const entries = (values.mixture as string[]).map(parseEntry);
  const tasks = await withLibrary((db) =>
    entries.map((e) => {
      const dataset = requireDataset(db, e.id);
      if (!dataset.labelColumn) throw new UsageError(`Dataset ${e.id} has no label column, so it cannot train a prompt.`);
      return {
        name: dataset.name,
        train: { dataset: e.id, limit: limits.limit },
        task: {
          template: e.template ?? dataset.template,
          labelColumn: dataset.labelColumn,
          maxInputLength: limits.maxInputLength,
          maxTargetLength: limits.maxTargetLength,
        },
      };
    }),
  );
  // Two entries of one dataset (e.g. two templates) are told apart by their position.
  const names = tasks.map((t) => t.name);
  tasks.forEach((t, i) => names.indexOf(t.name) !== i && (t.name = `${t.name} (${i + 1})`));
  return { ...common, tasks, sharedPrompt: values['shared-prompt'] === true };
}
