/** The learning benchmark's markdown (its `tasks` section) and learning.png, from the summaries it writes to JSON. */
import type { LearningTask } from './learning-reference.js';
import { LEARNING_TARGETS, type TaskSummary } from './learning-summary.js';
import { lineChart, svgDocument, type Series } from './svg-chart.js';

const TITLES: Record<LearningTask, string> = { sst2: 'SST-2 (872 dev rows)', topic: 'AG News topic (1,600 held-out rows)' };
const SPROUT = '#1f6fb2';
const SPREAD = '#8fb8dc';
const REFERENCE = '#d1495b';
const TORCH_SPREAD = '#eaa0aa';
const MAJORITY = '#888888';
const ZERO_SHOT = '#e8a33d';
const pct = (v: number) => `${(100 * v).toFixed(2)} %`;

type Tasks = Record<LearningTask, TaskSummary>;

const signed = (points: number) => `${points >= 0 ? '+' : '−'}${Math.abs(points).toFixed(2)}`;
const spreadHead = ({ float32_spread: f }: TaskSummary) =>
  `final dev rank accuracy of ${f.replays} replays, ${f.replays - 1} of them from an init moved by ≤ ${f.relative_noise} (lowest – median – highest)`;
const spreadCell = ({ float32_spread: f }: TaskSummary) => `${pct(f.min)} – **${pct(f.median)}** – ${pct(f.max)}`;
const insideCell = ({ float32_spread: f }: TaskSummary) =>
  `${f.reference_inside ? 'inside' : '**outside**'}; ${signed(f.median_diff_points)} (${f.accuracy_target_met ? 'met' : '**not met**'})`;

/** The dev accuracy curves of all the replays: the plain one first, then the perturbed ones. */
const replayCurves = (t: TaskSummary) => [t.sprout.curve, ...t.float32_spread.curves];

function torchCell({ pytorch_spread: p }: TaskSummary): string {
  if (!p) return 'not measured';
  const first = p.replay_0_equals_reference ? 'equals' : '**differs from**';
  return `${pct(p.min)} – **${pct(p.median)}** – ${pct(p.max)} (${p.replays}; the first ${first} the reference)`;
}
const medianGapCell = ({ pytorch_spread: p }: TaskSummary) => (p ? signed(p.sprout_median_minus_pytorch_median_points) : '—');

/** The curves' values at `step`; a curve without that step gives none. */
function valuesAt(curves: number[][][], step: number): number[] {
  return curves.flatMap((c) => c.filter(([s]) => s === step).map(([, v]) => v));
}

/** lowest – highest of the curves at `step`, or — where they have no such step. */
function rangeAt(curves: number[][][], step: number): string {
  const values = valuesAt(curves, step);
  return values.length ? `${pct(Math.min(...values))} – ${pct(Math.max(...values))}` : '—';
}

const zeroShotCell = (t: TaskSummary) =>
  `${t.zero_shot === null ? '—' : pct(t.zero_shot)} (${t.step0_identical ? 'identical' : 'differs'})`;
const finalCell = (t: TaskSummary) =>
  `${pct(t.reference.final_accuracy)} → **${pct(t.sprout.final_accuracy)}** (${signed(t.accuracy_diff_points)})`;
function stepTimeCell({ reference, sprout }: TaskSummary): string {
  return `${reference.seconds_per_step.toFixed(3)} / **${sprout.seconds_per_step.toFixed(3)}** (${sprout.seconds_per_step_median.toFixed(3)})`;
}
const TORCH_SCRIPT = 'scripts/torch_replay_spread.py';

/** The summary table (also README "Learning, measured"). */
export function learningTable(tasks: Tasks): string[] {
  const names = Object.keys(tasks) as LearningTask[];
  const cell = (f: (t: TaskSummary) => string) => names.map((n) => f(tasks[n])).join(' | ');
  return [
    `| | ${names.map((n) => TITLES[n]).join(' | ')} |`,
    `| --- |${' ---: |'.repeat(names.length)}`,
    `| majority class of the training rows, on dev | ${cell((t) => `${pct(t.majority)} (${t.majority_label})`)} |`,
    `| zero-shot: the initial prompt, step 0 (same as the reference) | ${cell(zeroShotCell)} |`,
    `| final dev rank accuracy, reference → Sprout (step ${names.map((n) => tasks[n].sprout.final_step).join(' / ')}) | ${cell(finalCell)} |`,
    `| accuracy target: Sprout ≥ reference − ${LEARNING_TARGETS.accuracyPoints} point | ${cell((t) => (t.accuracy_target_met ? 'met' : '**not met**'))} |`,
    `| ${spreadHead(tasks[names[0]])} | ${cell(spreadCell)} |`,
    `| the reference's final accuracy inside that range; the median's target | ${cell(insideCell)} |`,
    `| PyTorch's own replays of the recorded recipe, the same way (${TORCH_SCRIPT}): lowest – median – highest | ${cell(torchCell)} |`,
    `| Sprout's median − PyTorch's median, points | ${cell(medianGapCell)} |`,
    `| seconds per training step, 1 thread: reference / Sprout (mean; median) | ${cell(stepTimeCell)} |`,
    `| speed-up (target ≥ ${LEARNING_TARGETS.speedup}×) | ${cell((t) => `${t.speedup.toFixed(2)}× (${t.speed_target_met ? 'met' : '**not met**'})`)} |`,
  ];
}

