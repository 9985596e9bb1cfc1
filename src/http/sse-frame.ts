// SSE frame text. A durable event is serialized once, when it is stored; its frame is built from
// that stored JSON text (no parse, no second stringify), cached on the event and shared by every
// subscriber, and replay builds the same bytes from the same text.
import { type BusEvent, type StoredEvent, SUB_BITS, sseIdOf } from '../store/event-log.ts';

export const frame = (name: string, data: Record<string, unknown>, id?: bigint): string =>
  `${id === undefined ? '' : `id: ${id}\n`}event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;

export const HEARTBEAT_FRAME = frame('heartbeat', {});

/** The SSE id of row r is r << SUB_BITS, i.e. r × SUB_FACTOR. */
const SUB_FACTOR = Number(1n << SUB_BITS);
/** Row ids below this give an SSE id that a double holds exactly, so no BigInt per replayed row. */
const EXACT_ROW_LIMIT = 2 ** (53 - Number(SUB_BITS));

const headCache = new Map<string, string>();
/** `event: <name>\ndata: {"type":"<name>"` — the constant part of a frame of that name. */
function headOf(name: string): string {
  let head = headCache.get(name);
  if (head === undefined) {
    head = `event: ${name}\ndata: {"type":${JSON.stringify(name)}`;
    headCache.set(name, head);
  }
  return head;
}

/**
 * The frame of event `name` whose payload is stored as `json` (store/event-log.ts payloadJson),
 * without parsing it: the text is spliced after the frame's `type` key. It is the same JSON object
 * as `frame(name, payload, id)` gives, and the same bytes unless the payload has integer-like
 * top-level keys (which JSON.stringify would list before `type`). A payload's own `type` wins, as
 * with the spread in `frame`: payloadJson stores it as the first key, and the text is then the
 * frame's data as it is. (A row stored before payloadJson with a later top-level `type` would
 * carry the key twice, the last one winning; the daemon emits no such payload.)
 */
export function frameFromJson(name: string, json: string, idLine: string): string {
  if (json.startsWith('{"type":')) return `${idLine}event: ${name}\ndata: ${json}\n\n`;
  const head = headOf(name);
  return json.length <= 2 ? `${idLine}${head}}\n\n` : `${idLine}${head},${json.slice(1)}\n\n`;
}

/** The event's frame, rendered on first use and then shared by every subscriber. */
export function eventFrame(ev: BusEvent): string {
  if (ev.frame === undefined) {
    ev.frame =
      ev.json === undefined
        ? frame(ev.name, ev.data, ev.id)
        : frameFromJson(ev.name, ev.json, `id: ${ev.id}\n`);
  }
  return ev.frame;
}

/** The frame of a replayed row: the same bytes its live frame had. */
export function storedFrame(ev: StoredEvent): string {
  const id = ev.rowId < EXACT_ROW_LIMIT ? ev.rowId * SUB_FACTOR : sseIdOf(ev.rowId);
  return frameFromJson(ev.name, ev.json, `id: ${id}\n`);
}
