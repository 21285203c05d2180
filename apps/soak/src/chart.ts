/**
 * A line chart as an SVG document, no dependencies: the soak's RSS and heap over time, one
 * colour per node, RSS solid and heap dashed, vertical marks where faults began.
 */

/** One line of the chart. */
export interface Series {
  readonly label: string;
  readonly color: string;
  readonly dashed: boolean;
  /** x in minutes, y in MB, ascending x; a `null` y breaks the line (a process restart). */
  readonly points: readonly { readonly x: number; readonly y: number | null }[];
}

/** What to draw. */
export interface ChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Vertical marks (x in minutes) with a short label. */
  readonly marks?: readonly { readonly x: number; readonly label: string }[];
  readonly width?: number;
  readonly height?: number;
}

const PAD = { left: 60, right: 160, top: 36, bottom: 44 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A "nice" step (1, 2 or 5 times a power of ten) giving about `n` ticks over `span`. */
export function niceStep(span: number, n: number): number {
  if (!(span > 0)) return 1;
  const raw = span / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (raw <= m * p) return m * p;
  return 10 * p;
}

/** The chart as an SVG document. */
export function lineChartSvg(spec: ChartSpec): string {
  const width = spec.width ?? 960;
  const height = spec.height ?? 480;
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of spec.series) {
    for (const p of s.points) {
      xs.push(p.x);
      if (p.y !== null) ys.push(p.y);
    }
  }
  const xMax = Math.max(1e-9, ...xs);
  const yMax = Math.max(1e-9, ...ys) * 1.1;
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const sx = (x: number): number => PAD.left + (x / xMax) * plotW;
  const sy = (y: number): number => PAD.top + plotH - (y / yMax) * plotH;
  const f = (n: number): string => n.toFixed(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width.toString()}" height="${height.toString()}" viewBox="0 0 ${width.toString()} ${height.toString()}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${f(width / 2)}" y="20" text-anchor="middle" font-size="15">${esc(spec.title)}</text>`,
  ];
  const xStep = niceStep(xMax, 10);
  for (let x = 0; x <= xMax + 1e-9; x += xStep) {
    out.push(
      `<line x1="${f(sx(x))}" y1="${f(PAD.top)}" x2="${f(sx(x))}" y2="${f(PAD.top + plotH)}" stroke="#eee"/>`,
      `<text x="${f(sx(x))}" y="${f(PAD.top + plotH + 16)}" text-anchor="middle">${esc(Number(x.toFixed(6)).toString())}</text>`,
    );
  }
  const yStep = niceStep(yMax, 8);
  for (let y = 0; y <= yMax + 1e-9; y += yStep) {
    out.push(
      `<line x1="${f(PAD.left)}" y1="${f(sy(y))}" x2="${f(PAD.left + plotW)}" y2="${f(sy(y))}" stroke="#eee"/>`,
      `<text x="${f(PAD.left - 6)}" y="${f(sy(y) + 4)}" text-anchor="end">${esc(Number(y.toFixed(6)).toString())}</text>`,
    );
  }
  for (const m of spec.marks ?? []) {
    out.push(
      `<line x1="${f(sx(m.x))}" y1="${f(PAD.top)}" x2="${f(sx(m.x))}" y2="${f(PAD.top + plotH)}" stroke="#f4a" stroke-width="0.6" stroke-dasharray="2 3"/>`,
      `<text x="${f(sx(m.x) + 2)}" y="${f(PAD.top + 10)}" font-size="9" fill="#c38">${esc(m.label)}</text>`,
    );
  }
  out.push(
    `<rect x="${f(PAD.left)}" y="${f(PAD.top)}" width="${f(plotW)}" height="${f(plotH)}" fill="none" stroke="#888"/>`,
    `<text x="${f(PAD.left + plotW / 2)}" y="${f(height - 8)}" text-anchor="middle">${esc(spec.xLabel)}</text>`,
    `<text x="14" y="${f(PAD.top + plotH / 2)}" text-anchor="middle" transform="rotate(-90 14 ${f(PAD.top + plotH / 2)})">${esc(spec.yLabel)}</text>`,
  );
  spec.series.forEach((s, k) => {
    const parts: string[] = [];
    let pen = 'M';
    for (const p of s.points) {
      if (p.y === null) {
        pen = 'M';
        continue;
      }
      parts.push(`${pen}${f(sx(p.x))},${f(sy(p.y))}`);
      pen = 'L';
    }
    const dash = s.dashed ? ' stroke-dasharray="5 3"' : '';
    out.push(
      `<path d="${parts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="1.5"${dash}/>`,
    );
    const ly = PAD.top + 14 + k * 16;
    const lx = PAD.left + plotW + 12;
    out.push(
      `<line x1="${f(lx)}" y1="${f(ly - 4)}" x2="${f(lx + 24)}" y2="${f(ly - 4)}" stroke="${s.color}" stroke-width="1.5"${dash}/>`,
      `<text x="${f(lx + 30)}" y="${f(ly)}">${esc(s.label)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
