/**
 * `npm run device-check`: one prepared check of Sprout on a GPU machine, in one go, printing one JSON line and
 * writing the same report to --out. It records the machine, which provider the probe chooses and why, where
 * onnxruntime places every graph kind on that provider (CPU fallback disabled, then the verbose placement log),
 * the Hugging Face reference fixtures run on it, and train-step and scoring timings of t5-small- and
 * t5-base-shaped checkpoints at batch 8/32/128 on the GPU against the CPU (2 threads, as the targets are stated),
 * with peak GPU memory, and PEFT + PyTorch's prompt tuning of the same shapes where Python has torch.
 * Without a GPU it degrades: the provider is reported missing with the reason, CPU timings are still taken.
 * `--quick` (the CPU test in npm test): the tiny fixture only, a tiny shape, batch 8. `--shapes tiny,t5-small,t5-base`
 * and `--batches 8,32` narrow the timings.
 * `--prepare`: packs what must travel to such a machine into .device/ and prints the command and carry list.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { T5Config } from '../checkpoint/config.js';
import { buildDecodeStepGraph, buildEncodeGraph, buildScoreGraph, buildTrainGraph } from '../graph/t5/graphs.js';
import type { WeightLookup } from '../graph/t5/model.js';
import { openCheckpoint } from '../checkpoint/checkpoint.js';
import { loadPromptModel } from '../runtime/model.js';
import { listProviders } from '../runtime/providers.js';
import { chooseProvider } from '../runtime/providers-probe.js';
import type { DevicePreference, ProviderName } from '../runtime/types.js';
import { checkReference, TOLERANCE, type ReferenceResult } from './device-check/reference.js';
import { nvidiaSmi, withPeakGpuMemory } from './device-check/gpu-memory.js';
import { placementOf, type PlacementReport } from './device-check/placement-log.js';
import { prepare } from './device-check/prepare.js';
import { ensureCheckpoint, T5_SMALL } from './engine.js';
import { T5_BASE } from './memory.js';
import { median, randomIds, time } from './measure.js';

interface Options {
  quick: boolean;
  /** Shapes and batch sizes to time; the full check's by default (t5-small and t5-base, 8/32/128). */
  shapes: string[];
  batches: number[];
  out: string;
  fixtures: string;
  tokenizer: string;
  repo: string;
  workDir: string;
}

const here = dirname(fileURLToPath(import.meta.url));

function parseArgs(argv: string[]): Options | 'prepare' {
  if (argv.includes('--prepare')) return 'prepare';
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const repo = resolve(value('--repo') ?? join(here, '..'));
  const quick = argv.includes('--quick');
  return {
    quick,
    shapes: value('--shapes')?.split(',') ?? (quick ? ['tiny'] : ['t5-small', 't5-base']),
    batches: value('--batches')?.split(',').map(Number) ?? (quick ? [8] : [8, 32, 128]),
    out: resolve(value('--out') ?? (process.env.OUT ? join(process.env.OUT, 'device-check.json') : 'device-check.json')),
    fixtures: resolve(value('--fixtures') ?? join(repo, '../shared/fixtures')),
    tokenizer: resolve(value('--tokenizer') ?? join(repo, 'resources/tokenizer/t5')),
    repo,
    workDir: value('--work') ?? mkdtempSync(join(tmpdir(), 'sprout-device-check-')),
  };
}

const log = (message: string) => process.stderr.write(`device-check: ${message}\n`);
const round = (v: number, digits = 1) => Number(v.toFixed(digits));

function machine() {
  const vulkan = spawnSync('sh', ['-c', 'ldconfig -p | grep -c libvulkan.so.1'], { encoding: 'utf8' }).stdout.trim();
  return {
    platform: `${process.platform}-${process.arch}`,
    node: process.version,
    onnxruntime: listProviders().onnxruntimeVersion,
    cpu: cpus()[0]?.model ?? null,
    logical_cpus: availableParallelism(),
    gpus: nvidiaSmi(['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'])?.split('\n') ?? null,
    vulkan_loader: Number(vulkan) > 0,
  };
}

async function providers() {
  const auto = await chooseProvider('auto');
  const gpu = await chooseProvider('gpu').then(
    (c) => ({ provider: c.provider as ProviderName | null, reason: c.reason, error: null as string | null }),
    (e: Error) => ({ provider: null, reason: null, error: e.message }),
  );
  return { listed: listProviders().providers, auto: { provider: auto.provider, reason: auto.reason, skipped: auto.skipped }, gpu };
}

