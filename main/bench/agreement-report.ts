/** The agreement benchmark's markdown tables and its figure (as SVG, rasterised by svg-png.ts). */
import type { EvalPoint, RunComparison } from './agreement-compare.js';
import { SPREAD, type Spread } from './agreement-spread.js';
import type { ReferenceRun, ReferenceTask } from './reference-runs.js';
import { lineChart, svgDocument, type Series } from './svg-chart.js';

interface Replay {
  comparison: RunComparison;
}

const TITLES: Record<ReferenceTask, string> = { sst2: 'SST-2', cola: 'CoLA' };
const SPROUT = '#1f6fb2';
const REFERENCE = '#d1495b';
const SPREAD_COLOR = '#9bbfdc';
const pct = (v: number) => `${(100 * v).toFixed(2)}`;
const signed = (v: number, digits: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(digits)}`;
const ids = (rows: number[][]) => rows.map((r) => `[${r.join(',')}]`).join(' ');

export function agreementMarkdown(
  refs: Record<ReferenceTask, ReferenceRun>,
  replays: Record<ReferenceTask, Replay>,
  spreads: Record<ReferenceTask, Spread>,
): string {
  const out: string[] = ['# Sprout vs Hugging Face: the recorded prompt-tuning runs replayed', ''];
  out.push(...summaryTable(refs, replays), '');
  out.push(...spreadTable(spreads), '');
  for (const task of Object.keys(replays) as ReferenceTask[]) {
    const c = replays[task].comparison;
    out.push(`## ${TITLES[task]}: evaluations`, '', ...evalTable(c.evals), '');
    out.push(`## ${TITLES[task]}: training loss, mean of each 50 steps`, '');
    out.push('| step | reference | Sprout | relative difference | target |', '| ---: | ---: | ---: | ---: | ---: |');
    for (const p of c.loss)
      out.push(
        `| ${p.step} | ${p.reference.toFixed(4)} | ${p.sprout.toFixed(4)} | ${signed(100 * p.rel_diff, 1)} % ${p.ok ? '' : '✗'} | ±${100 * p.target} % |`,
      );
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

export function summaryTable(refs: Record<ReferenceTask, ReferenceRun>, replays: Record<ReferenceTask, Replay>): string[] {
  const rows = [
    '| | ' +
      Object.keys(replays)
        .map((t) => TITLES[t as ReferenceTask])
        .join(' | ') +
      ' |',
    '| --- |' + ' ---: |'.repeat(Object.keys(replays).length),
  ];
  const cell = (f: (c: RunComparison, r: ReferenceRun) => string) =>
    (Object.keys(replays) as ReferenceTask[]).map((t) => f(replays[t].comparison, refs[t])).join(' | ');
  rows.push(`| steps | ${cell((c) => String(c.steps))} |`);
  rows.push(
    `| 50-step loss means within target (2 % to step 500, 5 % after) | ${cell((c) => `${c.loss.filter((p) => p.ok).length} / ${c.loss.length}`)} |`,
  );
  rows.push(
    `| largest loss difference, steps ≤ 500 / after | ${cell((c) => `${maxPct(c, (s) => s <= 500)} / ${maxPct(c, (s) => s > 500)}`)} |`,
  );
  rows.push(
    `| evaluations within target (±0.5 points, same first five outputs) | ${cell((c) => `${c.evals.filter((e) => e.ok).length} / ${c.evals.length}`)} |`,
  );
  rows.push(
    `| final prompt: relative L2 distance to the reference's | ${cell((c) => (c.final_prompt_rel_l2 === null ? '—' : c.final_prompt_rel_l2.toFixed(3)))} |`,
  );
  rows.push(
    `| final prompt norm, Sprout / reference | ` +
      `${cell((c) => (c.final_prompt_norm ? `${c.final_prompt_norm.sprout.toFixed(1)} / ${c.final_prompt_norm.reference.toFixed(1)}` : '—'))} |`,
  );
  rows.push(
    `| seconds per training step, Sprout / reference | ` +
      `${cell((c) => `${c.seconds_per_step.sprout.toFixed(3)} / ${c.seconds_per_step.reference.toFixed(3)}`)} |`,
  );
  return rows;
}

export function evalTable(evals: EvalPoint[]): string[] {
  const rows = [
    '| step | rank accuracy % (ref / Sprout) | greedy exact match % (ref / Sprout)' +
      ' | label-word rate % (ref / Sprout) | rank MCC (ref / Sprout) | first five greedy outputs (ref / Sprout) |',
    '| ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const e of evals) {
    const first = e.first5.same ? `same: ${ids(e.first5.sprout)}` : `${ids(e.first5.reference)} / ${ids(e.first5.sprout)}`;
    rows.push(
      `| ${e.step} | ${pct(e.rank_accuracy.reference)} / ${pct(e.rank_accuracy.sprout)} | ${pct(e.exact_match.reference)} / ${pct(e.exact_match.sprout)}` +
        ` | ${pct(e.valid_label_share.reference)} / ${pct(e.valid_label_share.sprout)}` +
        ` | ${e.rank_mcc.reference.toFixed(3)} / ${e.rank_mcc.sprout.toFixed(3)} | ${first} |`,
    );
  }
  return rows;
}

