import type { EpochReport } from "../model/model.js";
/** A named series of (x, y) points for a line chart. */
export interface Series {
  name: string;
  points: [number, number][];
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function label(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0)
    ? v.toExponential(1)
    : String(Number(v.toPrecision(4)));
}

interface Frame {
  x: (v: number) => number;
  y: (v: number) => number;
  svg: string[];
}

/** Axes, grid and labels of one plot panel at (left, top) of size width x height. */
function frame(
  box: { left: number; top: number; width: number; height: number },
  xRange: [number, number],
  yRange: [number, number],
  labels: { title: string; x?: string; y?: string },
  xTicks: boolean,
): Frame {
  const { left, top, width, height } = box;
  const x = (v: number) => left + ((v - xRange[0]) / (xRange[1] - xRange[0] || 1)) * width;
  const y = (v: number) => top + height - ((v - yRange[0]) / (yRange[1] - yRange[0] || 1)) * height;
  const svg: string[] = [];
  svg.push(
    `<text x="${left + width / 2}" y="${top - 10}" text-anchor="middle" font-size="14" font-weight="bold" ${FONT}>${escapeXml(labels.title)}</text>`,
  );
  for (const t of niceTicks(yRange[0], yRange[1])) {
    svg.push(`<line x1="${left}" x2="${left + width}" y1="${y(t)}" y2="${y(t)}" stroke="#e5e5e5"/>`);
    svg.push(
      `<text x="${left - 6}" y="${y(t) + 4}" text-anchor="end" font-size="11" ${FONT}>${label(t)}</text>`,
    );
  }
  if (xTicks) {
    for (const t of niceTicks(xRange[0], xRange[1], 6)) {
      svg.push(
        `<text x="${x(t)}" y="${top + height + 16}" text-anchor="middle" font-size="11" ${FONT}>${label(t)}</text>`,
      );
    }
  }
  svg.push(`<rect x="${left}" y="${top}" width="${width}" height="${height}" fill="none" stroke="#333"/>`);
  if (labels.x)
    svg.push(
      `<text x="${left + width / 2}" y="${top + height + 34}" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(labels.x)}</text>`,
    );
  if (labels.y) {
    svg.push(
      `<text transform="translate(${left - 44},${top + height / 2}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(labels.y)}</text>`,
    );
  }
  return { x, y, svg };
}