export function learningMarkdown(tasks: Tasks): string {
  const out = ['## Prompt tuning replayed: Sprout vs the recorded Hugging Face runs (`learning-tasks`)', '', ...learningTable(tasks), ''];
  for (const name of Object.keys(tasks) as LearningTask[]) {
    const t = tasks[name];
    const torch = t.pytorch_spread;
    const torchHead = torch ? ` PyTorch, ${torch.replays} replays (same) |` : '';
    out.push(
      `### ${TITLES[name]}: dev rank accuracy by step`,
      '',
      `| step | reference | Sprout | Sprout, ${t.float32_spread.replays} replays (lowest – highest) |${torchHead}`,
      `| ---: | ---: | ---: | ---: |${torch ? ' ---: |' : ''}`,
    );
    const curves = replayCurves(t);
    for (const [step, acc] of t.reference.curve) {
      const i = t.sprout.curve.findIndex(([s]) => s === step);
      const own = `| ${step} | ${pct(acc)} | ${i < 0 ? '—' : pct(t.sprout.curve[i][1])} | ${rangeAt(curves, step)} |`;
      out.push(torch ? `${own} ${rangeAt(torch.curves, step)} |` : own);
    }
    if (t.data_notes.length) out.push('', `Data notes of Sprout's run: ${t.data_notes.join(' ')}`);
    out.push('');
  }
  return out.join('\n');
}

/**
 * The range of dev accuracy over some replays at each step of the first, as one outline: along the highest values,
 * then back along the lowest (one legend entry).
 */
function rangeSeries(name: string, color: string, curves: number[][][]): Series {
  const at = (pick: (values: number[]) => number): [number, number][] =>
    curves[0].map(([step]) => [step, 100 * pick(valuesAt(curves, step))]);
  return { name, color, dashed: true, points: [...at((v) => Math.max(...v)), ...at((v) => Math.min(...v)).reverse()] };
}

/** One chart per task: dev rank accuracy by step, Sprout and the reference, the two baselines as flat lines. */
export function learningFigure(tasks: Tasks): { svg: string; width: number; height: number } {
  const names = Object.keys(tasks) as LearningTask[];
  const w = 560,
    h = 380;
  const charts = names.map((name, col) => {
    const t = tasks[name];
    const replays = replayCurves(t);
    const steps = t.reference.curve.map(([s]) => s);
    const flat = (v: number): [number, number][] => [
      [Math.min(...steps), 100 * v],
      [Math.max(...steps), 100 * v],
    ];
    const series: Series[] = [
      {
        name: 'Hugging Face (reference)',
        color: REFERENCE,
        dashed: true,
        markers: true,
        points: t.reference.curve.map(([s, a]) => [s, 100 * a]),
      },
      { name: 'Sprout', color: SPROUT, markers: true, points: t.sprout.curve.map(([s, a]) => [s, 100 * a]) },
      rangeSeries(`Sprout, ${replays.length} replays: range`, SPREAD, replays),
      { name: `majority class (${t.majority_label})`, color: MAJORITY, points: flat(t.majority) },
    ];
    if (t.pytorch_spread) {
      const torch = t.pytorch_spread.curves;
      series.push(rangeSeries(`PyTorch, ${torch.length} replays: range`, TORCH_SPREAD, torch));
    }
    if (t.zero_shot !== null) series.push({ name: 'zero-shot (initial prompt)', color: ZERO_SHOT, points: flat(t.zero_shot) });
    const all = series.flatMap((s) => s.points.map(([, y]) => y));
    const yRange: [number, number] = [
      Math.max(0, Math.floor(Math.min(...all) / 5) * 5 - 5),
      Math.min(100, Math.ceil(Math.max(...all) / 5) * 5 + 5),
    ];
    return lineChart(
      { title: `${TITLES[name]}: dev rank accuracy`, xLabel: 'training step', yLabel: 'accuracy %', series, yRange },
      { x: col * w, y: 0, width: w, height: h },
    );
  });
  const width = names.length * w;
  return { svg: svgDocument(width, h, charts.join('\n')), width, height: h };
}
