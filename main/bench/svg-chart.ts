/**
 * Line charts as SVG text, for benchmark reports (no plotting library is installed). A chart is drawn into a
 * box of a larger SVG, so several charts make one figure; `svgDocument` wraps them.
 */

export interface Series {
  name: string;
  points: [number, number][];
  color: string;
  /** Dashed line (e.g. the reference) instead of a solid one. */
  dashed?: boolean;
  /** Draw a marker at each point (sparse series such as evaluations). */
  markers?: boolean;
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Logarithmic y axis (values must be positive). */
  logY?: boolean;
  /** Fixed y range; default: the data's range. */
  yRange?: [number, number];
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The bottom margin holds the tick labels, the axis label and the legend's rows (LEGEND_ROW apart). */
const MARGIN = { left: 62, right: 16, top: 30, bottom: 48 };
const LEGEND_ROW = 15;

/** Each legend item's offset along its row and its row, the rows as wide as the plot. */
function legendLayout(series: Series[], width: number): { dx: number; row: number }[] {
  let dx = 0;
  let row = 0;
  return series.map((s) => {
    const itemWidth = 34 + s.name.length * 6.2;
    if (dx > 0 && dx + itemWidth > width) {
      dx = 0;
      row += 1;
    }
    const at = { dx, row };
    dx += itemWidth;
    return at;
  });
}

export function lineChart(spec: ChartSpec, box: Box): string {
  const all = spec.series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]);
  const ty = (v: number) => (spec.logY ? Math.log10(v) : v);
  const [yMin, yMax] = spec.yRange ?? [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  const x0 = Math.min(...xs),
    x1 = Math.max(...xs) || 1;
  const lo = ty(yMin),
    hi = ty(yMax) === ty(yMin) ? ty(yMin) + 1 : ty(yMax);
  const width = box.width - MARGIN.left - MARGIN.right;
  const legend = legendLayout(spec.series, width);
  const legendRows = Math.max(2, (legend.at(-1)?.row ?? 0) + 1);
  const plot = {
    x: box.x + MARGIN.left,
    y: box.y + MARGIN.top,
    w: width,
    h: box.height - MARGIN.top - MARGIN.bottom - LEGEND_ROW * legendRows,
  };
  const px = (v: number) => plot.x + ((v - x0) / (x1 - x0 || 1)) * plot.w;
  const py = (v: number) => plot.y + plot.h - ((ty(v) - lo) / (hi - lo)) * plot.h;
  const parts: string[] = [];
  parts.push(
    `<text x="${box.x + box.width / 2}" y="${box.y + 18}" text-anchor="middle" font-size="15" font-weight="600">${escape(spec.title)}</text>`,
  );
  parts.push(`<rect x="${plot.x}" y="${plot.y}" width="${plot.w}" height="${plot.h}" fill="none" stroke="#999"/>`);
  for (const v of yTicks(yMin, yMax, !!spec.logY)) {
    const y = py(v);
    parts.push(`<line x1="${plot.x}" x2="${plot.x + plot.w}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${plot.x - 6}" y="${y + 4}" text-anchor="end" font-size="11">${formatTick(v)}</text>`);
  }
  for (const v of niceTicks(x0, x1, 6)) {
    const x = px(v);
    parts.push(`<line x1="${x}" x2="${x}" y1="${plot.y + plot.h}" y2="${plot.y + plot.h + 4}" stroke="#999"/>`);
    parts.push(`<text x="${x}" y="${plot.y + plot.h + 16}" text-anchor="middle" font-size="11">${formatTick(v)}</text>`);
  }
  parts.push(
    `<text x="${plot.x + plot.w / 2}" y="${plot.y + plot.h + 32}" text-anchor="middle" font-size="12">${escape(spec.xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(${box.x + 14},${plot.y + plot.h / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escape(spec.yLabel)}</text>`,
  );
  for (const s of spec.series) {
    const d = s.points.map(([x, y], i) => `${i ? 'L' : 'M'}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    parts.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.dashed ? 2 : 1.6}"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    if (s.markers)
      for (const [x, y] of s.points)
        parts.push(
          `<circle cx="${px(x)}" cy="${py(y)}" r="${s.dashed ? 5 : 3}" fill="${s.dashed ? 'none' : s.color}" stroke="${s.color}" stroke-width="1.5"/>`,
        );
  }
  // Legend under the axis label, in as many rows as it needs.
  spec.series.forEach((s, i) => {
    const lx = plot.x + legend[i].dx;
    const ly = plot.y + plot.h + 50 + LEGEND_ROW * legend[i].row;
    parts.push(
      `<line x1="${lx}" x2="${lx + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    parts.push(`<text x="${lx + 27}" y="${ly}" font-size="11">${escape(s.name)}</text>`);
  });
  return parts.join('\n');
}

export function svgDocument(width: number, height: number, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif">
<rect width="100%" height="100%" fill="white"/>
${body}
</svg>`;
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function yTicks(lo: number, hi: number, log: boolean): number[] {
  if (!log) return niceTicks(lo, hi, 5);
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++)
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo && v <= hi) out.push(v);
    }
  return out;
}

function formatTick(v: number): string {
  return Math.abs(v) >= 1000 ? v.toLocaleString('en-US') : String(Number(v.toPrecision(3)));
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
