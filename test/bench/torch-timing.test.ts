/**
 * learning-speed times PyTorch beside Sprout through scripts/torch_prompt_tuning.py --time and a schema on its last
 * line: two files that must agree. It needs a python3 that imports torch, numpy and sentencepiece (Debian's
 * python3-torch, python3-sentencepiece), as the benchmark does; a machine without one (CI's clean machine) skips it
 * and names why, as the benchmark's JSON does. Whether that PyTorch is a baseline at all depends on the BLAS under it.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { blasProblem, timeTorchSteps, torchBlas, torchPython } from '../../main/bench/torch-timing.js';
import { repoRoot } from '../train/fixtures.js';

const python = torchPython();

describe("PyTorch's step time beside Sprout's", () => {
  it.skipIf(!python)(`times real steps of the recorded SST-2 run on 1 thread (${python ?? 'no python3 here imports torch'})`, () => {
    const timing = timeTorchSteps(repoRoot, python!, 'sst2', 2);
    expect(timing).toMatchObject({ steps_timed: 2, threads: 1 });
    expect(timing.torch).toMatch(/^\d+\.\d+/);
    expect(timing.seconds_per_step_median).toBeGreaterThan(0);
    expect(timing.seconds_per_step_mean).toBeGreaterThan(0);
    expect(timing.blas).toEqual(torchBlas(repoRoot, python!));
    for (const file of timing.blas) expect(existsSync(file), file).toBe(true);
  });

  it("refuses netlib's reference BLAS as a baseline, and takes an optimised or built-in one", () => {
    const netlib = ['/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0', '/usr/lib/x86_64-linux-gnu/lapack/liblapack.so.3.11.0'];
    expect(blasProblem(netlib)).toMatch(/reference BLAS \(\/usr\/lib\/x86_64-linux-gnu\/blas\/libblas\.so\.3\.11\.0, .*libopenblas0/);
    const openblas = [
      '/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3',
      '/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so',
    ];
    expect(blasProblem(openblas)).toBeUndefined();
    expect(blasProblem(['/opt/intel/oneapi/mkl/lib/libmkl_rt.so.2'])).toBeUndefined();
    expect(blasProblem([])).toBeUndefined();
  });
});
