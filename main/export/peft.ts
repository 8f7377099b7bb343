/**
 * One prompt as a Hugging Face PEFT prompt-tuning adapter folder, and back.
 *
 * PEFT (checked with 0.6.2) saves a seq2seq prompt-tuning adapter as adapter_config.json plus
 * adapter_model.safetensors holding one tensor, `prompt_embeddings`, of shape
 * [num_virtual_tokens × num_transformer_submodules, token_dim]. For SEQ_2_SEQ_LM num_transformer_submodules is 2,
 * but PEFT prepends only rows [0, num_virtual_tokens) to the encoder input; the second half is never read for T5.
 * Sprout therefore writes the prompt twice (rows [N, 2N) are a copy of rows [0, N)) and reads rows [0, N) back.
 */
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { readJsonFile } from '../checkpoint/checkpoint.js';
import { readSafetensorsFile, readTensorBytes, writeSafetensors } from '../checkpoint/safetensors.js';
import { RUN_LIMITS } from '../choices.js';
import { firstNonFinite } from '../runtime/finite.js';
import { SproutError } from '../errors.js';
import { snapshotCommit } from '../hub/cache.js';
import type { LibraryDb } from '../library/db.js';
import { findHubModel, findModelByPath, getModel, type ModelRecord } from '../library/models.js';
import { insertPrompt, requirePrompt, type ModelRef } from '../library/prompts.js';
import { tempPathBeside } from '../temp-path.js';

export const PEFT_CONFIG_FILE = 'adapter_config.json';
export const PEFT_WEIGHTS_FILE = 'adapter_model.safetensors';
export const PEFT_TENSOR = 'prompt_embeddings';
/** PEFT's value for SEQ_2_SEQ_LM: one prompt for the encoder, one for the decoder (which T5 never uses). */
const SUBMODULES = 2;

/** The fields of PEFT's PromptTuningConfig that Sprout writes and checks. */
export interface PeftPromptConfig {
  peft_type: 'PROMPT_TUNING';
  task_type: 'SEQ_2_SEQ_LM';
  num_virtual_tokens: number;
  token_dim: number;
  num_transformer_submodules: number;
  num_attention_heads: number | null;
  num_layers: number | null;
  base_model_name_or_path: string | null;
  revision: string | null;
  prompt_tuning_init: 'RANDOM' | 'TEXT';
  prompt_tuning_init_text: string | null;
  tokenizer_name_or_path: string | null;
  inference_mode: boolean;
}

/**
 * The config as written: only keys that have a value. PEFT 0.6.2's PromptTuningConfig refuses keys it does not
 * know (`tokenizer_kwargs` came in 0.7), and an absent key is the dataclass default (None) in every release.
 */
export function peftConfigJson(config: PeftPromptConfig): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).filter(([, value]) => value !== null));
}

/**
 * What PEFT's from_pretrained can load the base model from: the Hub repo of a download at the commit the prompt was
 * trained on (its snapshot folder's, else the download's: a branch moves, and a prompt fits the weights it learned
 * on), else the model's folder (a single-file model's folder holds its config.json). A library id such as
 * local/<name> means nothing outside Sprout.
 */
function baseModelName(ref: ModelRef, registered: ModelRecord | undefined): { name: string | null; revision: string | null } {
  if (registered?.repo) {
    const commit = snapshotCommit(ref.path ?? '') ?? registered.sha;
    return { name: registered.repo, revision: commit ?? (registered.revision !== 'main' ? registered.revision : null) };
  }
  const path = registered?.path ?? ref.path;
  if (path) return { name: extname(path) === '.safetensors' ? dirname(path) : path, revision: null };
  return { name: ref.id, revision: null };
}

/**
 * Writes prompt `id` as a PEFT adapter folder `dir` (created if needed). Refuses to replace an adapter already
 * there. Returns the config written.
 */