/** Every graph kind (or those named), built for a fixture, with its weights resolved in the fixture's folder. */
async function placements(dir: string, provider: ProviderName, only?: string[]): Promise<Record<string, PlacementReport>> {
  const checkpoint = await openCheckpoint(dir);
  const lookup: WeightLookup = (name) => {
    const e = checkpoint.tensors.get(name)!;
    return {
      kind: 'float',
      dtype: 'float32',
      dims: e.shape,
      data: { location: e.file.split(/[\\/]/).pop()!, offset: e.offset, length: e.length },
    };
  };
  const cfg = checkpoint.config;
  const graphs = {
    train: buildTrainGraph(cfg, lookup, 4),
    'train mixed': buildTrainGraph(cfg, lookup, 4, 'perExample'),
    'train dropout': buildTrainGraph(cfg, lookup, 4, 'shared', true),
    score: buildScoreGraph(cfg, lookup, 4),
    'score mixed': buildScoreGraph(cfg, lookup, 4, 'perExample'),
    encode: buildEncodeGraph(cfg, lookup, 4),
    decodeStep: buildDecodeStepGraph(cfg, lookup),
  };
  const out: Record<string, PlacementReport> = {};
  for (const [kind, graph] of Object.entries(graphs))
    if (!only || only.includes(kind)) out[kind] = await placementOf(graph.encode(), provider, dir);
  return out;
}

interface Timing {
  shape: string;
  device: string;
  batch: number;
  train_step_ms: number | null;
  score_examples_per_s: number | null;
  peak_gpu_mib: number | null;
  skipped?: string;
}

const TINY: Partial<T5Config> = {
  vocabSize: 32128,
  dModel: 64,
  dKv: 16,
  numHeads: 4,
  dFf: 128,
  numLayers: 2,
  numDecoderLayers: 2,
  feedForward: 'relu',
  tieWordEmbeddings: true,
};

/** Train step (64 input tokens + a 20-row prompt, 4 target tokens) and 2-candidate scoring at one batch size. */
async function timeShape(
  dir: string,
  shape: string,
  device: DevicePreference,
  threads: number | undefined,
  batch: number,
  reps: number,
  precision: 'fp32' | 'fp16' = 'fp32',
): Promise<Timing> {
  const model = await loadPromptModel(dir, { device, threads, precision });
  try {
    const L = 64,
      P = 20,
      T = 4;
    const prompt = { length: P, data: model.embeddings(randomIds(P, 5000, 1)) };
    const inputs = Array.from({ length: batch }, (_, b) => randomIds(L - 1, 32000, 10 + b).concat(1));
    const targets = Array.from({ length: batch }, (_, b) => randomIds(T - 1, 32000, 50 + b).concat(1));
    const candidates = [
      [9961, 1],
      [29452, 1],
    ];
    const { result, peakMib } = await withPeakGpuMemory(async () => {
      await model.trainStep(prompt, { inputs, targets });
      const steps: number[] = [];
      for (let i = 0; i < reps; i++) steps.push(await time(() => model.trainStep(prompt, { inputs, targets })));
      await model.score(prompt, inputs, candidates);
      const scores: number[] = [];
      for (let i = 0; i < reps; i++) scores.push(await time(() => model.score(prompt, inputs, candidates)));
      return { step: median(steps), score: median(scores) };
    });
    return {
      shape,
      device: model.providerDetail,
      batch,
      train_step_ms: round(result.step),
      score_examples_per_s: round(batch / (result.score / 1000)),
      peak_gpu_mib: model.provider === 'cpu' ? null : peakMib,
    };
  } finally {
    await model.dispose();
  }
}

/** GPU at every batch; the CPU baseline on 2 threads only where it fits in the time left (its batch-128 t5-base step alone takes minutes). */
async function timings(o: Options, gpu: ProviderName | null, deadline: number): Promise<Timing[]> {
  const known: Record<string, Partial<T5Config>> = { tiny: TINY, 't5-small': T5_SMALL, 't5-base': T5_BASE };
  const unknown = o.shapes.filter((s) => !known[s]);
  if (unknown.length) throw new Error(`unknown --shapes ${unknown.join(', ')}: use ${Object.keys(known).join(', ')}`);
  const batches = o.batches;
  const out: Timing[] = [];
  for (const name of o.shapes) {
    const config = known[name];
    log(`writing a random ${name}-shaped checkpoint`);
    const dir = await ensureCheckpoint(join(o.workDir, name), { ...config }, o.tokenizer);
    for (const batch of batches) {
      for (const precision of gpu ? (['fp32', 'fp16'] as const) : []) {
        log(`${name} batch ${batch} on ${gpu} (${precision})`);
        out.push(await timeShape(dir, name, gpu!, undefined, batch, 5, precision));
      }
      const cpuBudget = Date.now() < deadline - (name === 't5-base' ? 120_000 : 60_000) * (batch / 8);
      if (o.quick || (batch <= 32 && cpuBudget)) {
        log(`${name} batch ${batch} on the CPU (2 threads)`);
        out.push(await timeShape(dir, name, 'cpu', 2, batch, o.quick ? 2 : 3));
      } else {
        out.push({
          shape: name,
          device: 'CPU · 2 threads',
          batch,
          train_step_ms: null,
          score_examples_per_s: null,
          peak_gpu_mib: null,
          skipped: 'left out to stay inside the 8-minute budget',
        });
      }
    }
  }
  return out;
}

