/**
 * The int8 weight cache: its values, read back by numpy, are the checkpoint's within half a quantisation step;
 * it is verified on every load like a download (a damaged file is converted again, the rest kept), and an
 * interrupted build resumes from the files it finished.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../main/checkpoint/checkpoint.js';
import { prepareWeights, type PrepareProgress } from '../../main/weights/store.js';

const fixture = resolve(__dirname, '../../../shared/fixtures/tiny-t5-v1_0');

interface Manifest {
  files: { file: string; tensor: string; bytes: number; sha256: string }[];
}

async function prepare(cacheDir: string) {
  const checkpoint = await openCheckpoint(fixture, { keepDtypes: true });
  const events: PrepareProgress[] = [];
  const store = prepareWeights(checkpoint, 'int8', { cacheDir, onProgress: (p) => events.push(p) });
  return { store, converted: events.filter((e) => e.phase === 'convert').length };
}

describe('int8 weight cache', () => {
  it('holds the checkpoint quantised: numpy dequantises every tensor to within half a step', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'sprout-store-'));
    const { store } = await prepare(cacheDir);
    const result = JSON.parse(
      execFileSync(
        'python3',
        [
          '-c',
          `
import json, struct, sys, os, numpy as np
def read(path):
    raw = open(path, 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    h = json.loads(raw[8:8 + n]); h.pop('__metadata__', None)
    dt = {'F32': '<f4', 'I8': 'i1'}
    return {k: np.frombuffer(raw[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]], dtype=dt[v['dtype']]).reshape(v['shape']) for k, v in h.items()}
src = read(sys.argv[1] + '/model.safetensors')
manifest = json.load(open(sys.argv[2] + '/manifest.json'))
worst, quantised = 0.0, 0
for f in manifest['files']:
    t = read(os.path.join(sys.argv[2], f['file']))
    w = src[f['tensor']]
    if 'q' in t:
        q, s = t['q'].astype(np.float64), t['scale'].astype(np.float64)
        block = w.shape[1] // s.shape[1]
        deq = (q.reshape(w.shape[0], -1, block) * s[:, :, None]).reshape(w.shape)
        step = np.repeat(s, block, axis=1)
        worst = max(worst, float(np.max(np.abs(deq - w) / step)))
        quantised += 1
    else:
        assert np.array_equal(t['f32'], w), f['tensor']
print(json.dumps({'worst': worst, 'quantised': quantised, 'files': len(manifest['files'])}))
`,
          fixture,
          store.dir,
        ],
        { encoding: 'utf8' },
      ),
    ) as { worst: number; quantised: number; files: number };
    expect(result.files).toBe(47);
    expect(result.quantised).toBeGreaterThan(30);
    // Half a step, plus the float32 rounding of w / s at a tie.
    expect(result.worst).toBeLessThanOrEqual(0.5 + 1e-4);
  });

  it('re-verifies on load: a damaged file is converted again, the others are kept', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'sprout-store-'));
    const first = await prepare(cacheDir);
    expect(first.converted).toBe(47);
    const manifest = JSON.parse(readFileSync(join(first.store.dir, 'manifest.json'), 'utf8')) as Manifest;
    const victim = join(first.store.dir, manifest.files[3].file);
    const bytes = readFileSync(victim);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(victim, bytes);
    const again = await prepare(cacheDir);
    expect(again.converted).toBe(1);
    expect(JSON.parse(readFileSync(join(again.store.dir, 'manifest.json'), 'utf8'))).toEqual(manifest);
    expect((await prepare(cacheDir)).converted).toBe(0);
  });

  it('resumes an interrupted build from the files it finished', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'sprout-store-'));
    const { store } = await prepare(cacheDir);
    const manifest = JSON.parse(readFileSync(join(store.dir, 'manifest.json'), 'utf8')) as Manifest;
    // What a build killed after 20 files leaves: 20 whole files and their progress lines, a temporary file, no manifest.
    rmSync(join(store.dir, 'manifest.json'));
    for (const f of manifest.files.slice(20)) rmSync(join(store.dir, f.file));
    writeFileSync(
      join(store.dir, 'progress.jsonl'),
      `${manifest.files
        .slice(0, 20)
        .map((f) => JSON.stringify(f))
        .join('\n')}\n{"file":"t000`,
    );
    renameSync(join(store.dir, manifest.files[0].file), join(store.dir, `.${manifest.files[0].file}.1.tmp`));
    const resumed = await prepare(cacheDir);
    expect(resumed.converted).toBe(47 - 19);
    expect(JSON.parse(readFileSync(join(store.dir, 'manifest.json'), 'utf8'))).toEqual(manifest);
    expect(existsSync(join(store.dir, 'progress.jsonl'))).toBe(false);
  });
});
