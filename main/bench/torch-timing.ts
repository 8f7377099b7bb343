/**
 * PyTorch's seconds per training step for a recorded mini-t5-instruct run, timed on this machine in the same minute
 * as Sprout's: scripts/torch_prompt_tuning.py --time (transformers 4.35's T5 and Adafactor in PyTorch, 1 thread; run
 * as recorded it reproduces the reference's evaluations exactly). The reference's recorded seconds per step came from
 * another machine, and this one's speed drifts by tens of percent within an evening; a ratio taken minutes apart on
 * one machine holds either still. Needs a python3 with torch, numpy and sentencepiece (Debian: python3-torch,
 * python3-sentencepiece) and an optimised BLAS under it (blasProblem); without them the benchmark says which is
 * missing and times Sprout alone.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { z } from 'zod';
import type { LearningTask } from './learning-reference.js';

/** Where to look for such a python3: the one on PATH first, then Debian's (a pyenv shim on PATH may lack torch). */
const PYTHONS = ['python3', '/usr/bin/python3'];

const TimingLine = z.object({
  timing: z.object({
    seconds_per_step_mean: z.number().positive(),
    seconds_per_step_median: z.number().positive(),
    steps_timed: z.number().int().min(1),
    threads: z.literal(1),
    torch: z.string(),
    blas: z.array(z.string()),
  }),
});

const BlasLine = z.object({ blas: z.array(z.string()) });

export type TorchTiming = z.infer<typeof TimingLine>['timing'];

/** The first python3 that imports what the replay script needs, or undefined. */
export function torchPython(): string | undefined {
  return PYTHONS.find((p) => spawnSync(p, ['-c', 'import torch, numpy, sentencepiece'], { stdio: 'ignore' }).status === 0);
}

const OPTIMISED_BLAS = /openblas|mkl|blis|atlas/i;

/**
 * Why PyTorch's timing would be no baseline, from the BLAS files it loaded (the script's blas_libraries): Debian's
 * python3-torch multiplies with whatever libblas.so.3 is installed, and on a machine without an optimised one that is
 * netlib's reference BLAS, about 30x slower (checked: a [1200,128]x[128,512] product 53 ms against 1.6 ms with
 * OpenBLAS, and a topic step 2.5 s), which would make Sprout look 30x faster than PyTorch. A torch that links its BLAS
 * in loads no such file and is taken as it is.
 */
export function blasProblem(blas: readonly string[]): string | undefined {
  if (blas.length === 0 || blas.some((p) => OPTIMISED_BLAS.test(p))) return undefined;
  return `PyTorch here multiplies with the reference BLAS (${blas.join(', ')}), about 30x slower than an optimised one (Debian: apt-get install libopenblas0)`;
}

function runScript(root: string, python: string, args: string[]) {
  const script = join(root, 'scripts', 'torch_prompt_tuning.py');
  const one = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const run = spawnSync(python, [script, ...args], { encoding: 'utf8', env: { ...process.env, ...one }, maxBuffer: 16 << 20 });
  if (run.status !== 0)
    throw new Error(`${python} ${script} ${args.join(' ')} failed (${run.status ?? run.signal}): ${run.stderr.slice(-800)}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as unknown;
}

/** The BLAS files PyTorch multiplies with here (see blasProblem). */
export function torchBlas(root: string, python: string): string[] {
  return BlasLine.parse(runScript(root, python, ['--blas'])).blas;
}

/** A python3 whose PyTorch step times are a baseline on this machine, or why there is none. */
export function torchBaseline(root: string): { python: string } | { missing: string } {
  const python = torchPython();
  if (!python) return { missing: 'no python3 here imports torch, numpy and sentencepiece (Debian: python3-torch, python3-sentencepiece)' };
  const problem = blasProblem(torchBlas(root, python));
  return problem ? { missing: problem } : { python };
}

/** PyTorch's mean and median wall seconds per step over `steps` steps after the first, 1 thread (BLAS and OpenMP held to one). */
export function timeTorchSteps(root: string, python: string, task: LearningTask, steps: number): TorchTiming {
  const args = ['--model', 'instruct', '--task', task, '--steps', String(steps + 1), '--threads', '1', '--time'];
  return TimingLine.parse(runScript(root, python, args)).timing;
}
