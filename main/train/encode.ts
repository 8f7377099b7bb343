/**
 * Tokenises a task's examples once and keeps the ids on disk, keyed by the data's bytes, the task and the
 * tokenizer, so that a second run (or a resumed one) on the same data starts without tokenising again.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { T5Tokenizer } from '../tokenizer/index.js';
import { renderExample, type RawExample, type ResolvedTask, type TaskDefinition } from './task.js';
import { readTensorFile, requireTensor, writeTensorFile } from './tensor-file.js';

export interface EncodedExample {
  input: number[]; // ends with eos
  target: number[]; // ends with eos
  /** Index into the label set; -1 for free-text targets. */
  label: number;
}

export interface EncodedSplit {
  examples: EncodedExample[];
  /** Examples whose input or target was longer than the limit and cut (eos kept). */
  truncatedInputs: number;
  truncatedTargets: number;
  /** Records without a label, left out. */
  skipped: number;
}

export function encodeExamples(
  tokenizer: T5Tokenizer,
  task: TaskDefinition,
  resolved: ResolvedTask,
  raw: RawExample[],
  source: string,
): EncodedSplit {
  const rendered = raw.map((r) => renderExample(task, resolved, r, source)).filter((r) => r !== null);
  const inputs = tokenizer.encodeBatch(
    rendered.map((r) => r.input),
    { maxLength: task.maxInputLength },
  );
  const targets = tokenizer.encodeBatch(
    rendered.map((r) => r.target),
    { maxLength: task.maxTargetLength },
  );
  return {
    examples: rendered.map((r, i) => ({ input: inputs.ids[i], target: targets.ids[i], label: r.label })),
    truncatedInputs: inputs.truncated,
    truncatedTargets: targets.truncated,
    skipped: raw.length - rendered.length,
  };
}

export interface CacheKeyParts {
  /** Identifies the examples' content, e.g. the data file's sha256 and how it was read. */
  content: string;
  task: TaskDefinition;
  resolved: ResolvedTask;
  /** sha256 of the tokenizer file. */
  tokenizer: string;
}

export function cacheKey(parts: CacheKeyParts): string {
  const { task, resolved } = parts;
  const identity = {
    format: 1,
    content: parts.content,
    tokenizer: parts.tokenizer,
    template: task.template,
    labelColumn: task.labelColumn,
    maxInputLength: task.maxInputLength,
    maxTargetLength: task.maxTargetLength,
    kind: resolved.kind,
    labels: resolved.labels,
    labelTexts: resolved.labelTexts,
  };
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 32);
}

/** Flattened ids with offsets: row i is data[offsets[i]..offsets[i+1]). */
function flatten(rows: number[][]): { data: Int32Array; offsets: Int32Array } {
  const offsets = new Int32Array(rows.length + 1);
  rows.forEach((r, i) => (offsets[i + 1] = offsets[i] + r.length));
  const data = new Int32Array(offsets[rows.length]);
  rows.forEach((r, i) => data.set(r, offsets[i]));
  return { data, offsets };
}

function unflatten(data: Int32Array, offsets: Int32Array): number[][] {
  return Array.from({ length: offsets.length - 1 }, (_, i) => Array.from(data.subarray(offsets[i], offsets[i + 1])));
}

/** The encoded split from the cache, or `encode()`d and stored. `hit` says which. */
export function cachedEncoding(cacheDir: string, key: string, encode: () => EncodedSplit): { split: EncodedSplit; hit: boolean } {
  const file = join(cacheDir, `${key}.safetensors`);
  if (existsSync(file)) {
    try {
      return { split: readEncoding(file), hit: true };
    } catch {
      // A damaged cache entry is rebuilt below rather than failing the run.
    }
  }
  const split = encode();
  mkdirSync(cacheDir, { recursive: true });
  const inputs = flatten(split.examples.map((e) => e.input));
  const targets = flatten(split.examples.map((e) => e.target));
  writeTensorFile(
    file,
    [
      { name: 'inputs', shape: [inputs.data.length], data: inputs.data },
      { name: 'input_offsets', shape: [inputs.offsets.length], data: inputs.offsets },
      { name: 'targets', shape: [targets.data.length], data: targets.data },
      { name: 'target_offsets', shape: [targets.offsets.length], data: targets.offsets },
      { name: 'labels', shape: [split.examples.length], data: Int32Array.from(split.examples, (e) => e.label) },
    ],
    { truncated_inputs: String(split.truncatedInputs), truncated_targets: String(split.truncatedTargets), skipped: String(split.skipped) },
  );
  return { split, hit: false };
}

function readEncoding(file: string): EncodedSplit {
  const f = readTensorFile(file);
  const inputs = unflatten(requireTensor(f, 'inputs', Int32Array), requireTensor(f, 'input_offsets', Int32Array));
  const targets = unflatten(requireTensor(f, 'targets', Int32Array), requireTensor(f, 'target_offsets', Int32Array));
  const labels = requireTensor(f, 'labels', Int32Array);
  if (inputs.length !== labels.length || targets.length !== labels.length) throw new Error('inconsistent cache entry');
  const count = (k: string) => {
    const v = Number(f.metadata[k]);
    if (!Number.isInteger(v) || v < 0) throw new Error(`bad ${k}`);
    return v;
  };
  return {
    examples: inputs.map((input, i) => ({ input, target: targets[i], label: labels[i] })),
    truncatedInputs: count('truncated_inputs'),
    truncatedTargets: count('truncated_targets'),
    skipped: count('skipped'),
  };
}
