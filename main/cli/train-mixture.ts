/** `sprout train --mixture`: the request for a mixture of imported datasets, each a task of its own. */
import type { MixtureConfigInput } from '../train/config.js';
import { UsageError } from './command.js';
import { requireDataset } from './data-shared.js';
import { withLibrary } from './model-shared.js';
import { isNumericLabel } from '../data/values.js';
import type { DatasetRecord } from '../library/datasets.js';
import type { LibraryDb } from '../library/db.js';
import { latestTaskOfDataset } from '../library/tasks.js';
import { firstOf } from '../wording.js';

/** Data flags of single-task training that a mixture does not take (each dataset brings its own columns and template). */
const SINGLE_TASK_FLAGS = ['data', 'dataset', 'validation', 'validation-limit', 'text-column', 'label-column', 'template', 'verbalizer'];

/** `dataset:ID[:template]` (or a bare ID): the dataset, with its own template unless one is given. */
function parseEntry(spec: string): { id: number; template?: string } {
  const m = /^(?:dataset:)?([1-9]\d*)(?::(.+))?$/s.exec(spec);
  if (!m) throw new UsageError(`--mixture takes dataset:ID[:template], not "${spec}".`);
  return { id: Number(m[1]), template: m[2] };
}

/**
 * The words a dataset's labels are trained as: those of its latest run, as the app's Data step takes them when a
 * dataset is chosen again. Labels that are numbers need words (the model cannot learn to say "0"), and a mixture
 * entry has no flag of its own for them.
 */
function labelWords(db: LibraryDb, dataset: DatasetRecord): Record<string, string> | undefined {
  const words = latestTaskOfDataset(db, dataset.id)?.verbalizer;
  if (words && Object.keys(words).length) return words;
  const numbers = (dataset.labelSet ?? []).filter(isNumericLabel);
  if (numbers.length === 0) return undefined;
  throw new UsageError(
    `Dataset ${dataset.id} ("${dataset.name}") has labels that are numbers (${firstOf(numbers)}) and no run has given them words yet. ` +
      `Train it once alone with --dataset ${dataset.id} --verbalizer '${numbers.map((n) => `${n}=<words>`).join(',')}' ` +
      '(one step will do), or choose its words in the app; --mixture then uses the words of its latest run.',
  );
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
          verbalizer: labelWords(db, dataset),
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
