/**
 * Named sets of training settings. A preset fills settings the user did not give; anything given explicitly
 * wins. `lester-reference` is the recipe of the Hugging Face reference runs recorded in
 * ../shared/fixtures/mini-t5-pretrained (Lester et al.'s prompt tuning as transformers + PyTorch run it), so a
 * run with it can be compared with those runs step for step.
 */
import { SproutError } from '../errors.js';
import { TrainingConfigSchema, type TrainingConfigInput } from './config.js';

/** The settings a preset may fix: everything but the model, the data and the task's columns. */
export type PresetSettings = Partial<Omit<TrainingConfigInput, 'model' | 'train' | 'validation' | 'task'>>;

export const PRESETS = {
  'lester-reference': {
    // 20 rows: row i < labels = mean embedding of label i's words, the rest vocabulary rows from
    // numpy.random.default_rng(seed).choice(5000, ...).
    promptLength: 20,
    init: 'labels',
    // transformers.optimization.Adafactor(lr=0.3, scale_parameter=False, relative_step=False,
    // warmup_init=False, weight_decay=1e-5), other arguments default.
    optimizer: { kind: 'adafactor', lr: 0.3, weightDecay: 1e-5 },
    batchSize: 32,
    seed: 0,
    // Batches are consecutive slices of torch.randperm (seeded generator, reshuffled per epoch), unsorted.
    bucketing: false,
    zLoss: 0,
    dropout: 0,
    evalAtStart: true,
    evalSteps: [100, 250, 500, 1000],
    // Greedy decoding from the decoder start token stops at eos or after 5 new tokens.
    maxNewTokens: 5,
    // The reference runs held the weights and computed in float32 (PyTorch, CPU).
    weights: 'fp32',
    precision: 'fp32',
  },
} satisfies Record<string, PresetSettings>;

export type PresetName = keyof typeof PRESETS;

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}

export function presetSettings(name: string): PresetSettings {
  if (!Object.hasOwn(PRESETS, name)) {
    throw new SproutError('unknown-preset', `There is no training preset "${name}".`, {
      hint: `Known presets: ${presetNames().join(', ')}.`,
    });
  }
  return PRESETS[name as PresetName];
}

/** `config` with every setting it leaves undefined taken from the preset. */
export function applyPreset(config: TrainingConfigInput, preset: PresetSettings): TrainingConfigInput {
  const out: Record<string, unknown> = { ...config };
  for (const [key, value] of Object.entries(preset)) {
    if (key !== 'optimizer' && out[key] === undefined) out[key] = value;
  }
  // The preset's evaluation steps that a shorter run never reaches are left out (its last step is evaluated anyway).
  if (config.evalSteps === undefined && preset.evalSteps) {
    const steps = (out.steps as number | undefined) ?? TrainingConfigSchema.shape.steps.parse(undefined);
    const reached = preset.evalSteps.filter((step) => step <= steps);
    out.evalSteps = reached.length ? reached : undefined;
  }
  if (preset.optimizer) {
    const given = config.optimizer ?? {};
    const sameKind = given.kind === undefined || given.kind === preset.optimizer.kind;
    // Another optimiser than the preset's keeps its own defaults rather than the preset's lr.
    out.optimizer = sameKind ? { ...preset.optimizer, ...definedOnly(given) } : given;
  }
  return out as TrainingConfigInput;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
