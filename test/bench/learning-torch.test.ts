/**
 * PyTorch's replays of the recorded mini-t5-instruct runs reach the learning benchmark through one file, which
 * scripts/torch_replay_spread.py writes and main/bench/learning-torch.ts reads. Each replay takes minutes of PyTorch,
 * so this test hands the script finished logs (it reuses a log that reached the last evaluation, as it does when an
 * interrupted measurement resumes) and checks what it writes, what Sprout reads from it, and the report's rows.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readInstructRuns } from '../../main/bench/learning-reference.js';
import { learningMarkdown, learningTable } from '../../main/bench/learning-report.js';
import { taskSummary, type TaskReplay } from '../../main/bench/learning-summary.js';
import { LEARNING_TORCH_JSON, readTorchSpreads } from '../../main/bench/learning-torch.js';
import { repoRoot, shared } from '../train/fixtures.js';

const ref = readInstructRuns(shared).sst2;
const steps = ref.evals.map((e) => e.step);
const finals = [ref.evals.at(-1)!.rank_acc, 0.5, 0.58, 0.53];

/** A replay's log as torch_prompt_tuning.py prints it: a JSON line per evaluation among its loss lines. */
function replayLog(seed: number): string {
  const accuracy = (i: number) => (seed === 0 ? ref.evals[i].rank_acc : i === steps.length - 1 ? finals[seed] : 0.5 + i / 100);
  const evals = steps.map((step, i) => JSON.stringify({ step, rank_acc: accuracy(i) }));
  return [...evals, 'step 25: mean loss 0.97654  reference 0.97654  rel +0.0000', 'first losses [6.6112]'].join('\n') + '\n';
}

function sproutReplay(final: number): TaskReplay {
  return {
    curve: steps.map((s, i) => [s, i === steps.length - 1 ? final : ref.evals[i].rank_acc]),
    stepSeconds: [0.05, 0.06],
    majorityOfDev: { label: '1', accuracy: 0.509 },
    vocabIds: [],
    threads: 1,
    notes: [],
  };
}

describe('PyTorch replays of the recorded runs, from the Python script to the learning report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sprout-torch-spread-'));
  mkdirSync(join(dir, 'logs', 'sst2'), { recursive: true });
  finals.forEach((_, seed) => writeFileSync(join(dir, 'logs', 'sst2', `seed-${seed}.log`), replayLog(seed)));
  const out = join(dir, LEARNING_TORCH_JSON);
  const script = join(repoRoot, 'scripts/torch_replay_spread.py');
  const printed = execFileSync('python3', [script, '--task', 'sst2', '--replays', '4', '--logs', join(dir, 'logs'), '--out', out], {
    encoding: 'utf8',
  });

  it('summarises finished logs without running PyTorch: range, median, and whether the plain replay is the reference', () => {
    expect(printed).toBe('sst2: 4 replays, final 0.5000 – 0.5374 – 0.5800, reference 0.5447\n');
    const written = JSON.parse(readFileSync(out, 'utf8')) as { sst2: Record<string, unknown> };
    expect(written.sst2).toMatchObject({ replays: 4, min: 0.5, max: 0.58, replay_0_equals_reference: true, below_reference: 2 });
    expect(written.sst2.median).toBeCloseTo((0.53 + ref.evals.at(-1)!.rank_acc) / 2, 12);
    expect(readTorchSpreads(dir).sst2?.curves[2].at(-1)).toEqual([800, 0.58]);
  });

  it('puts PyTorch beside Sprout in learning.json and learning.md, and says when it was not measured', () => {
    const summary = taskSummary(ref, sproutReplay(0.55), [0.53, 0.57].map(sproutReplay), readTorchSpreads(dir).sst2);
    expect(summary.pytorch_spread).toMatchObject({ replays: 4, min: 0.5, max: 0.58, sprout_median_minus_pytorch_median_points: 1.264 });
    const table = learningTable({ sst2: summary, topic: { ...summary, pytorch_spread: null } });
    expect(table.find((row) => row.includes("PyTorch's own replays"))).toContain(
      '50.00 % – **53.74 %** – 58.00 % (4; the first equals the reference) | not measured |',
    );
    expect(learningMarkdown({ sst2: summary, topic: summary })).toContain(
      '| 800 | 54.47 % | 55.00 % | 53.00 % – 57.00 % | 50.00 % – 58.00 % |',
    );
  });

  it('judges the accuracy target on the difference as reported: 16 of 1,600 topic rows below the reference is 1 point', () => {
    const topic = readInstructRuns(shared).topic;
    const refFinal = topic.evals.at(-1)!.rank_acc;
    expect(refFinal * 1600).toBeCloseTo(1007, 9);
    const replay = (rows: number) => ({
      ...sproutReplay(rows / 1600),
      curve: topic.evals.map((e) => [e.step, rows / 1600] as [number, number]),
    });
    const atLimit = taskSummary(topic, replay(991), [replay(991), replay(991)]);
    expect([atLimit.accuracy_diff_points, atLimit.accuracy_target_met]).toEqual([-1, true]);
    expect([atLimit.float32_spread.median_diff_points, atLimit.float32_spread.accuracy_target_met]).toEqual([-1, true]);
    const below = taskSummary(topic, replay(990), [replay(990), replay(990)]);
    expect([below.accuracy_diff_points, below.accuracy_target_met]).toEqual([-1.062, false]);
  });

  it('refuses a file whose spread lacks a field, naming it', () => {
    const broken = mkdtempSync(join(tmpdir(), 'sprout-torch-spread-'));
    const { sst2 } = JSON.parse(readFileSync(out, 'utf8')) as { sst2: Record<string, unknown> };
    writeFileSync(join(broken, LEARNING_TORCH_JSON), JSON.stringify({ sst2: { ...sst2, median: undefined } }));
    expect(() => readTorchSpreads(broken)).toThrow(/sst2\.median/);
    expect(readTorchSpreads(join(broken, 'absent'))).toEqual({});
  });
});
