// Payload fingerprints for the connectors' idempotency receipts: a replay with the same event id
// and another payload is a conflict, so the digest must not depend on key order.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../../engine/output-contract.ts';

export const sha256Hex = (text: string | Uint8Array): string =>
  createHash('sha256').update(text).digest('hex');

export const fingerprintOf = (value: unknown): string => sha256Hex(canonicalJson(value));
