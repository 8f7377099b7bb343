/**
 * The memory plan of a labelling job (#26.3): `sprout label --dry-run` plans without loading the model or starting a
 * job, counts the model at the width and compute the job would use (float32 bytes as the checkpoint's own
 * safetensors header states them, read by Python; int8 products as the weights the loaded model holds), and a plan
 * that cannot fit exits 1 naming what would.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../main/checkpoint/safetensors.js';
import { planLabelling } from '../../main/label/memory-plan.js';
import { loadPromptModel } from '../../main/runtime/model.js';
import { loadTokenizer } from '../../main/tokenizer/index.js';
import { sprout } from '../fault/spawn.js';
import { shared } from '../train/fixtures.js';

const instruct = join(shared, 'fixtures/mini-t5-instruct');
const labels = ['world', 'sports', 'business', 'science'];

/** Bytes of the checkpoint's tensors, from its safetensors header (Python's json and struct). */
function checkpointBytes(): number {
  const script = `import json, struct, sys
raw = open(sys.argv[1], 'rb')
n = struct.unpack('<Q', raw.read(8))[0]
h = json.loads(raw.read(n))
print(sum(v['data_offsets'][1] - v['data_offsets'][0] for k, v in h.items() if k != '__metadata__'))`;
  return Number(execFileSync('python3', ['-c', script, join(instruct, 'model.safetensors')], { encoding: 'utf8' }));
}

describe('labelling memory plan', () => {
  const home = mkdtempSync(join(tmpdir(), 'sprout-label-plan-'));
  const promptFile = join(home, 'prompt.safetensors');
  writeSafetensors(promptFile, [{ name: 'prompt', dtype: 'F32', shape: [20, 128], data: new Float32Array(20 * 128).fill(0.1) }]);
  const input = join(home, 'rows.csv');
  writeFileSync(input, 'text\nA match report\nA market report\n');
  const args = (...more: string[]) => [
    'label',
    '--prompt-file',
    promptFile,
    '--model',
    instruct,
    '--labels',
    labels.join(','),
    '--input',
    input,
    '--dry-run',
    ...more,
  ];

  it('counts the model at the width and compute chosen', async () => {
    const tokenizer = await loadTokenizer(instruct);
    const prompts = [
      {
        ref: 'file',
        name: 'p',
        prompt: { length: 20, data: new Float32Array(20 * 128) },
        task: { kind: 'classification' as const, labels, verbalisers: labels, template: null },
      },
    ];
    const plan = (weights: 'fp32' | 'int8', compute: 'float' | 'int8' = 'float') =>
      planLabelling({ model: instruct, tokenizer, prompts, device: 'cpu', weights, compute });
    const [fp32, int8, products] = [await plan('fp32'), await plan('int8'), await plan('fp32', 'int8')];
    expect(fp32.modelBytes).toBe(checkpointBytes());
    expect(int8.modelBytes).toBe(fp32.modelBytes * (1.25 / 4));
    expect([products.width, products.compute]).toEqual(['int8', 'int8']);
    const loaded = await loadPromptModel(instruct, { device: 'cpu', compute: 'int8', cacheDir: join(home, 'cache') });
    await loaded.dispose();
    // The loaded weights add a safetensors header per tensor file (under 256 bytes each).
    expect(products.modelBytes).toBeLessThanOrEqual(loaded.weightBytes);
    expect(products.modelBytes).toBeGreaterThan(loaded.weightBytes - 256 * 100);
    // A forward keeps no values for a backward: four label texts of a 32-row batch of 512 tokens, not a training step.
    expect(fp32.activationBytes).toBeGreaterThan(0);
    expect(products.transientWeightBytes).toBe(0);
  });

  it('sprout label --dry-run prints the plan and starts nothing', async () => {
    const run = await sprout(args('--compute', 'int8'), home);
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as {
      dry_run: boolean;
      fits: boolean;
      plan: { width: string; compute: string; batch: number; inputTokens: number };
    };
    expect(out).toMatchObject({ dry_run: true, fits: true, plan: { width: 'int8', compute: 'int8', batch: 32, inputTokens: 512 } });
    expect(run.stderr).toContain('memory plan (int8 weights, int8 products, 32 examples per engine call)');
    expect(
      existsSync(join(home, 'library.sqlite'))
        ? execFileSync(
            'python3',
            [
              '-c',
              'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM label_jobs").fetchone()[0])',
              join(home, 'library.sqlite'),
            ],
            { encoding: 'utf8' },
          ).trim()
        : '0',
    ).toBe('0');
  });

  it('exits 1 when the plan does not fit, naming what would', async () => {
    // The largest batch and input limit labelling takes (RUN_LIMITS): 3.5 TB of activations.
    const run = await sprout(args('--batch-size', '4096', '--max-input-length', '4096'), home);
    expect(run.code).toBe(1);
    const out = JSON.parse(run.stdout) as { fits: boolean; hint: string };
    expect(out.fits).toBe(false);
    expect(out.hint).toMatch(/--batch-size \d+/);
  });
});
