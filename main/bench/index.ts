/**
 * `npm run bench [-- NAME...]`: runs benchmarks and prints one JSON object per benchmark on stdout, also written
 * to bench-results/NAME.json. Each benchmark runs in a child process of its own so that its peak RSS is its own.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ComputeChoice } from '../choices.js';
import { benchImport } from './import.js';
import { benchImportWorkbook } from './import-workbook.js';
import { benchLabel } from './label.js';
import { benchTokenizer } from './tokenizer.js';
import { benchTrain } from './train.js';
import { benchAgreement } from './agreement.js';
import { benchEngine } from './engine.js';
import { benchEvaluation } from './evaluation.js';
import { benchLearningSpeed } from './learning-speed.js';
import { benchLearningTasks } from './learning-tasks.js';
import { matmulPeakGflops } from './matmul-peak.js';
import { benchMemory } from './memory.js';
import { benchMixed } from './mixed.js';
import { benchScaling } from './scaling.js';
import { benchWeightForms } from './weight-forms.js';
import { benchWidthCola } from './width-cola.js';
import { benchLearningTransfer } from './learning-transfer.js';
import { benchInt8Scoring } from './int8-scoring.js';
import { benchSizes, sizesRow } from './sizes.js';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const workDir = process.env.SPROUT_BENCH_DIR ?? join(tmpdir(), 'sprout-bench');
const tokenizerFrom = resolve(root, 'resources/tokenizer/t5');

type Bench = () => Promise<Record<string, unknown>>;

const benches: Record<string, Bench> = {
  matmul: async () => ({ benchmark: 'matmul', size: 2048, matmul_peak_gflops: Number((await matmulPeakGflops()).toFixed(1)) }),
  engine: () => benchEngine({ workDir, tokenizerFrom }),
  train: () => benchTrain({ workDir, tokenizerFrom }),
  label: () => benchLabel({ workDir, tokenizerFrom }),
  evaluation: () => benchEvaluation({ workDir, tokenizerFrom }),
  import: () => benchImport(),
  'import-xlsx': () => benchImportWorkbook(),
  tokenizer: () => benchTokenizer(root),
  mixed: () => benchMixed({ workDir, tokenizerFrom }),
  'memory-small': () => benchMemory({ workDir, tokenizerFrom, shape: 't5-small' }),
  'memory-base': () => benchMemory({ workDir, tokenizerFrom, shape: 't5-base' }),
  scaling: () => benchScaling({ workDir, tokenizerFrom }),
  agreement: () => benchAgreement({ root, outDir: resolve(root, 'bench-results') }),
  'learning-tasks': () => benchLearningTasks({ root, outDir: resolve(root, 'bench-results') }),
  'learning-speed': () => benchLearningSpeed({ root }),
  'weight-forms': () => benchWeightForms(),
  'width-cola': () => benchWidthCola(root),
  'learning-transfer': () => benchLearningTransfer({ root, outDir: resolve(root, 'bench-results'), workDir }),
  'int8-scoring': () => benchInt8Scoring({ root, workDir, tokenizerFrom }),
  sizes: () => benchSizes(resolve(root, 'bench-results/sizes.json')),
  // One row of `sizes`, in a process of its own (started by benchSizes; not a benchmark to run by name).
  'sizes-row': () => {
    const row = JSON.parse(process.env.SPROUT_SIZES_ROW ?? '{}') as {
      dir: string;
      width: 'int8';
      compute: ComputeChoice;
      size: string;
      convertOnly: boolean;
    };
    return sizesRow(row.dir, row, row.size, row.convertOnly);
  },
};

/** `engine` etc. name one benchmark; a group name runs several. */
const groups: Record<string, string[]> = {
  memory: ['memory-small', 'memory-base'],
  // learning-*: each writes its own key of bench-results/learning.json (learning-results.ts); learning-speed only
  // times steps (learning-tasks measures them too, with the whole runs), to be rerun alone on a quiet machine.
  learning: Object.keys(benches).filter((n) => n.startsWith('learning-') && n !== 'learning-speed'),
  all: Object.keys(benches).filter((n) => n !== 'sizes-row'),
};

async function main(names: string[]): Promise<void> {
  if (process.env.SPROUT_BENCH_CHILD) {
    const result = await benches[names[0]]();
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const selected = (names.length ? names : ['all']).flatMap((n) => groups[n] ?? [n]);
  const unknown = selected.filter((n) => !benches[n]);
  if (unknown.length) {
    process.stderr.write(
      `Unknown benchmark ${unknown.join(', ')}. Known: ${[...Object.keys(benches), ...Object.keys(groups)].join(', ')}\n`,
    );
    process.exitCode = 2;
    return;
  }
  const outDir = resolve(root, 'bench-results');
  mkdirSync(outDir, { recursive: true });
  mkdirSync(workDir, { recursive: true });
  for (const name of selected) {
    process.stderr.write(`bench: ${name}…\n`);
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), name], {
      env: { ...process.env, SPROUT_BENCH_CHILD: '1', SPROUT_HOME: process.env.SPROUT_HOME ?? join(workDir, 'home') },
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 2 ** 20,
    });
    const result = { ...JSON.parse(out.toString().trim().split('\n').pop()!), machine: machine(), date: new Date().toISOString() };
    writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
}

function machine() {
  return {
    platform: `${process.platform}-${process.arch}`,
    node: process.version,
    cpus: (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? null,
  };
}

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(`bench failed: ${(error as Error).stack}\n`);
  process.exitCode = 1;
});
