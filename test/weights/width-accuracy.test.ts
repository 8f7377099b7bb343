/**
 * Every weight width against float32 on the shared fixtures: loss, per-example loss and rank scores within 2%
 * relative and a prompt-gradient cosine ≥ 0.99 for int8; within 1e-2 relative and cosine ≥ 0.995 for bf16 and fp16
 * (bf16 alone, 8 bits of mantissa, gives 0.998 on the pretrained model). The half-width
 * checkpoints are written by numpy (an independent writer), and read in place: no cache file is made for them.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPromptModel, type T5PromptModel } from '../../main/runtime/model.js';
import { loadTokenizer } from '../../main/tokenizer/load.js';
import type { WeightWidth } from '../../main/weights/width.js';

const fixtures = resolve(__dirname, '../../../shared/fixtures');
const cola = resolve(__dirname, '../../../shared/data/cola/in_domain_dev.tsv');

/** Writes `dir`'s model.safetensors into `out` with every tensor in bfloat16 or float16, using numpy only. */
function writeHalfCopy(dir: string, out: string, dtype: 'BF16' | 'F16'): void {
  const script = `
import json, struct, sys, numpy as np
src, dst, dtype = sys.argv[1:4]
raw = open(src, 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]
meta = header.pop('__metadata__', None)
out, offset, blobs = {}, 0, []
for name in sorted(header):
    h = header[name]
    a, b = h['data_offsets']
    x = np.frombuffer(data[a:b], dtype='<f4')
    if dtype == 'F16':
        y = x.astype('<f2').tobytes()
    else:
        bits = x.view('<u4').astype(np.uint64)
        y = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype('<u2').tobytes()
    out[name] = {'dtype': dtype, 'shape': h['shape'], 'data_offsets': [offset, offset + len(y)]}
    offset += len(y)
    blobs.append(y)
if meta: out['__metadata__'] = meta
js = json.dumps(out).encode()
js += b' ' * (-len(js) % 8)
with open(dst, 'wb') as f:
    f.write(struct.pack('<Q', len(js))); f.write(js)
    for y in blobs: f.write(y)
`;
  execFileSync('python3', ['-c', script, join(dir, 'model.safetensors'), join(out, 'model.safetensors'), dtype]);
  for (const f of readdirSync(dir))
    if (f !== 'model.safetensors' && !f.startsWith('reference') && !f.startsWith('prompt_tuning')) copyFileSync(join(dir, f), join(out, f));
}

interface Case {
  inputs: number[][];
  targets: number[][];
  candidates: number[][];
  prompt: { length: number; data: Float32Array };
}

/** Eight CoLA dev sentences (read with a plain tab split), the two verbalizer targets, a seeded prompt. */
async function colaCase(dir: string, d: number): Promise<Case> {
  const tok = await loadTokenizer(dir);
  const rows = readFileSync(cola, 'utf8')
    .split('\n')
    .filter(Boolean)
    .slice(0, 8)
    .map((l) => l.split('\t'));
  const words = ['unacceptable', 'acceptable'];
  let s = 12345;
  const data = Float32Array.from({ length: 8 * d }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 1.0;
  });
  return {
    inputs: rows.map((r) => tok.encode(`cola sentence: ${r[3]}`)),
    targets: rows.map((r) => tok.encode(words[Number(r[1])])),
    candidates: words.map((w) => tok.encode(w)),
    prompt: { length: 8, data },
  };
}

const relErr = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-6);
function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

async function outputs(model: T5PromptModel, c: Case) {
  const train = await model.trainStep(c.prompt, { inputs: c.inputs, targets: c.targets });
  const scores = await model.score(c.prompt, c.inputs, c.candidates);
  return { train, scores };
}

type Outputs = Awaited<ReturnType<typeof outputs>>;

function expectClose(got: Outputs, ref: Outputs, rel: number, minCosine: number): void {
  expect(relErr(got.train.loss, ref.train.loss)).toBeLessThan(rel);
  got.train.perExampleLoss.forEach((v, i) => expect(relErr(v, ref.train.perExampleLoss[i])).toBeLessThan(rel));
  got.scores.forEach((v, i) => expect(relErr(v, ref.scores[i])).toBeLessThan(rel));
  expect(cosine(got.train.gradPrompt, ref.train.gradPrompt)).toBeGreaterThan(minCosine);
}

for (const name of ['tiny-t5-v1_0', 'tiny-t5-v1_1', 'mini-t5-pretrained']) {
  describe(`${name}: narrow weights agree with float32`, () => {
    const dir = join(fixtures, name);
    const home = mkdtempSync(join(tmpdir(), 'sprout-width-'));
    const cacheDir = join(home, 'cache');
    let c: Case;
    let reference: Outputs;

    beforeAll(async () => {
      const fp32 = await loadPromptModel(dir, { device: 'cpu', weights: 'fp32', cacheDir });
      c = await colaCase(dir, fp32.config.dModel);
      reference = await outputs(fp32, c);
      await fp32.dispose();
    });

    it('int8: loss and rank scores within 2%, prompt gradient cosine ≥ 0.99', async () => {
      const model = await loadPromptModel(dir, { device: 'cpu', weights: 'int8', cacheDir });
      expect(model.weightWidth).toBe('int8');
      expectClose(await outputs(model, c), reference, 0.02, 0.99);
      await model.dispose();
    });

    for (const [width, dtype] of [
      ['bf16', 'BF16'],
      ['fp16', 'F16'],
    ] as [WeightWidth, 'BF16' | 'F16'][]) {
      it(`${width}: a ${dtype} checkpoint is read in place and agrees within 1e-2`, async () => {
        const copy = mkdtempSync(join(tmpdir(), `sprout-${width}-`));
        writeHalfCopy(dir, copy, dtype);
        const model = await loadPromptModel(copy, { device: 'cpu', weights: width, cacheDir });
        expectClose(await outputs(model, c), reference, 1e-2, 0.995);
        await model.dispose();
        expect(existsSync(join(cacheDir, 'weights')) && readdirSync(join(cacheDir, 'weights')).some((f) => f.startsWith(width))).toBe(
          false,
        );
      });

      it(`${width}: a float32 checkpoint is converted once into the cache and agrees within 1e-2`, async () => {
        const model = await loadPromptModel(dir, { device: 'cpu', weights: width, cacheDir });
        expectClose(await outputs(model, c), reference, 1e-2, 0.995);
        await model.dispose();
        expect(readdirSync(join(cacheDir, 'weights')).filter((f) => f.startsWith(width))).toHaveLength(1);
      });
    }
  });
}