export function exportPeft(db: LibraryDb, id: number, dir: string): PeftPromptConfig {
  const prompt = requirePrompt(db, id);
  const target = resolve(dir);
  if (existsSync(target) && !statSync(target).isDirectory()) {
    throw new SproutError('not-a-folder', 'The export folder is a file.', {
      file: target,
      hint: 'Export into a folder (a new one is made).',
    });
  }
  for (const file of [PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE]) {
    if (existsSync(join(target, file))) {
      throw new SproutError('peft-exists', `The folder already holds ${file}; it was left as it is.`, {
        file: target,
        hint: 'Export into a folder without an adapter in it, or a new one.',
      });
    }
  }
  const registered = prompt.model.id === null ? undefined : getModel(db, prompt.model.id);
  const base = baseModelName(prompt.model, registered);
  const summary = registered?.summary ?? prompt.model.summary;
  const config: PeftPromptConfig = {
    peft_type: 'PROMPT_TUNING',
    task_type: 'SEQ_2_SEQ_LM',
    num_virtual_tokens: prompt.length,
    token_dim: prompt.dModel,
    num_transformer_submodules: SUBMODULES,
    num_attention_heads: summary?.numHeads ?? null,
    num_layers: summary?.encoderLayers ?? null,
    base_model_name_or_path: base.name,
    revision: base.revision,
    // The trained values come from the weights file; RANDOM keeps PEFT from loading a tokenizer to build an init it overwrites.
    prompt_tuning_init: 'RANDOM',
    prompt_tuning_init_text: null,
    tokenizer_name_or_path: base.name,
    inference_mode: true,
  };
  const n = prompt.length * prompt.dModel;
  const data = new Float32Array(SUBMODULES * n); // [2N, d]: rows [N, 2N) repeat rows [0, N)
  for (let s = 0; s < SUBMODULES; s++) data.set(prompt.embedding, s * n);
  mkdirSync(target, { recursive: true });
  writeSafetensors(
    join(target, PEFT_WEIGHTS_FILE),
    [{ name: PEFT_TENSOR, dtype: 'F32', shape: [SUBMODULES * prompt.length, prompt.dModel], data }],
    {
      format: 'pt',
      sprout_prompt_name: prompt.name,
      sprout_prompt_uid: prompt.uid,
    },
  );
  const tmp = tempPathBeside(join(target, PEFT_CONFIG_FILE));
  writeFileSync(tmp, `${JSON.stringify(peftConfigJson(config), null, 2)}\n`);
  renameSync(tmp, join(target, PEFT_CONFIG_FILE));
  return config;
}

/** A prompt read from a PEFT folder, validated; `embedding` is rows [0, N) as float32. */
export interface PeftPrompt {
  config: PeftPromptConfig;
  length: number;
  dModel: number;
  embedding: Float32Array;
  /** dtype of the stored tensor (F32, F16 or BF16). */
  dtype: string;
  /** Name stored by a Sprout export, if any. */
  name: string | null;
}

function positiveInt(config: Record<string, unknown>, key: string, file: string): number {
  const v = config[key];
  if (!Number.isSafeInteger(v) || (v as number) < 1) {
    throw new SproutError('bad-peft', `"${key}" must be a positive whole number, found ${JSON.stringify(v)}.`, { file });
  }
  return v as number;
}

/**
 * Sizes past which a config is not a T5 prompt: Sprout's longest prompt, and a d_model wider than any T5's (t5-11b
 * 1024, UL2 4096). Checked before the weights are read: the import runs where the app answers, and a 400 MB file
 * claiming 100,000 tokens held every request for seconds, then stored a prompt no run could use.
 */
const MAX_TOKENS = RUN_LIMITS.promptLength.max;
const MAX_TOKEN_DIM = 16_384;

function boundedInt(config: Record<string, unknown>, key: string, max: number, why: string, file: string): number {
  const v = positiveInt(config, key, file);
  if (v > max) throw new SproutError('bad-peft', `"${key}" is ${v}; ${why} (at most ${max}).`, { file });
  return v;
}

function optionalInt(config: Record<string, unknown>, key: string, file: string): number | null {
  return config[key] === undefined || config[key] === null ? null : positiveInt(config, key, file);
}

