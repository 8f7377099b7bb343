/**
 * The learning-transfer benchmark as Markdown: accuracy at equal steps from each initialisation, and each
 * target's ranking of the sources under every similarity metric (README, "Transfer, measured").
 */
import { DEFAULT_SIMILARITY_METRIC, SIMILARITY_METRIC_NAMES, type SimilarityMetric } from '../transfer/similarity.js';

type SourceName = string;
/** Each metric's value for each source; null where a shift cannot be computed. */
export type Similarities = Record<SimilarityMetric, Record<SourceName, number | null>>;

interface TargetResult {
  related_source: SourceName;
  report_only: boolean;
  ranking: Record<SimilarityMetric, SourceName[]>;
  similarity: Similarities;
  single_probe: {
    seeds: (number | null)[];
    first: Record<SimilarityMetric, SourceName[]>;
    related_first: Record<SimilarityMetric, number>;
  };
  ranking_from_label_run: { ranking: Record<SimilarityMetric, SourceName[]>; similarity: Similarities };
  label_run_start: { start_avg_token: Record<SourceName, number>; shift_norm: Record<string, number> };
  accuracy: {
    label_init: number;
    per_source: Record<SourceName, number>;
    top_ranked_source: SourceName;
    best_source_name: SourceName;
    top_ranked_minus_label_init: number;
  };
}

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
const title = (name: string, t: TargetResult) => `${name.replaceAll('_', ' ')}${t.report_only ? ' (report only)' : ''}`;

function accuracyTable(targets: [string, TargetResult][], steps: number): string[] {
  const sources = Object.keys(targets[0][1].accuracy.per_source) as SourceName[];
  const lines = [
    `| target | class-label init | top-ranked source | best source (oracle) | ${sources.map((s) => `from ${s}`).join(' | ')} | top-ranked − class-label |`,
    `| --- | --- | --- | --- | ${sources.map(() => '---').join(' | ')} | --- |`,
  ];
  for (const [name, t] of targets) {
    const a = t.accuracy;
    const margin = `${a.top_ranked_minus_label_init >= 0 ? '+' : '−'}${(Math.abs(a.top_ranked_minus_label_init) * 100).toFixed(1)} points`;
    lines.push(
      `| ${title(name, t)} | ${pct(a.label_init)} | ${a.top_ranked_source}: ${pct(a.per_source[a.top_ranked_source])}` +
        ` | ${a.best_source_name}: ${pct(a.per_source[a.best_source_name])}` +
        ` | ${sources.map((s) => pct(a.per_source[s])).join(' | ')} | ${margin} |`,
    );
  }
  lines.push('', `Rank accuracy on the held-out rows after ${steps} training steps from each initialisation.`);
  return lines;
}

function rankingCell(order: SourceName[], values: Record<string, number | null>, related: SourceName): string {
  return order.map((s) => `${s === related ? `**${s}**` : s} ${values[s] === null ? '—' : values[s]!.toFixed(3)}`).join(' · ');
}

function rankingTable(targets: [string, TargetResult][]): string[] {
  const lines = [
    `| target | target embedding | ${SIMILARITY_METRIC_NAMES.map((m) => (m === DEFAULT_SIMILARITY_METRIC ? `${m} (Sprout's default)` : m)).join(' | ')} |`,
    `| --- | --- | ${SIMILARITY_METRIC_NAMES.map(() => '---').join(' | ')} |`,
  ];
  for (const [name, t] of targets) {
    const row = (label: string, r: { ranking: Record<SimilarityMetric, SourceName[]>; similarity: Similarities }) =>
      `| ${title(name, t)} | ${label} | ${SIMILARITY_METRIC_NAMES.map((m) => rankingCell(r.ranking[m], r.similarity[m], t.related_source)).join(' | ')} |`;
    lines.push(
      row(`mean of ${t.single_probe.seeds.length} probes (\`transfer rank\`)`, t),
      row('its class-label run', t.ranking_from_label_run),
    );
  }
  lines.push('', 'Sources best first, with their similarity; the related source in bold.');
  return lines;
}

/** What one probe alone would have ranked first: why `transfer rank` averages over several. */
function singleProbeTable(targets: [string, TargetResult][]): string[] {
  const lines = [
    `| target | probe seeds | ${SIMILARITY_METRIC_NAMES.map((m) => `first by ${m}, probe by probe`).join(' | ')} |`,
    `| --- | --- | ${SIMILARITY_METRIC_NAMES.map(() => '---').join(' | ')} |`,
  ];
  for (const [name, t] of targets) {
    const p = t.single_probe;
    const cell = (m: SimilarityMetric) =>
      `${p.first[m].map((s) => (s === t.related_source ? `**${s}**` : s)).join(' ')} (${p.related_first[m]} of ${p.seeds.length})`;
    lines.push(`| ${title(name, t)} | ${p.seeds.join(', ')} | ${SIMILARITY_METRIC_NAMES.map(cell).join(' | ')} |`);
  }
  lines.push('', 'The source each probe alone ranks first; in brackets, how many of them put the related source (bold) first.');
  return lines;
}

function startTable(targets: [string, TargetResult][]): string[] {
  const sources = Object.keys(targets[0][1].label_run_start.start_avg_token);
  const lines = [
    `| target (class-label run) | ${sources.map((s) => `start cosine with ${s}`).join(' | ')}` +
      ` | moved: target | ${sources.map((s) => `moved: ${s}`).join(' | ')} |`,
    `| --- | ${sources.map(() => '---').join(' | ')} | --- | ${sources.map(() => '---').join(' | ')} |`,
  ];
  for (const [name, t] of targets) {
    const e = t.label_run_start;
    lines.push(
      `| ${title(name, t)} | ${sources.map((s) => e.start_avg_token[s].toFixed(3)).join(' | ')}` +
        ` | ${e.shift_norm.target} | ${sources.map((s) => e.shift_norm[s]).join(' | ')} |`,
    );
  }
  lines.push(
    '',
    "Start cosine: avg-token cosine of the class-label run's initial prompt with each source's. Moved: L2 norm of task embedding − initial prompt.",
  );
  return lines;
}

export function transferMarkdown(
  result: { recipe: string; transfer: Record<string, unknown>; sources: Record<string, { dev_accuracy: number }> },
  steps: number,
): string {
  const targets = Object.entries(result.transfer) as [string, TargetResult][];
  return [
    '## Transfer, measured',
    '',
    result.recipe,
    '',
    `Sources' own dev accuracy: ${Object.entries(result.sources)
      .map(([s, v]) => `${s} ${pct(v.dev_accuracy)}`)
      .join(', ')}.`,
    '',
    ...accuracyTable(targets, steps),
    '',
    ...rankingTable(targets),
    '',
    ...singleProbeTable(targets),
    '',
    ...startTable(targets),
    '',
  ].join('\n');
}