function document(width: number, height: number, body: string[]): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n` +
    `<rect width="100%" height="100%" fill="white"/>\n${body.join("\n")}\n</svg>\n`
  );
}

/** A dashed vertical line across a line chart, labelled inside the plot at its top or bottom. */
export interface ChartMarker {
  x: number;
  label: string;
  labelAt?: "top" | "bottom";
}

/** A line chart of several series (e.g. training and validation loss per epoch), with a legend. */
export function lineChart(options: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Dashed vertical lines, e.g. at the epoch early stopping kept. */
  markers?: ChartMarker[];
}): string {
  const all = options.series.flatMap((s) => s.points).filter(([, v]) => Number.isFinite(v));
  const xs = all.map((p) => p[0]);
  const [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
  const ys = all.map((p) => p[1]);
  // A first point far outside the rest (a first epoch's loss) would flatten the curve people look at: the
  // range then follows the later points, the line leaves the top or bottom, and a note gives its values.
  const later = all.filter(([x]) => x > xMin).map((p) => p[1]);
  const laterRange = Math.max(...later) - Math.min(...later);
  const outlier = later.length >= 4 && Math.max(...ys) - Math.min(...ys) > 3 * laterRange;
  const range = outlier ? later : ys;
  const pad = (Math.max(...range) - Math.min(...range)) * 0.05 || 0.05;
  const box = { left: 70, top: 40, width: 560, height: 300 };
  const f = frame(
    box,
    [xMin, xMax],
    [Math.min(...range) - pad, Math.max(...range) + pad],
    { title: options.title, x: options.xLabel, y: options.yLabel },
    true,
  );
  f.svg.push(
    `<clipPath id="plot"><rect x="${box.left}" y="${box.top}" width="${box.width}" height="${box.height}"/></clipPath>`,
  );
  if (outlier) {
    const first = options.series
      .map((s) => s.points.find(([x]) => x === xMin))
      .filter((p) => p && Number.isFinite(p[1]))
      .map((p) => label(p![1]));
    f.svg.push(
      `<text x="${box.left + 6}" y="${box.top + box.height + 34}" font-size="11" fill="#555" ${FONT}>${escapeXml(`${options.xLabel} ${xMin} is off the scale: ${first.join(", ")}`)}</text>`,
    );
  }
  for (const marker of options.markers ?? []) {
    const mx = f.x(marker.x);
    f.svg.push(
      `<line x1="${mx.toFixed(1)}" x2="${mx.toFixed(1)}" y1="${box.top}" y2="${box.top + box.height}" stroke="#555" stroke-dasharray="4 3"/>`,
    );
    // Inside the plot, clear of the axis ticks: a top label on the side of the line with more room; a
    // bottom one (a stage that starts there) after the line, unless the plot ends too soon.
    const bottom = marker.labelAt === "bottom";
    const right = bottom ? mx < box.left + box.width - 90 : mx < box.left + box.width / 2;
    const y = bottom ? box.top + box.height - 6 : box.top + 12;
    f.svg.push(
      `<text x="${(mx + (right ? 4 : -4)).toFixed(1)}" y="${y}" text-anchor="${right ? "start" : "end"}" font-size="11" fill="#555" ${FONT}>${escapeXml(marker.label)}</text>`,
    );
  }
  options.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const path = s.points
      .filter(([, v]) => Number.isFinite(v))
      .map(([a, b], k) => `${k === 0 ? "M" : "L"}${f.x(a).toFixed(1)},${f.y(b).toFixed(1)}`)
      .join(" ");
    f.svg.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="2" clip-path="url(#plot)"/>`);
    f.svg.push(
      `<line x1="470" x2="490" y1="${60 + 18 * i}" y2="${60 + 18 * i}" stroke="${color}" stroke-width="2"/>`,
    );
    f.svg.push(`<text x="496" y="${64 + 18 * i}" font-size="12" ${FONT}>${escapeXml(s.name)}</text>`);
  });
  return document(680, 400, f.svg);
}

/** One panel of a bar chart: a metric's mean and spread for every group. */
export interface BarPanel {
  title: string;
  values: { mean: number; std: number }[];
  /** Which way is better, said under the title. */
  better?: "lower" | "higher";
}

/**
 * Small multiples of bar charts: one panel per metric, one bar per group (model) with a +/- 1 std error bar,
 * groups coloured alike across panels and named in a legend.
 */