/** PEFT + PyTorch prompt tuning of the same shapes (scripts/peft_timing.py); skipped with the reason where it cannot run. */
function peftTimings(o: Options): unknown {
  const script = join(o.repo, 'scripts/peft_timing.py');
  const args = [script, ...(o.quick ? ['--quick'] : [])];
  const run = spawnSync('python3', args, { encoding: 'utf8', timeout: 240_000, env: { ...process.env, PYTHONUNBUFFERED: '1' } });
  if (run.error) return { skipped: `python3 could not run (${run.error.message})` };
  const line = run.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line);
  } catch {
    return { skipped: `the PEFT script failed (exit ${run.status}): ${run.stderr.trim().split('\n').pop() ?? ''}` };
  }
}

/** The targets, computed from the figures; null where a figure is missing. */
function targets(t: Timing[], peft: unknown) {
  const at = (shape: string, cpu: boolean, batch: number) =>
    t.find((x) => x.shape === shape && x.batch === batch && x.device.startsWith('CPU') === cpu);
  const gpuBase = t
    .filter((x) => x.shape === 't5-base' && x.batch === 8 && !x.device.startsWith('CPU') && x.train_step_ms !== null)
    .reduce<number | null>((best, x) => (best === null || x.train_step_ms! < best ? x.train_step_ms : best), null);
  const cpuBase = at('t5-base', true, 8)?.train_step_ms ?? null;
  const peftBase =
    (peft as { results?: { shape: string; batch: number; dtype: string; train_step_ms: number }[] }).results?.find(
      (r) => r.shape === 't5-base' && r.batch === 8 && r.dtype === 'float32',
    )?.train_step_ms ?? null;
  return {
    t5_base_train_speedup_vs_2_cpu_cores: gpuBase && cpuBase ? round(cpuBase / gpuBase, 2) : null,
    t5_base_train_speedup_target: 20,
    t5_base_train_vs_peft_eager_float32: gpuBase && peftBase ? round(peftBase / gpuBase, 2) : null,
    t5_base_train_vs_peft_target: 1,
  };
}

async function main(): Promise<void> {
  const parsed = parseArgs(process.argv.slice(2));
  if (parsed === 'prepare') return prepare(resolve(here, '..'));
  const o = parsed;
  const started = Date.now();
  const deadline = started + 7 * 60_000;
  mkdirSync(o.workDir, { recursive: true });
  process.env.SPROUT_HOME ??= join(o.workDir, 'home');
  const report: Record<string, unknown> = { check: 'device', quick: o.quick, date: new Date().toISOString(), machine: machine() };
  log('probing execution providers');
  const found = await providers();
  report.providers = found;
  const gpu = found.gpu.provider;
  const fixtures = (o.quick ? ['tiny-t5-v1_0'] : ['tiny-t5-v1_0', 'tiny-t5-v1_1'])
    .map((f) => join(o.fixtures, f))
    .filter((d) => existsSync(join(d, 'reference.json')));
  if (gpu) {
    log(`placement of every graph kind on ${gpu}`);
    report.placement = fixtures.length
      ? await placements(fixtures[fixtures.length - 1], gpu)
      : { skipped: `no fixtures under ${o.fixtures}` };
  } else {
    // The placement log reader still runs, on the CPU provider, so that a GPU machine is not its first test.
    const readerCheck = fixtures.length ? await placements(fixtures[0], 'cpu', ['encode']) : null;
    report.placement = { skipped: `no GPU provider: ${found.gpu.error}`, log_reader_check_on_cpu: readerCheck };
  }
  log('Hugging Face reference fixtures');
  const reference: ReferenceResult[] = [];
  for (const dir of fixtures) {
    reference.push(await checkReference(dir, 'cpu', 'fp32'));
    if (gpu) reference.push(await checkReference(dir, gpu, 'fp32'), await checkReference(dir, gpu, 'fp16'));
  }
  report.reference = {
    tolerance: TOLERANCE,
    results: reference,
    ...(fixtures.length ? {} : { skipped: `no fixtures under ${o.fixtures}` }),
  };
  report.timings = await timings(o, gpu, deadline);
  log('PEFT + PyTorch');
  report.peft = peftTimings(o);
  report.targets = targets(report.timings as Timing[], report.peft);
  report.seconds = round((Date.now() - started) / 1000);
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((error) => {
  process.stderr.write(`device-check failed: ${(error as Error).stack}\n`);
  process.exitCode = 1;
});
