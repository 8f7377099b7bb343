import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SproutError } from '../../main/errors.js';
import { summariseNativeOutput, tidyReason } from '../../main/runtime/probe-child.js';
import { chooseProvider, gpuProviders, PROVIDER_LABELS } from '../../main/runtime/providers-probe.js';
import { lastJson, sprout } from '../fault/spawn.js';
import { shared, tinyModel } from '../train/fixtures.js';

/** Whether this machine has a GPU provider that works: the assertions below hold either way. */
const gpu = await chooseProvider('gpu').then(
  (c) => c.provider,
  (e: unknown) => e as SproutError,
);

describe('choosing a provider never lies about the CPU', () => {
  it('`gpu` is a GPU provider or a clear error naming every GPU provider and why, never the CPU', () => {
    if (typeof gpu === 'string') {
      expect(gpuProviders()).toContain(gpu);
      return;
    }
    expect(gpu).toBeInstanceOf(SproutError);
    expect(gpu.code).toBe('no-gpu');
    for (const p of gpuProviders()) expect(gpu.message).toContain(`${PROVIDER_LABELS[p]}: `);
    expect(gpu.message).toMatch(/--device cpu/);
  });

  it('`auto` says why when it settles for the CPU, in words without onnxruntime source paths', async () => {
    const choice = await chooseProvider('auto');
    if (choice.provider !== 'cpu') {
      expect(choice.skipped.map((s) => s.provider)).not.toContain(choice.provider);
      return;
    }
    expect(choice.skipped.map((s) => s.provider)).toEqual(gpuProviders());
    expect(choice.reason).toMatch(/^no GPU provider works here \(/);
    for (const s of choice.skipped) expect(s.reason).not.toMatch(/onnxruntime_src|\.cc:\d+/);
  });

  it('native provider output becomes one readable line', () => {
    // Dawn's output and onnxruntime's message, as the WebGPU probe printed them on a machine without Vulkan.
    const stderr = `Warning: Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file: No such file or directory
    at operator() (/build/Release/_deps/dawn-src/src/dawn/native/vulkan/BackendVk.cpp:364)
`;
    expect(summariseNativeOutput(stderr)).toBe(
      "Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file: No such file or directory",
    );
    expect(summariseNativeOutput('\n\n')).toBeNull();
    const message =
      '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:100 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters';
    expect(tidyReason(message)).toBe('Failed to get a WebGPU adapter: No supported adapters');
    expect(tidyReason('no available backend found.')).toBe('no available backend found.');
  });
});

describe('the CLI says which provider it uses and why (spawned)', () => {
  const trainArgs = (device: string) => [
    'train',
    '--model',
    tinyModel,
    '--device',
    device,
    '--threads',
    '1',
    '--data',
    join(shared, 'data/cola/in_domain_train.tsv'),
    '--no-header',
    '--quoting',
    'none',
    // CoLA's first 18 rows are all acceptable: 32 hold both labels, which training needs.
    '--limit',
    '32',
    '--text-column',
    '3',
    '--label-column',
    '1',
    '--verbalizer',
    '0=unacceptable,1=acceptable',
    '--prompt-length',
    '2',
    '--batch-size',
    '4',
    '--steps',
    '2',
    '--seed',
    '1',
  ];

  it('`train --device auto` prints no native provider noise, and the run record keeps the provider and the reason', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sprout-provider-'));
    const run = await sprout(trainArgs('auto'), home);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toMatch(/^Warning: |BackendVk|onnxruntime_src|^\s+at /m);
    const result = lastJson(run) as { run_id: number; provider: string; provider_detail: string; provider_reason: string | null };
    const choice = await chooseProvider('auto');
    expect(result.provider).toBe(choice.provider);
    expect(result.provider_reason).toBe(choice.reason);
    // The library row, read with Python's sqlite3 rather than Sprout's own reader.
    const stored = execFileSync('python3', [
      '-c',
      'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select provider from runs where id=?", (int(sys.argv[2]),)).fetchone()[0])',
      join(home, 'library.sqlite'),
      String(result.run_id),
    ])
      .toString()
      .trim();
    expect(stored).toBe(choice.reason ? `${result.provider_detail} — ${choice.reason}` : result.provider_detail);
    if (choice.reason) expect(run.stderr).toContain(`steps on ${result.provider_detail} (${choice.reason})`);
  });

  it('`train --device gpu` without a working GPU fails in one line instead of training on the CPU', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sprout-provider-'));
    const run = await sprout(trainArgs('gpu'), home);
    if (typeof gpu === 'string') {
      expect(run.code).toBe(0);
      expect((lastJson(run) as { provider: string }).provider).toBe(gpu);
      return;
    }
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/No GPU execution provider works on this machine/);
  });
});
