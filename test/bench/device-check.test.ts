import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../train/fixtures.js';

/** The report's fields these assertions read, taken out by Python's json module rather than by Sprout. */
function readReport(file: string) {
  const script = `
import json, sys
r = json.load(open(sys.argv[1]))
t = [x for x in r["timings"] if x["train_step_ms"] is not None]
print(json.dumps({
  "gpu": r["providers"]["gpu"], "placement": r["placement"], "reference": r["reference"]["results"],
  "cpu_steps": [x["train_step_ms"] for x in t if x["device"].startswith("CPU")],
  "cpu_scores": [x["score_examples_per_s"] for x in t if x["device"].startswith("CPU")],
  "peft": r["peft"], "targets": r["targets"], "quick": r["quick"],
}))`;
  return JSON.parse(execFileSync('python3', ['-c', script, file]).toString()) as {
    gpu: { provider: string | null; error: string | null };
    placement: { skipped?: string; log_reader_check_on_cpu?: { encode: { placementLines: string[]; cpuNodes: number } } };
    reference: { provider: string; within_tolerance: boolean }[];
    cpu_steps: number[];
    cpu_scores: number[];
    peft: { skipped?: string; results?: unknown[] };
    targets: Record<string, number | null>;
    quick: boolean;
  };
}

describe('npm run device-check -- --quick (spawned, on whatever this machine has)', () => {
  it('reports the provider or why there is none, reference agreement, CPU timings, and PEFT or why it was skipped', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sprout-device-')), 'report.json');
    const run = spawnSync(process.execPath, [join(repoRoot, 'out/device-check.js'), '--quick', '--out', out], {
      encoding: 'utf8',
      env: { ...process.env, OUT: '' },
    });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n').pop()!)).toEqual(JSON.parse(readFileSync(out, 'utf8')));
    const r = readReport(out);
    expect(r.quick).toBe(true);
    if (r.gpu.provider === null) {
      expect(r.gpu.error).toMatch(/No GPU execution provider works on this machine \(CUDA: .*WebGPU: /);
      expect(r.placement.skipped).toContain('no GPU provider');
      const reader = r.placement.log_reader_check_on_cpu!.encode;
      expect(reader.placementLines.some((l) => /placed on \[CPUExecutionProvider\]/.test(l))).toBe(true);
      expect(reader.cpuNodes).toBeGreaterThan(0);
    }
    expect(r.reference.length).toBeGreaterThan(0);
    expect(r.reference.every((x) => x.within_tolerance)).toBe(true);
    expect(r.cpu_steps.length).toBeGreaterThan(0);
    expect(r.cpu_steps.every((v) => v > 0)).toBe(true);
    expect(r.cpu_scores.every((v) => v > 0)).toBe(true);
    const torch = spawnSync('python3', ['-c', 'import torch, transformers, peft']).status === 0;
    if (torch) expect(r.peft.results?.length).toBeGreaterThan(0);
    else expect(r.peft.skipped).toMatch(/^python3 has no (torch|transformers|peft)/);
    // Quick mode has no t5-base figures, so no target can be called met or missed.
    expect(r.targets.t5_base_train_speedup_vs_2_cpu_cores).toBeNull();
  });
});
