// A small ASCII DXF reader: group-code/value pairs, the LAYER table, and the drawable entities of the
// ENTITIES section (LINE, LWPOLYLINE, POLYLINE/VERTEX, CIRCLE, ARC) within the §7.2 preview limits.
// Other entities (TEXT, MTEXT, INSERT, SPLINE, …) are counted, and text strings kept for the summary.
import { startsWith } from './bytes.ts';
import { invalid, limitExceeded } from './errors.ts';
import { DXF_LIMITS } from './limits.ts';

export type Primitive =
  | { kind: 'polyline'; points: [number, number][]; closed: boolean }
  | { kind: 'circle'; cx: number; cy: number; r: number }
  | { kind: 'arc'; cx: number; cy: number; r: number; start: number; end: number };

export interface DxfPlan {
  primitives: Primitive[];
  segments: number;
  entityCounts: Map<string, number>;
  layers: Set<string>;
  texts: string[];
}

interface Pair {
  code: number;
  value: string;
}

/** Text strings kept for the summary: enough to name rooms and labels, bounded. */
const MAX_TEXTS = 2_000;

function* pairs(text: string): Generator<Pair> {
  const lines = text.split(/\r\n|\n|\r/);
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const raw = lines[i]!.trim();
    if (raw === '' && i + 2 >= lines.length) return;
    if (!/^-?\d+$/.test(raw))
      throw invalid(`DXF group code expected at line ${i + 1}, found "${raw.slice(0, 40)}"`);
    yield { code: Number(raw), value: lines[i + 1]!.trim() };
  }
}

const num = (v: string | undefined, what: string): number => {
  const n = Number(v ?? '0');
  if (!Number.isFinite(n)) throw invalid(`DXF ${what} is not a number: "${String(v).slice(0, 40)}"`);
  return n;
};

export function parseDxf(bytes: Uint8Array, signal?: AbortSignal): DxfPlan {
  if (startsWith(bytes, 'AutoCAD Binary DXF'))
    throw invalid('binary DXF is not supported; upload the ASCII form');
  if (bytes.indexOf(0) >= 0) throw invalid('application/dxf content contains NUL bytes: not an ASCII DXF');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // DXF before R2007 is written in the drawing's ANSI code page.
    text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  }
  const plan: DxfPlan = {
    primitives: [],
    segments: 0,
    entityCounts: new Map(),
    layers: new Set(),
    texts: [],
  };
  let section = '';
  let first = true;
  let expectName = false;
  let entity: { type: string; codes: Pair[] } | null = null;
  let polyline: { points: [number, number][]; closed: boolean } | null = null;
  let n = 0;

  const addPrimitive = (p: Primitive, segments: number): void => {
    plan.primitives.push(p);
    plan.segments += segments;
    if (plan.primitives.length > DXF_LIMITS.maxPrimitives)
      throw limitExceeded(`DXF has more than ${DXF_LIMITS.maxPrimitives} primitives (the limit)`);
    if (plan.segments > DXF_LIMITS.maxSegments)
      throw limitExceeded(`DXF has more than ${DXF_LIMITS.maxSegments} line/polyline segments (the limit)`);
  };
  const checkPoints = (count: number): void => {
    if (count > DXF_LIMITS.maxPolylinePoints)
      throw limitExceeded(`a DXF polyline has more than ${DXF_LIMITS.maxPolylinePoints} points (the limit)`);
  };
  const finishPolyline = (): void => {
    if (!polyline) return;
    const pts = polyline.points;
    if (pts.length > 1)
      addPrimitive({ kind: 'polyline', ...polyline }, pts.length - 1 + (polyline.closed ? 1 : 0));
    polyline = null;
  };

  const finishEntity = (): void => {
    if (!entity) return;
    const { type, codes } = entity;
    entity = null;
    if (type === '#LAYER') return;
    const get = (c: number): string | undefined => codes.find((p) => p.code === c)?.value;
    const layer = get(8);
    if (layer !== undefined) plan.layers.add(layer);
    if (type === 'VERTEX' && polyline) {
      polyline.points.push([num(get(10), 'x'), num(get(20), 'y')]);
      checkPoints(polyline.points.length);
      return;
    }
    if (type === 'SEQEND') {
      finishPolyline();
      return;
    }
    plan.entityCounts.set(type, (plan.entityCounts.get(type) ?? 0) + 1);
    if (type === 'LINE') {
      const a: [number, number] = [num(get(10), 'x'), num(get(20), 'y')];
      const b: [number, number] = [num(get(11), 'x'), num(get(21), 'y')];
      addPrimitive({ kind: 'polyline', points: [a, b], closed: false }, 1);
    } else if (type === 'LWPOLYLINE') {
      const points: [number, number][] = [];
      for (const p of codes) {
        if (p.code === 10) {
          points.push([num(p.value, 'x'), 0]);
          checkPoints(points.length);
        } else if (p.code === 20 && points.length > 0) points[points.length - 1]![1] = num(p.value, 'y');
      }
      const closed = (num(get(70), 'flags') & 1) === 1;
      if (points.length > 1)
        addPrimitive({ kind: 'polyline', points, closed }, points.length - 1 + (closed ? 1 : 0));
    } else if (type === 'POLYLINE') {
      polyline = { points: [], closed: (num(get(70), 'flags') & 1) === 1 };
    } else if (type === 'CIRCLE') {
      addPrimitive(
        { kind: 'circle', cx: num(get(10), 'x'), cy: num(get(20), 'y'), r: Math.abs(num(get(40), 'r')) },
        0,
      );
    } else if (type === 'ARC') {
      const [cx, cy, r] = [num(get(10), 'x'), num(get(20), 'y'), Math.abs(num(get(40), 'r'))];
      addPrimitive({ kind: 'arc', cx, cy, r, start: num(get(50), 'angle'), end: num(get(51), 'angle') }, 0);
    } else if ((type === 'TEXT' || type === 'MTEXT') && plan.texts.length < MAX_TEXTS) {
      const t = codes
        .filter((p) => p.code === 1 || p.code === 3)
        .map((p) => p.value)
        .join('');
      if (t) plan.texts.push(t);
    }
  };

  for (const p of pairs(text)) {
    if (++n % 20_000 === 0) signal?.throwIfAborted();
    if (p.code === 999) continue;
    if (first) {
      if (p.code !== 0 || p.value !== 'SECTION') throw invalid('DXF does not start with a SECTION');
      first = false;
    }
    if (expectName) {
      expectName = false;
      if (p.code === 2) {
        section = p.value;
        continue;
      }
    }
    if (p.code === 0) {
      finishEntity();
      if (p.value === 'SECTION') expectName = true;
      else if (p.value === 'ENDSEC') {
        finishPolyline();
        section = '';
      } else if (p.value === 'EOF') break;
      else if (section === 'ENTITIES') entity = { type: p.value, codes: [] };
      else if (section === 'TABLES' && p.value === 'LAYER') entity = { type: '#LAYER', codes: [] };
      continue;
    }
    if (entity?.type === '#LAYER') {
      if (p.code === 2) plan.layers.add(p.value);
      continue;
    }
    entity?.codes.push(p);
  }
  if (first) throw invalid('application/dxf content has no DXF group pairs');
  finishEntity();
  finishPolyline();
  plan.layers.delete('');
  return plan;
}
