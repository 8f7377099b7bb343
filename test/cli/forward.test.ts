import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
const fixtures = resolve(root, '../shared/fixtures');

function forward(model: string, request: object, extra: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'sprout-fwd-'));
  const file = join(dir, 'request.json');
  writeFileSync(file, JSON.stringify(request));
  const out = execFileSync(
    process.execPath,
    [join(root, 'out/cli.js'), 'forward', '--model', model, '--request', file, '--device', 'cpu', ...extra],
    {
      env: { ...process.env, SPROUT_HOME: dir },
      encoding: 'utf8',
    },
  );
  return JSON.parse(out);
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(b));

describe('sprout forward reproduces reference.json (Hugging Face transformers 4.35.2)', () => {
  for (const name of ['tiny-t5-v1_0', 'tiny-t5-v1_1']) {
    it(name, () => {
      const model = join(fixtures, name);
      const ref = JSON.parse(readFileSync(join(model, 'reference.json'), 'utf8'));
      const out = forward(
        model,
        { texts: ref.texts, targets: ref.targets, prompt: ref.prompt, candidates: ['acceptable', 'unacceptable'] },
        ['--hidden'],
      );
      expect(out.input_ids).toEqual(ref.input_ids);
      expect(out.labels).toEqual(ref.labels);
      expect(rel(out.loss, ref.loss)).toBeLessThan(1e-4);
      out.per_example_loss.forEach((v: number, i: number) => expect(rel(v, ref.per_example_loss[i])).toBeLessThan(1e-4));
      out.rank_scores.flat().forEach((v: number, i: number) => expect(rel(v, ref.rank_scores.scores.flat()[i])).toBeLessThan(1e-4));
      const g = out.grad_prompt.flat() as number[];
      const r = ref.grad_prompt.flat() as number[];
      expect(Math.hypot(...g.map((v, i) => v - r[i])) / Math.hypot(...r)).toBeLessThan(1e-3);
      const h = out.encoder_last_hidden_state.flat(2) as number[];
      const hr = ref.encoder_last_hidden_state.flat(2) as number[];
      const scale = Math.max(1, ...hr.map(Math.abs));
      expect(Math.max(...h.map((v, i) => Math.abs(v - hr[i])))).toBeLessThan(1e-4 * scale);
      expect(out.greedy_ids).toEqual(ref.greedy.ids);
      expect(out.provider).toBe('cpu');
    });
  }

  it('rejects a malformed request with the file and the field, not a stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sprout-fwd-'));
    const file = join(dir, 'request.json');
    writeFileSync(file, JSON.stringify({ texts: 'not a list' }));
    let stderr = '';
    try {
      execFileSync(process.execPath, [join(root, 'out/cli.js'), 'forward', '--model', join(fixtures, 'tiny-t5-v1_0'), '--request', file], {
        env: { ...process.env, SPROUT_HOME: dir },
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (error) {
      stderr = (error as { stderr: string }).stderr;
    }
    expect(stderr).toContain('request.json');
    expect(stderr).toContain('"texts"');
    expect(stderr).not.toContain('    at ');
  });
});
