// Step progress of a chat delivery, as the queue persists it between attempts (DeliveryItem.progress).
// Anything unreadable counts as "nothing done yet".
import { createHash } from 'node:crypto';

export const numberOr = (v: unknown, d: number): number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : d;

export const stringList = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

/** A stable UUID-shaped id for step `step` of a delivery (Slack's client_msg_id is a UUID). */
export function stepUuid(deliveryId: string, step: number | string): string {
  const h = createHash('sha256').update(`kheish-delivery-step\n${deliveryId}\n${step}`).digest('hex');
  const variant = ((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
