// DXF: parse the plan, render a PNG preview (an SVG of the primitives rasterized by sharp) and a
// short text summary (entity counts, layers, extents and the drawing's text strings).

import { type DxfPlan, type Primitive, parseDxf } from './dxf-parse.ts';
import { invalid } from './errors.ts';
import { DXF_LIMITS, MAX_TEXT_BYTES } from './limits.ts';

export interface NormalizedDxf {
  text: string;
  preview?: { media_type: 'image/png'; bytes: Uint8Array };
}

interface Box {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

function extents(prims: Primitive[]): Box {
  const b: Box = { minX: Infinity, minY: Infinity, maxX: -Infinity, maxY: -Infinity };
  const add = (x: number, y: number): void => {
    b.minX = Math.min(b.minX, x);
    b.minY = Math.min(b.minY, y);
    b.maxX = Math.max(b.maxX, x);
    b.maxY = Math.max(b.maxY, y);
  };
  for (const p of prims) {
    if (p.kind === 'polyline') for (const [x, y] of p.points) add(x, y);
    else {
      add(p.cx - p.r, p.cy - p.r);
      add(p.cx + p.r, p.cy + p.r);
    }
  }
  return b;
}

const MARGIN = 16;

export function planSvg(plan: DxfPlan): string {
  const box = extents(plan.primitives);
  const w = box.maxX - box.minX;
  const h = box.maxY - box.minY;
  const inner = DXF_LIMITS.previewEdge - 2 * MARGIN;
  const scale = Math.max(w, h) > 0 ? inner / Math.max(w, h) : 1;
  const width = Math.max(64, Math.ceil(w * scale) + 2 * MARGIN);
  const height = Math.max(64, Math.ceil(h * scale) + 2 * MARGIN);
  // Plan Y grows upwards, SVG Y downwards.
  const X = (x: number): string => (MARGIN + (x - box.minX) * scale).toFixed(2);
  const Y = (y: number): string => (height - MARGIN - (y - box.minY) * scale).toFixed(2);
  const d: string[] = [];
  for (const p of plan.primitives) {
    if (p.kind === 'polyline') {
      d.push(`M${X(p.points[0]![0])} ${Y(p.points[0]![1])}`);
      for (const [x, y] of p.points.slice(1)) d.push(`L${X(x)} ${Y(y)}`);
      if (p.closed) d.push('Z');
    } else if (p.kind === 'circle') {
      const r = (p.r * scale).toFixed(2);
      d.push(
        `M${X(p.cx + p.r)} ${Y(p.cy)}A${r} ${r} 0 1 0 ${X(p.cx - p.r)} ${Y(p.cy)}A${r} ${r} 0 1 0 ${X(p.cx + p.r)} ${Y(p.cy)}`,
      );
    } else {
      const rad = (a: number): number => (a * Math.PI) / 180;
      const span = (((p.end - p.start) % 360) + 360) % 360 || 360;
      const r = (p.r * scale).toFixed(2);
      const sx = p.cx + p.r * Math.cos(rad(p.start));
      const sy = p.cy + p.r * Math.sin(rad(p.start));
      const ex = p.cx + p.r * Math.cos(rad(p.start + span));
      const ey = p.cy + p.r * Math.sin(rad(p.start + span));
      // Counter-clockwise in the plan stays counter-clockwise on screen after the Y flip: sweep 0.
      d.push(`M${X(sx)} ${Y(sy)}A${r} ${r} 0 ${span > 180 ? 1 : 0} 0 ${X(ex)} ${Y(ey)}`);
    }
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<rect width="100%" height="100%" fill="#fff"/>` +
    `<path d="${d.join('')}" fill="none" stroke="#000" stroke-width="1.5" stroke-linejoin="round"/></svg>`
  );
}

function summary(plan: DxfPlan): string {
  const counts = [...plan.entityCounts].sort((a, b) => b[1] - a[1]);
  const total = counts.reduce((s, [, n]) => s + n, 0);
  const lines = [
    'DXF drawing',
    `entities: ${total}${counts.length ? ` (${counts.map(([t, n]) => `${t} ${n}`).join(', ')})` : ''}`,
    `layers: ${plan.layers.size ? [...plan.layers].join(', ') : '(none)'}`,
  ];
  if (plan.primitives.length) {
    const b = extents(plan.primitives);
    const f = (n: number): string => String(Math.round(n * 1000) / 1000);
    lines.push(`extents: x ${f(b.minX)}..${f(b.maxX)}, y ${f(b.minY)}..${f(b.maxY)}`);
  }
  if (plan.texts.length) lines.push('text:', ...plan.texts.map((t) => `- ${t}`));
  let out = lines.join('\n');
  if (Buffer.byteLength(out) > MAX_TEXT_BYTES) out = Buffer.from(out).subarray(0, MAX_TEXT_BYTES).toString();
  return out;
}

export async function normalizeDxf(bytes: Uint8Array, signal?: AbortSignal): Promise<NormalizedDxf> {
  const plan = parseDxf(bytes, signal);
  const text = summary(plan);
  if (plan.primitives.length === 0) return { text };
  signal?.throwIfAborted();
  const { default: sharp } = await import('sharp');
  try {
    const png = await sharp(Buffer.from(planSvg(plan)))
      .png({ compressionLevel: 9 })
      .toBuffer();
    return { text, preview: { media_type: 'image/png', bytes: new Uint8Array(png) } };
  } catch (err) {
    throw invalid(`DXF preview could not be rendered: ${(err as Error).message}`);
  }
}
