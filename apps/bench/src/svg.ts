/**
 * Small SVG charts written by hand: horizontal bars with min–max whiskers, and grouped bars.
 * @module
 */

/** One bar. */
export interface Bar {
  label: string;
  value: number;
  /** Whisker ends (the spread of the rounds). */
  min?: number;
  max?: number;
  /** Drawn in the accent colour (the baseline, say). */
  highlight?: boolean;
}

/** One group of a grouped chart: a label and one value per series. */
export interface Group {
  label: string;
  values: number[];
}

const esc = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** A number in 3 significant figures with thousands separators. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return "–";
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString("en-US");
  return Number(v.toPrecision(3)).toString();
}

const COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2"];
const LABEL_W = 170;
const BAR_H = 18;
const GAP = 6;
const WIDTH = 720;

/** A horizontal bar chart, one bar per item, with whiskers for min–max when given. */
export function barChart(title: string, unit: string, bars: readonly Bar[]): string {
  const items = bars.filter((b) => Number.isFinite(b.value));
  const top = 40;
  const plotW = WIDTH - LABEL_W - 90;
  const maxV = Math.max(1e-9, ...items.map((b) => (Number.isFinite(b.max ?? Number.NaN) ? b.max! : b.value)));
  const height = top + items.length * (BAR_H + GAP) + 30;
  const x = (v: number): number => LABEL_W + (v / maxV) * plotW;
  const rows = items.map((b, i) => {
    const y = top + i * (BAR_H + GAP);
    const w = Math.max(1, x(b.value) - LABEL_W);
    let whisker = "";
    if (b.min !== undefined && b.max !== undefined && Number.isFinite(b.min) && Number.isFinite(b.max)) {
      const cy = y + BAR_H / 2;
      whisker =
        `<line x1="${x(b.min).toFixed(1)}" y1="${cy}" x2="${x(b.max).toFixed(1)}" y2="${cy}" stroke="#333" stroke-width="1.5"/>` +
        `<line x1="${x(b.min).toFixed(1)}" y1="${cy - 5}" x2="${x(b.min).toFixed(1)}" y2="${cy + 5}" stroke="#333"/>` +
        `<line x1="${x(b.max).toFixed(1)}" y1="${cy - 5}" x2="${x(b.max).toFixed(1)}" y2="${cy + 5}" stroke="#333"/>`;
    }
    const label = `<text x="${LABEL_W - 8}" y="${y + BAR_H - 5}" text-anchor="end">${esc(b.label)}</text>`;
    const bar = `<rect x="${LABEL_W}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${b.highlight ? "#e15759" : "#4e79a7"}"/>`;
    const value = `<text x="${(Math.max(x(b.value), Number.isFinite(b.max ?? Number.NaN) ? x(b.max!) : 0) + 6).toFixed(1)}" y="${y + BAR_H - 5}">${formatNumber(b.value)}</text>`;
    return label + bar + whisker + value;
  });
  return svg(height, title, unit, rows.join("\n"));
}

/** Grouped horizontal bars: for each group, one bar per series (e.g. p50 and p99). Log scale when asked. */
export function groupedChart(
  title: string,
  unit: string,
  series: readonly string[],
  groups: readonly Group[],
  log = false,
): string {
  const top = 50;
  const plotW = WIDTH - LABEL_W - 90;
  const finite = groups.flatMap((g) => g.values.filter((v) => Number.isFinite(v) && v > 0));
  const maxV = Math.max(1e-9, ...finite);
  const minV = log ? Math.max(1e-9, Math.min(...finite, maxV) / 2) : 0;
  const scale = (v: number): number =>
    (log ? (Math.log10(Math.max(v, minV)) - Math.log10(minV)) / (Math.log10(maxV) - Math.log10(minV) || 1) : v / maxV) *
    plotW;
  const bh = 12;
  const groupH = series.length * bh + 10;
  const height = top + groups.length * groupH + 30;
  const legend = series
    .map(
      (s, i) =>
        `<rect x="${LABEL_W + i * 110}" y="28" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/><text x="${LABEL_W + i * 110 + 16}" y="38">${esc(s)}</text>`,
    )
    .join("");
  const rows = groups.map((g, gi) => {
    const y0 = top + gi * groupH;
    const label = `<text x="${LABEL_W - 8}" y="${y0 + (series.length * bh) / 2 + 4}" text-anchor="end">${esc(g.label)}</text>`;
    const bars = g.values
      .map((v, si) => {
        if (!Number.isFinite(v)) return "";
        const y = y0 + si * bh;
        const w = Math.max(1, scale(v));
        return `<rect x="${LABEL_W}" y="${y}" width="${w.toFixed(1)}" height="${bh - 2}" fill="${COLORS[si % COLORS.length]}"/><text x="${(LABEL_W + w + 4).toFixed(1)}" y="${y + bh - 3}" font-size="10">${formatNumber(v)}</text>`;
      })
      .join("");
    return label + bars;
  });
  return svg(height, title, `${unit}${log ? " (log scale)" : ""}`, legend + rows.join("\n"));
}

function svg(height: number, title: string, unit: string, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)}</text>
<text x="${WIDTH - 10}" y="20" text-anchor="end" fill="#555">${esc(unit)}</text>
${body}
</svg>
`;
}
