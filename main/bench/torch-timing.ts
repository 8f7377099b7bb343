/**
 * PyTorch's seconds per training step for a recorded mini-t5-instruct run, timed on this machine in the same minute
 * as Sprout's: scripts/torch_prompt_tuning.py --time (transformers 4.35's T5 and Adafactor in PyTorch, 1 thread; run
 * as recorded it reproduces the reference's evaluations exactly). The reference's recorded seconds per step came from
 * another machine, and this one's speed drifts by tens of percent within an evening; a ratio taken minutes apart on
 * one machine holds either still. Needs a python3 with torch, numpy and sentencepiece (Debian: python3-torch,
 * python3-sentencepiece); without one the benchmark says so and times Sprout alone.
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
  }),
});

export type TorchTiming = z.infer<typeof TimingLine>['timing'];

/** The first python3 that imports what the replay script needs, or undefined. */
export function torchPython(): string | undefined {
  return PYTHONS.find((p) => spawnSync(p, ['-c', 'import torch, numpy, sentencepiece'], { stdio: 'ignore' }).status === 0);
}

/** PyTorch's mean and median wall seconds per step over `steps` steps after the first, 1 thread (BLAS and OpenMP held to one). */
export function timeTorchSteps(root: string, python: string, task: LearningTask, steps: number): TorchTiming {
  const script = join(root, 'scripts', 'torch_prompt_tuning.py');
  const args = [script, '--model', 'instruct', '--task', task, '--steps', String(steps + 1), '--threads', '1', '--time'];
  const one = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const run = spawnSync(python, args, { encoding: 'utf8', env: { ...process.env, ...one }, maxBuffer: 16 << 20 });
  if (run.status !== 0) throw new Error(`${python} ${args.join(' ')} failed (${run.status ?? run.signal}): ${run.stderr.slice(-800)}`);
  const last = run.stdout.trim().split('\n').at(-1) ?? '';
  return TimingLine.parse(JSON.parse(last)).timing;
}