/** Per task: where the reference lies against the spread of the perturbed replays, point by point. */
export function spreadTable(spreads: Record<ReferenceTask, Spread>): string[] {
  const out = [
    `## The spread of float32 noise: ${SPREAD.replays} replays whose initial prompt is moved by up to ${SPREAD.relativeNoise} (relative)`,
    '',
    '| task | first steps within 1e-3 of the reference (replay; perturbed replays) | 50-step points with the reference inside the spread |',
    '| --- | --- | ---: |',
  ];
  for (const [task, s] of Object.entries(spreads) as [ReferenceTask, Spread][]) {
    out.push(
      `| ${TITLES[task]} | ${s.stepsWithinTolerance.replay}; ${s.stepsWithinTolerance.perturbed.join(', ')}` +
        ` | ${s.points.filter((p) => p.inside).length} / ${s.points.length} |`,
    );
  }
  for (const [task, s] of Object.entries(spreads) as [ReferenceTask, Spread][]) {
    out.push(
      '',
      `### ${TITLES[task]}: 50-step loss means`,
      '',
      '| step | reference | perturbed replays (min – max) | inside |',
      '| ---: | ---: | ---: | :---: |',
    );
    for (const p of s.points)
      out.push(`| ${p.step} | ${p.reference.toFixed(4)} | ${p.min.toFixed(4)} – ${p.max.toFixed(4)} | ${p.inside ? 'yes' : '**no**'} |`);
  }
  return out;
}

function maxPct(c: RunComparison, which: (step: number) => boolean): string {
  const d = c.loss.filter((p) => which(p.step)).map((p) => Math.abs(p.rel_diff));
  return d.length ? `${(100 * Math.max(...d)).toFixed(1)} %` : '—';
}

/** Two columns (one per task): training loss per 50 steps on top, evaluation accuracies below. */
export function agreementFigure(
  refs: Record<ReferenceTask, ReferenceRun>,
  replays: Record<ReferenceTask, Replay>,
  spreads: Record<ReferenceTask, Spread>,
): { svg: string; width: number; height: number } {
  const tasks = Object.keys(replays) as ReferenceTask[];
  const w = 560,
    h = 360;
  const charts: string[] = [];
  tasks.forEach((task, col) => {
    const c = replays[task].comparison;
    const spread = spreads[task].points;
    const lossSeries: Series[] = [
      { name: 'Hugging Face (reference)', color: REFERENCE, dashed: true, points: c.loss.map((p) => [p.step, p.reference]) },
      { name: 'Sprout', color: SPROUT, points: c.loss.map((p) => [p.step, p.sprout]) },
      { name: `Sprout, ${SPREAD.replays} perturbed: min`, color: SPREAD_COLOR, points: spread.map((p) => [p.step, p.min]) },
      { name: 'max', color: SPREAD_COLOR, points: spread.map((p) => [p.step, p.max]) },
    ];
    charts.push(
      lineChart(
        {
          title: `${TITLES[task]}: training loss (mean of each 50 steps)`,
          xLabel: 'step',
          yLabel: 'loss (log scale)',
          series: lossSeries,
          logY: true,
        },
        { x: col * w, y: 0, width: w, height: h },
      ),
    );
    const evalSeries = (name: string, color: string, dashed: boolean, pick: (e: EvalPoint) => number): Series => ({
      name,
      color,
      dashed,
      markers: true,
      points: c.evals.map((e) => [e.step, 100 * pick(e)]),
    });
    const accuracy: Series[] = [
      evalSeries('rank acc., ref', REFERENCE, true, (e) => e.rank_accuracy.reference),
      evalSeries('rank acc., Sprout', SPROUT, false, (e) => e.rank_accuracy.sprout),
      evalSeries('exact match, ref', '#e8a33d', true, (e) => e.exact_match.reference),
      evalSeries('exact match, Sprout', '#2a9d8f', false, (e) => e.exact_match.sprout),
    ];
    const majority = `${TITLES[task]}: validation accuracy (${refs[task].n_dev} rows)`;
    charts.push(
      lineChart(
        { title: majority, xLabel: 'step', yLabel: 'accuracy %', series: accuracy, yRange: [0, 100] },
        { x: col * w, y: h, width: w, height: h },
      ),
    );
  });
  const width = tasks.length * w,
    height = 2 * h;
  return { svg: svgDocument(width, height, charts.join('\n')), width, height };
}
