import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { T5_FAMILIES, findFamily } from '../checkpoint/families.js';
import { generateCheckpoint, type GeneratedDtype, type ShapeOverrides } from '../checkpoint/generate.js';
import { WEIGHTS_NAME, type WeightFormat } from '../checkpoint/shards.js';
import { printJson, UsageError, type Command } from './command.js';
import { choiceFlag, countFlag, numberFlag } from './flags.js';

const DTYPES = { float32: 'F32', float16: 'F16', bfloat16: 'BF16' } as const satisfies Record<string, GeneratedDtype>;
const dtypeFlag = choiceFlag('dtype', Object.keys(DTYPES) as (keyof typeof DTYPES)[]);
const formatFlag = choiceFlag('format', Object.keys(WEIGHTS_NAME) as WeightFormat[]);
const UNITS: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, KIB: 2 ** 10, MIB: 2 ** 20, GIB: 2 ** 30 };
/** The tokenizer Sprout ships (resources/tokenizer/t5), relative to the built out/ folder. */
const BUNDLED_TOKENIZER = resolve(fileURLToPath(import.meta.url), '../../resources/tokenizer/t5');

/** "10GB", "500MB", "2GiB" (transformers' max_shard_size spelling) or plain bytes. */
export function parseByteSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([KMG]i?B|B)?$/i.exec(text.trim());
  const bytes = match ? Number(match[1]) * UNITS[(match[2] ?? 'B').toUpperCase()] : NaN;
  if (!Number.isFinite(bytes) || bytes < 1) throw new UsageError(`--shard-size must be a size such as 10GB, 500MB or 4096, not "${text}".`);
  return Math.floor(bytes);
}

export const modelGenerateCommand: Command = {
  path: ['model', 'generate'],
  summary: 'Write a randomly initialised checkpoint laid out like a public T5 repository (for tests and benchmarks)',
  usage: `Usage: sprout model generate FAMILY --out DIR [${dtypeFlag.help}] [${formatFlag.help}]
       [--shard-size SIZE] [--seed N] [--layers N] [--d-model N] [--d-ff N] [--heads N] [--tokenizer DIR]

FAMILY is one of: ${T5_FAMILIES.map((f) => f.repo.replace(/^google\//, '')).join(', ')}.
Writes config.json, generation_config.json, the weights with the Hub repository's file names and shard split
(e.g. flan-t5-xl: model-00001-of-00002.safetensors + model-00002-of-00002.safetensors + index), and the tokenizer
copied from --tokenizer (default: the one Sprout ships). Weights are random with Hugging Face's init scales;
the same seed gives the same values in every format and dtype.
  --dtype       stored dtype (default float32, as on the Hub)
  --format      safetensors or bin (pytorch_model.bin); default the one a download of FAMILY picks
  --shard-size  transformers' max_shard_size, e.g. 10GB or 200MB; default the repository's own
  --layers, --d-model, --d-ff, --heads  shrink the architecture (tests); default the family's
Prints one JSON line: dir, family, dtype, format, files, total_bytes, config.`,
  options: {
    out: { type: 'string' },
    'shard-size': { type: 'string' },
    seed: { type: 'string' },
    layers: { type: 'string' },
    'd-model': { type: 'string' },
    'd-ff': { type: 'string' },
    heads: { type: 'string' },
    tokenizer: { type: 'string' },
  },
  choices: [dtypeFlag, formatFlag],
  positionals: true,
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError('Give exactly one family, e.g. `sprout model generate flan-t5-small --out DIR`.');
    const family = findFamily(positionals[0]);
    if (!family) throw new UsageError(`Unknown family "${positionals[0]}". Known: ${T5_FAMILIES.map((f) => f.repo).join(', ')}.`);
    if (typeof values.out !== 'string') throw new UsageError('--out DIR is required.');
    const dtypeName = dtypeFlag.read(values) ?? 'float32';
    const dtype = DTYPES[dtypeName];
    const format = formatFlag.read(values);
    const tokenizerFrom = resolve(typeof values.tokenizer === 'string' ? values.tokenizer : BUNDLED_TOKENIZER);
    if (!existsSync(tokenizerFrom)) throw new UsageError(`The tokenizer folder ${tokenizerFrom} does not exist; pass --tokenizer DIR.`);
    const seed = numberFlag(values, 'seed', { min: 0, max: Number.MAX_SAFE_INTEGER }) ?? 0;
    const shape: ShapeOverrides = {
      numLayers: countFlag(values, 'layers'),
      dModel: countFlag(values, 'd-model'),
      dFf: countFlag(values, 'd-ff'),
      numHeads: countFlag(values, 'heads'),
    };
    let shown = -1;
    const result = generateCheckpoint(resolve(values.out), {
      family,
      dtype,
      format,
      seed,
      shape,
      tokenizerFrom,
      shardBytes: typeof values['shard-size'] === 'string' ? parseByteSize(values['shard-size']) : undefined,
      onProgress: (bytes, total) => {
        const percent = Math.floor((100 * bytes) / total);
        if (percent === shown) return;
        shown = percent;
        process.stderr.write(
          process.stderr.isTTY ? `\r\x1b[K${percent}% of ${(total / 1e9).toFixed(2)} GB` : percent % 10 === 0 ? `${percent}%\n` : '',
        );
      },
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    printJson({
      dir: result.dir,
      family: family.repo,
      dtype: dtypeName,
      format: format ?? family.formats[0],
      files: result.files,
      total_bytes: result.totalBytes,
      config: result.config,
    });
  },
};