function optionalString(config: Record<string, unknown>, key: string, file: string): string | null {
  const v = config[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new SproutError('bad-peft', `"${key}" must be a string or null, found ${JSON.stringify(v)}.`, { file });
  return v;
}

function parseConfig(raw: unknown, file: string): PeftPromptConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new SproutError('bad-peft', 'adapter_config.json is not a JSON object.', { file });
  const c = raw as Record<string, unknown>;
  if (c.peft_type !== 'PROMPT_TUNING') {
    throw new SproutError(
      'bad-peft',
      `The adapter is ${JSON.stringify(c.peft_type)}, not PROMPT_TUNING; Sprout imports prompt-tuning adapters only.`,
      { file },
    );
  }
  if (c.task_type !== 'SEQ_2_SEQ_LM') {
    throw new SproutError(
      'bad-peft',
      `The adapter's task_type is ${JSON.stringify(c.task_type)}; Sprout's prompts are for T5, task_type SEQ_2_SEQ_LM.`,
      { file },
    );
  }
  const init = c.prompt_tuning_init === 'TEXT' ? 'TEXT' : 'RANDOM';
  return {
    peft_type: 'PROMPT_TUNING',
    task_type: 'SEQ_2_SEQ_LM',
    num_virtual_tokens: boundedInt(c, 'num_virtual_tokens', MAX_TOKENS, "Sprout's prompts are shorter", file),
    token_dim: boundedInt(c, 'token_dim', MAX_TOKEN_DIM, 'no T5 is that wide', file),
    num_transformer_submodules:
      c.num_transformer_submodules == null ? SUBMODULES : boundedInt(c, 'num_transformer_submodules', 2, 'PEFT keeps one or two', file),
    num_attention_heads: optionalInt(c, 'num_attention_heads', file),
    num_layers: optionalInt(c, 'num_layers', file),
    base_model_name_or_path: optionalString(c, 'base_model_name_or_path', file),
    revision: optionalString(c, 'revision', file),
    prompt_tuning_init: init,
    prompt_tuning_init_text: optionalString(c, 'prompt_tuning_init_text', file),
    tokenizer_name_or_path: optionalString(c, 'tokenizer_name_or_path', file),
    inference_mode: c.inference_mode !== false,
  };
}

let halfTable: Float32Array | undefined;

function halfToFloat(h: number): number {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let b = 0; b < 65536; b++) {
      const sign = b & 0x8000 ? -1 : 1;
      const exponent = (b >> 10) & 0x1f;
      const mantissa = b & 0x3ff;
      halfTable[b] =
        exponent === 0
          ? sign * mantissa * 2 ** -24
          : exponent === 31
            ? mantissa
              ? NaN
              : sign * Infinity
            : sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
    }
  }
  return halfTable[h];
}

function toFloat32(dtype: string, bytes: Uint8Array, count: number): Float32Array {
  if (dtype === 'F32') return new Float32Array(bytes.buffer, bytes.byteOffset, count).slice();
  const src = new Uint16Array(bytes.buffer, bytes.byteOffset, count);
  const out = new Float32Array(count);
  if (dtype === 'F16') for (let i = 0; i < count; i++) out[i] = halfToFloat(src[i]);
  else {
    // bfloat16 is the top half of a float32.
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) bits[i] = src[i] << 16;
  }
  return out;
}

