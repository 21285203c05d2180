// A small live chart of deliveries per second (one bar a second, the last 60 s), on a canvas.

/**
 * @param {HTMLCanvasElement} canvas
 * @param {number[]} samples oldest first
 */
export function drawRate(canvas, samples) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * dpr)) canvas.width = Math.round(w * dpr);
  if (canvas.height !== Math.round(h * dpr)) canvas.height = Math.round(h * dpr);
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const slots = 60;
  const max = Math.max(5, ...samples);
  const top = 12;
  const plotH = h - top - 4;
  // Grid: half and full scale.
  g.strokeStyle = '#1f2937';
  g.lineWidth = 1;
  for (const f of [0.5, 1]) {
    const y = Math.round(h - 4 - plotH * f) + 0.5;
    g.beginPath();
    g.moveTo(0, y);
    g.lineTo(w, y);
    g.stroke();
  }
  g.fillStyle = '#64748b';
  g.font = '10px ui-monospace, DejaVu Sans Mono, monospace';
  g.fillText(`${max}/s`, 4, 10);
  const bw = w / slots;
  const start = slots - samples.length;
  samples.forEach((v, i) => {
    const bh = (plotH * v) / max;
    g.fillStyle = i === samples.length - 1 ? '#60a5fa' : '#2563eb';
    g.fillRect((start + i) * bw + 1, h - 4 - bh, Math.max(1, bw - 2), bh);
  });
}
