// What board_draw paints (api-collab §5 "agent drawing"): a small element schema, each element
// stamped with its author and the author's stable colour, turned into an SVG overlay that sharp
// (librsvg) composites onto the previous render. No pixels are written by hand.
import { createHash } from 'node:crypto';
import { z } from 'zod';

const coord = z.number().finite().min(-100_000).max(100_000);
const size = z.number().finite().min(0).max(100_000);

export const DrawElement = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('rect'),
      x: coord,
      y: coord,
      width: size,
      height: size,
      filled: z.boolean().optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('ellipse'),
      cx: coord,
      cy: coord,
      rx: size,
      ry: size,
      filled: z.boolean().optional(),
    })
    .strict(),
  z.object({ kind: z.literal('line'), x1: coord, y1: coord, x2: coord, y2: coord }).strict(),
  z.object({ kind: z.literal('arrow'), x1: coord, y1: coord, x2: coord, y2: coord }).strict(),
  z
    .object({
      kind: z.literal('text'),
      x: coord,
      y: coord,
      text: z.string().min(1).max(500),
      size: z.number().min(6).max(200).optional(),
    })
    .strict(),
]);
export type DrawElement = z.infer<typeof DrawElement>;

/** Twelve colours far apart on the wheel and dark enough for white boards. */
const PALETTE = [
  '#d62728',
  '#1f77b4',
  '#2ca02c',
  '#9467bd',
  '#ff7f0e',
  '#17becf',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#393b79',
  '#637939',
];

/** The same author always gets the same colour (on every daemon: a hash, not an order). */
export function authorColour(author: string): string {
  const h = createHash('sha256').update(author).digest();
  return PALETTE[h.readUInt32BE(0) % PALETTE.length]!;
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Where an element's author tag goes: just above its top-left corner. */
function anchor(e: DrawElement): [number, number] {
  switch (e.kind) {
    case 'rect':
      return [e.x, e.y - 3];
    case 'ellipse':
      return [e.cx - e.rx, e.cy - e.ry - 3];
    case 'line':
    case 'arrow':
      return [Math.min(e.x1, e.x2), Math.min(e.y1, e.y2) - 3];
    case 'text':
      return [e.x, e.y - (e.size ?? 16) - 2];
  }
}

function shape(e: DrawElement, c: string): string {
  const stroke = `stroke="${c}" stroke-width="3"`;
  switch (e.kind) {
    case 'rect':
      return `<rect x="${e.x}" y="${e.y}" width="${e.width}" height="${e.height}" ${stroke} fill="${e.filled ? c : 'none'}"/>`;
    case 'ellipse':
      return `<ellipse cx="${e.cx}" cy="${e.cy}" rx="${e.rx}" ry="${e.ry}" ${stroke} fill="${e.filled ? c : 'none'}"/>`;
    case 'line':
      return `<line x1="${e.x1}" y1="${e.y1}" x2="${e.x2}" y2="${e.y2}" ${stroke}/>`;
    case 'arrow':
      return `<line x1="${e.x1}" y1="${e.y1}" x2="${e.x2}" y2="${e.y2}" ${stroke} marker-end="url(#head-${c.slice(1)})"/>`;
    case 'text':
      return `<text x="${e.x}" y="${e.y}" font-family="sans-serif" font-size="${e.size ?? 16}" fill="${c}">${esc(e.text)}</text>`;
  }
}

/** The overlay for one batch: the elements, then each one's small author tag. */
export function overlaySvg(width: number, height: number, elements: DrawElement[], author: string): string {
  const c = authorColour(author);
  const tag = esc(author.length > 40 ? `${author.slice(0, 39)}…` : author);
  const body = elements
    .map((e) => {
      const [x, y] = anchor(e);
      return `${shape(e, c)}<text x="${x}" y="${Math.max(9, y)}" font-family="sans-serif" font-size="9" fill="${c}">${tag}</text>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><defs><marker id="head-${c.slice(1)}" markerWidth="8" markerHeight="8" refX="6" refY="4" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="${c}"/></marker></defs>${body}</svg>`;
}

/** A white canvas for a board's first drawing. */
export async function blankPng(width: number, height: number): Promise<Buffer> {
  const { default: sharp } = await import('sharp');
  return sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .png()
    .toBuffer();
}

/** The previous render with the batch composited over it, as PNG (same size as before). */
export async function drawOver(
  previous: Uint8Array,
  elements: DrawElement[],
  author: string,
): Promise<Buffer> {
  const { default: sharp } = await import('sharp');
  const base = sharp(Buffer.from(previous));
  const meta = await base.metadata();
  const width = meta.width ?? 1;
  const height = meta.height ?? 1;
  const svg = Buffer.from(overlaySvg(width, height, elements, author));
  return base
    .composite([{ input: svg, top: 0, left: 0 }])
    .png()
    .toBuffer();
}