export function barPanels(options: { title: string; groups: string[]; panels: BarPanel[] }): string {
  const columns = Math.min(3, options.panels.length);
  const rows = Math.ceil(options.panels.length / columns);
  const [panelW, panelH] = [260, 180];
  const width = 90 + columns * (panelW + 80);
  const height = 90 + rows * (panelH + 70) + 20 * Math.ceil(options.groups.length / 4);
  const body: string[] = [
    `<text x="${width / 2}" y="26" text-anchor="middle" font-size="16" font-weight="bold" ${FONT}>${escapeXml(options.title)}</text>`,
  ];
  options.panels.forEach((panel, p) => {
    const left = 80 + (p % columns) * (panelW + 80);
    const top = 70 + Math.floor(p / columns) * (panelH + 70);
    const highs = panel.values.map((v) => v.mean + v.std);
    const lows = panel.values.map((v) => v.mean - v.std);
    // Bars start at zero (a bar's length is its value), or below it for negative values; the top leaves
    // room for the value above the highest error bar.
    const floor = Math.min(0, ...lows);
    const hi = Math.max(0, ...highs);
    const f = frame(
      { left, top, width: panelW, height: panelH },
      [0, 1],
      [floor, hi + (hi - floor) * 0.12],
      { title: panel.better ? `${panel.title} (${panel.better} is better)` : panel.title },
      false,
    );
    const slot = panelW / panel.values.length;
    panel.values.forEach((v, g) => {
      const x0 = left + g * slot + slot * 0.15;
      const w = slot * 0.7;
      const color = COLORS[g % COLORS.length];
      f.svg.push(
        `<rect x="${x0.toFixed(1)}" y="${f.y(Math.max(v.mean, 0)).toFixed(1)}" width="${w.toFixed(1)}" height="${Math.abs(f.y(0) - f.y(v.mean)).toFixed(1)}" fill="${color}"/>`,
      );
      if (v.std > 0) {
        const cx = x0 + w / 2;
        f.svg.push(
          `<line x1="${cx}" x2="${cx}" y1="${f.y(v.mean + v.std)}" y2="${f.y(v.mean - v.std)}" stroke="#111" stroke-width="1.5"/>`,
        );
      }
      // Above the bar and its error bar, so that neither crosses the number.
      f.svg.push(
        `<text x="${x0 + w / 2}" y="${f.y(v.mean + v.std) - 4}" text-anchor="middle" font-size="10" ${FONT}>${label(v.mean)}</text>`,
      );
    });
    body.push(...f.svg);
  });
  const legendTop = 70 + rows * (panelH + 70) - 20;
  options.groups.forEach((g, i) => {
    const x = 80 + (i % 4) * 180;
    const y = legendTop + 20 * Math.floor(i / 4);
    body.push(`<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>`);
    body.push(`<text x="${x + 18}" y="${y}" font-size="12" ${FONT}>${escapeXml(g)}</text>`);
  });
  return document(width, height, body);
}

/**
 * A fit's training curve: a rating model's training loss and validation RMSE (both RMSE) per epoch, or a
 * top-N model's validation NDCG@10 (its training loss, a log-likelihood, has another scale), with the
 * epoch early stopping kept marked. Null for a closed-form fit, which has no epochs.
 */
export function trainingCurve(history: EpochReport[], title: string, keptEpoch?: number): string | null {
  if (history.length === 0) return null;
  const ranking = history[0].validationNdcg !== undefined;
  const points = (value: (e: EpochReport) => number | undefined) =>
    history.map((e) => [e.epoch, value(e) ?? Number.NaN] as [number, number]);
  const series = ranking
    ? [{ name: "validation NDCG@10", points: points((e) => e.validationNdcg) }]
    : [{ name: "training loss", points: points((e) => e.trainLoss) }];
  if (!ranking && history.some((e) => e.validationRmse !== undefined))
    series.push({ name: "validation RMSE", points: points((e) => e.validationRmse) });
  const markers: ChartMarker[] = keptEpoch ? [{ x: keptEpoch, label: "kept" }] : [];
  // Where a staged fit moves on (GLocal-K's fine-tuning), since its curves jump there; labelled at the
  // bottom, clear of the legend and of "kept".
  history.forEach((e, i) => {
    if (i > 0 && e.stage && e.stage !== history[i - 1].stage)
      markers.push({ x: e.epoch, label: e.stage, labelAt: "bottom" });
  });
  return lineChart({ title, xLabel: "epoch", yLabel: ranking ? "NDCG@10" : "RMSE", series, markers });
}

/** The epoch early stopping keeps: the first with the best validation NDCG@10 or RMSE; none without validation. */
export function keptEpoch(history: EpochReport[]): number | undefined {
  // Higher is better for both: NDCG as it is, RMSE negated.
  const score = (e: EpochReport) =>
    e.validationNdcg ?? (e.validationRmse === undefined ? undefined : -e.validationRmse);
  let best: { epoch: number; score: number } | undefined;
  for (const e of history) {
    const s = score(e);
    if (s !== undefined && (!best || s > best.score)) best = { epoch: e.epoch, score: s };
  }
  return best?.epoch;
}
