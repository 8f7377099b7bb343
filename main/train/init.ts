/**
 * Soft-prompt initialisations (Lester et al. 2021; Hugging Face PEFT's names where they exist). Every choice is
 * drawn from numpy's default_rng(seed), so a prompt initialised here with seed s equals one a Python reference
 * run drew with `numpy.random.default_rng(s)` (the `labels` init of ../shared/fixtures/mini-t5-pretrained).
 */
import { INIT_ARGUMENTS, INIT_FORMS, INIT_KINDS, isOneOf } from '../choices.js';
import { SproutError } from '../errors.js';
import type { SoftPrompt } from '../runtime/types.js';
import { NumpyPcg64 } from './rng/numpy-pcg64.js';

export type PromptInit =
  { kind: 'random' } | { kind: 'vocab' } | { kind: 'labels' } | { kind: 'text'; text: string } | { kind: 'prompt'; id: string };

/** Lester et al. sample `vocab` rows from the 5,000 most frequent sentencepiece ids, which are the lowest ids. */
export const VOCAB_INIT_POOL = 5000;
export const RANDOM_INIT_RANGE = 0.5;

/** Parses one of INIT_FORMS: `vocab`, `labels`, `random`, `text:<words>` or `prompt:<id>`. */
export function parseInit(spec: string): PromptInit {
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const argument = colon < 0 ? '' : spec.slice(colon + 1);
  if (isOneOf(INIT_KINDS, kind) && Object.hasOwn(INIT_ARGUMENTS, kind) === colon >= 0 && (colon < 0 || argument !== '')) {
    if (kind === 'text') return { kind, text: argument };
    if (kind === 'prompt') return { kind, id: argument };
    return { kind };
  }
  throw new SproutError('bad-init', `Unknown prompt initialisation "${spec}".`, { hint: `Use one of ${INIT_FORMS.join(', ')}.` });
}

/**
 * An init checked before a run is recorded or planned: its form, and a source prompt that exists and has this model's
 * width. Found only when the prompt is copied, a mistake left a failed run behind that could not be resumed.
 */
export function checkInit(spec: string, dModel: number, loadPrompt: (id: string) => SoftPrompt): void {
  const init = parseInit(spec);
  if (init.kind === 'prompt') refuseOtherWidth(init.id, loadPrompt(init.id), dModel);
}

function refuseOtherWidth(id: string, source: SoftPrompt, dModel: number): void {
  if (source.data.length === source.length * dModel) return;
  throw new SproutError(
    'bad-init',
    `Prompt ${id} has width ${source.data.length / source.length}, but this model's embeddings have ${dModel}.`,
    {
      hint: 'Transfer only between prompts trained on the same base model.',
    },
  );
}

export function initName(init: PromptInit): string {
  return init.kind === 'text' ? `text:${init.text}` : init.kind === 'prompt' ? `prompt:${init.id}` : init.kind;
}

export interface InitContext {
  length: number; // P
  dModel: number;
  vocabSize: number;
  seed: number;
  /** Rows of shared.weight: [ids.length * dModel]. */
  embeddings(ids: number[]): Float32Array;
  /** Token ids of a text with eos appended (the tokenizer's encode). */
  encode(text: string): number[];
  eosId: number;
  /** Target ids (with eos) of each label, in label order; needed by `labels`. */
  labelTargets?: number[][];
  /** A stored prompt by library id; needed by `prompt:`. */
  loadPrompt?(id: string): SoftPrompt;
}

export interface InitResult {
  prompt: SoftPrompt;
  /** Vocabulary ids whose rows were copied (vocab rows in order), for the run record. */
  vocabIds: number[];
  /** Things the user should know (a copied prompt cut or padded, labels that did not fit). */
  notes: string[];
}

export function initPrompt(init: PromptInit, ctx: InitContext): InitResult {
  const { length: P, dModel: d } = ctx;
  if (!Number.isInteger(P) || P < 1) throw new SproutError('bad-prompt-length', `The prompt length must be a positive integer, got ${P}.`);
  const rng = new NumpyPcg64(ctx.seed);
  const vocabRows = (n: number): { data: Float32Array; ids: number[] } => {
    const ids = n > 0 ? rng.choiceWithoutReplacement(Math.min(VOCAB_INIT_POOL, ctx.vocabSize), n) : [];
    return { data: ctx.embeddings(ids), ids };
  };
  const data = new Float32Array(P * d);
  const notes: string[] = [];
  switch (init.kind) {
    case 'random': {
      data.set(rng.uniform(-RANDOM_INIT_RANGE, RANDOM_INIT_RANGE, P * d));
      return { prompt: { length: P, data }, vocabIds: [], notes };
    }
    case 'vocab': {
      const v = vocabRows(P);
      return { prompt: { length: P, data: v.data }, vocabIds: v.ids, notes };
    }
    case 'labels': {
      const labels = ctx.labelTargets;
      if (!labels?.length)
        throw new SproutError('bad-init', 'The labels initialisation needs a task with a label set.', {
          hint: 'Give --label-column, or choose another --init.',
        });
      const used = labels.slice(0, P);
      if (used.length < labels.length)
        notes.push(`${labels.length} labels but only ${P} prompt rows: the first ${P} labels initialise the prompt.`);
      used.forEach((target, row) => {
        const ids = target.filter((id) => id !== ctx.eosId);
        if (ids.length === 0)
          throw new SproutError('bad-init', `Label ${row} has no tokens besides eos, so it has no embedding to start from.`);
        const rows = ctx.embeddings(ids);
        // Mean over the label's sub-tokens, summed in float64 and rounded once.
        for (let c = 0; c < d; c++) {
          let s = 0;
          for (let k = 0; k < ids.length; k++) s += rows[k * d + c];
          data[row * d + c] = s / ids.length;
        }
      });
      const v = vocabRows(P - used.length);
      data.set(v.data, used.length * d);
      return { prompt: { length: P, data }, vocabIds: v.ids, notes };
    }
    case 'text': {
      // As PEFT's TEXT init: the text's ids (eos included) repeated until P and cut to P.
      const ids = ctx.encode(init.text);
      const rows = Array.from({ length: P }, (_, i) => ids[i % ids.length]);
      if (ids.length > P) notes.push(`The init text has ${ids.length} tokens; its first ${P} were used.`);
      return { prompt: { length: P, data: ctx.embeddings(rows) }, vocabIds: rows, notes };
    }
    case 'prompt': {
      if (!ctx.loadPrompt) throw new SproutError('bad-init', 'No prompt library is available to copy a prompt from.');
      const source = ctx.loadPrompt(init.id);
      refuseOtherWidth(init.id, source, d);
      const kept = Math.min(P, source.length);
      data.set(source.data.subarray(0, kept * d));
      if (source.length > P) notes.push(`Prompt ${init.id} has ${source.length} rows; its first ${P} were kept.`);
      const v = vocabRows(P - kept);
      data.set(v.data, kept * d);
      if (source.length < P)
        notes.push(`Prompt ${init.id} has ${source.length} rows; ${P - source.length} rows were added from the vocabulary.`);
      return { prompt: { length: P, data }, vocabIds: v.ids, notes };
    }
  }
}
