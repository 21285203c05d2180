import { describe, expect, it } from '@jest/globals';
import { lineChartSvg, niceStep } from './chart.js';

describe('lineChartSvg', () => {
  it('draws one path per series, broken where a point is null, and a legend entry each', () => {
    const svg = lineChartSvg({
      title: 'RSS <and> heap',
      xLabel: 'minutes',
      yLabel: 'MB',
      series: [
        {
          label: 'n0 rss',
          color: '#111',
          dashed: false,
          points: [
            { x: 0, y: 10 },
            { x: 1, y: 20 },
          ],
        },
        {
          label: 'n0 heap',
          color: '#222',
          dashed: true,
          points: [
            { x: 0, y: 5 },
            { x: 0.5, y: null },
            { x: 1, y: 6 },
          ],
        },
      ],
      marks: [{ x: 0.5, label: 'kill n0' }],
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    const paths = [...svg.matchAll(/<path d="([^"]*)"/g)].map((m) => m[1]!);
    expect(paths).toHaveLength(2);
    // The second series restarts its line after the null: two M commands.
    expect(paths[1]!.match(/M/g)).toHaveLength(2);
    expect(svg).toContain('RSS &lt;and&gt; heap');
    expect(svg).toContain('>kill n0</text>');
    expect(svg).toContain('stroke-dasharray="5 3"');
  });
});

describe('niceStep', () => {
  it('picks 1, 2 or 5 times a power of ten', () => {
    expect(niceStep(30, 10)).toBe(5);
    expect(niceStep(3, 10)).toBe(0.5);
    expect(niceStep(180, 8)).toBe(50);
    expect(niceStep(0, 8)).toBe(1);
  });
});