/** Reads and validates a PEFT prompt-tuning folder. */
export function readPeft(dir: string): PeftPrompt {
  const folder = resolve(dir);
  const configFile = join(folder, PEFT_CONFIG_FILE);
  const weightsFile = join(folder, PEFT_WEIGHTS_FILE);
  if (!existsSync(configFile)) {
    throw new SproutError('bad-peft', 'The folder has no adapter_config.json, so it is not a PEFT adapter.', {
      file: folder,
      hint: 'Point --peft at the folder PEFT saved (save_pretrained).',
    });
  }
  const config = parseConfig(readJsonFile(configFile, 'bad-peft'), configFile);
  if (!existsSync(weightsFile)) {
    const hint = existsSync(join(folder, 'adapter_model.bin'))
      ? 'It holds adapter_model.bin; save the adapter again with safe_serialization=True to get adapter_model.safetensors.'
      : 'Save the adapter with PEFT (save_pretrained) to get adapter_model.safetensors.';
    throw new SproutError('bad-peft', 'The folder has no adapter_model.safetensors.', { file: folder, hint });
  }
  const { tensors, metadata } = readSafetensorsFile(weightsFile);
  const entry = tensors.get(PEFT_TENSOR);
  if (!entry)
    throw new SproutError(
      'bad-peft',
      `The weights file has no "${PEFT_TENSOR}" tensor (found: ${[...tensors.keys()].join(', ') || 'none'}).`,
      { file: weightsFile },
    );
  if (entry.dtype !== 'F32' && entry.dtype !== 'F16' && entry.dtype !== 'BF16') {
    throw new SproutError('bad-peft', `"${PEFT_TENSOR}" is ${entry.dtype}; Sprout reads F32, F16 and BF16.`, { file: weightsFile });
  }
  const N = config.num_virtual_tokens;
  const d = config.token_dim;
  const rows = N * config.num_transformer_submodules;
  if (entry.shape.length !== 2 || entry.shape[0] !== rows || entry.shape[1] !== d) {
    throw new SproutError(
      'bad-peft',
      `"${PEFT_TENSOR}" has shape [${entry.shape.join(', ')}]` +
        `, but the config needs [${rows}, ${d}] (num_virtual_tokens ${N} × num_transformer_submodules ${config.num_transformer_submodules}, token_dim ${d}).`,
      { file: weightsFile },
    );
  }
  const embedding = toFloat32(entry.dtype, readTensorBytes(entry), N * d);
  const bad = firstNonFinite(embedding, d);
  if (bad !== null) {
    throw new SproutError('bad-peft', `"${PEFT_TENSOR}" holds ${bad}: a prompt of numbers that are not finite cannot label anything.`, {
      file: weightsFile,
      hint: 'Export the adapter again from where it was trained; its training may have diverged.',
    });
  }
  return {
    config,
    length: N,
    dModel: d,
    embedding,
    dtype: entry.dtype,
    name: metadata.sprout_prompt_name ?? null,
  };
}

function modelRefFor(db: LibraryDb, config: PeftPromptConfig, model: string | undefined): ModelRef {
  const wanted = model ?? config.base_model_name_or_path;
  const registered =
    wanted === null
      ? undefined
      : ((config.revision && model === undefined ? findHubModel(db, wanted, config.revision) : undefined) ??
        getModel(db, wanted) ??
        findModelByPath(db, resolve(wanted)));
  if (registered) {
    if (registered.summary.dModel !== config.token_dim) {
      throw new SproutError(
        'peft-model-mismatch',
        `The adapter's token_dim is ${config.token_dim}, but model ${registered.id} has d_model ${registered.summary.dModel}.`,
        {
          hint: 'Import it for the base model it was trained on (--model).',
        },
      );
    }
    return { id: registered.id, path: registered.path, summary: registered.summary };
  }
  const summary = {
    dModel: config.token_dim,
    ...(config.num_layers ? { encoderLayers: config.num_layers } : {}),
    ...(config.num_attention_heads ? { numHeads: config.num_attention_heads } : {}),
  };
  // A folder that is not registered is kept as a path; anything else names a Hub repo.
  if (wanted !== null && (isAbsolute(wanted) || existsSync(wanted))) return { id: null, path: resolve(wanted), summary };
  // A model named by the person, not by the adapter, must be one this library knows: a typo would stay with the prompt.
  if (model !== undefined)
    throw new SproutError('unknown-model', `There is no model "${model}" in the library, nor a folder of that name.`, {
      hint: 'See the ids with `sprout model list`, or give the model folder.',
      uiHint: 'Choose a model the Model step lists, or give the model folder.',
    });
  return { id: wanted, path: null, summary };
}

/**
 * Imports a PEFT prompt-tuning folder as a new library prompt; returns its id. The base model is `model` (a
 * registered model id or folder) when given, else the adapter's base_model_name_or_path.
 */
export function importPeft(db: LibraryDb, dir: string, options: { name?: string; model?: string } = {}): number {
  const peft = readPeft(dir);
  return insertPrompt(db, {
    name: options.name ?? peft.name ?? basename(resolve(dir)),
    model: modelRefFor(db, peft.config, options.model),
    length: peft.length,
    dModel: peft.dModel,
    embedding: peft.embedding,
    init: 'peft',
  });
}
