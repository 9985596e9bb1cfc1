// Offline verification of the external-action ledger: each chain (one per run, plus `daemon`) is
// re-checked record by record — position (seq), content hash, link to the previous record, and
// the Ed25519 signature against a key the operator trusts — and the first bad record is named.
// Pure: the caller reads the rows (database or an exported JSON-lines file).
import { type KeyObject, verify } from 'node:crypto';
import { keyIdOf, recordHashOf } from './external-actions.ts';

const GENESIS = '0'.repeat(64);

/** One ledger row as stored or exported: its chain, its position and the signed record text. */
export interface LedgerRow {
  run_id: string;
  seq: number;
  /** The record (JSON text as stored, or already parsed from an export line). */
  record: string | Record<string, unknown>;
  /** Where it came from, for the report (`line 7`, `row seq 3`). */
  where: string;
}

export interface BadRecord {
  run_id: string;
  seq: number;
  action_id: string | null;
  where: string;
  reason: string;
}

export interface VerifyReport {
  ok: boolean;
  chains: number;
  records: number;
  /** The first bad record of each chain that has one, in chain order. */
  bad: BadRecord[];
  /** The first bad record of all (the earliest chain by run id with a problem), or null. */
  first_bad: BadRecord | null;
}

export function trustedKeys(publicKeys: KeyObject[]): Map<string, KeyObject> {
  return new Map(publicKeys.map((k) => [keyIdOf(k), k]));
}

/** Rows in any order are grouped by chain; within a chain they are checked in the order given. */
export function verifyLedger(rows: LedgerRow[], keys: Map<string, KeyObject>): VerifyReport {
  const chains = new Map<string, LedgerRow[]>();
  for (const r of rows) chains.set(r.run_id, [...(chains.get(r.run_id) ?? []), r]);
  const bad: BadRecord[] = [];
  for (const runId of [...chains.keys()].sort()) {
    const problem = verifyChain(runId, chains.get(runId)!, keys);
    if (problem) bad.push(problem);
  }
  return { ok: bad.length === 0, chains: chains.size, records: rows.length, bad, first_bad: bad[0] ?? null };
}

function verifyChain(runId: string, rows: LedgerRow[], keys: Map<string, KeyObject>): BadRecord | null {
  let prevHash = GENESIS;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const badAt = (reason: string, actionId: string | null = null): BadRecord => ({
      run_id: runId,
      seq: row.seq,
      action_id: actionId,
      where: row.where,
      reason,
    });
    let rec: Record<string, unknown>;
    try {
      rec = typeof row.record === 'string' ? (JSON.parse(row.record) as Record<string, unknown>) : row.record;
      if (!rec || typeof rec !== 'object' || Array.isArray(rec)) throw new Error('not an object');
    } catch {
      return badAt('the record is not valid JSON (altered bytes)');
    }
    const actionId = typeof rec.action_id === 'string' ? rec.action_id : null;
    // Positions first: a gap means records are missing, a step back means they were moved.
    if (row.seq !== i + 1) {
      const later = rows.slice(i + 1).some((r) => r.seq === i + 1);
      return badAt(
        row.seq > i + 1 && !later
          ? `expected position ${i + 1}, found ${row.seq}: ${row.seq - i - 1} record(s) before it are missing`
          : `expected position ${i + 1}, found ${row.seq}: records are out of order`,
        actionId,
      );
    }
    if (rec.run_id !== runId)
      return badAt(`the record names run ${String(rec.run_id)}, not the chain it sits in`, actionId);
    if (recordHashOf(rec) !== rec.record_hash)
      return badAt('record_hash does not match the record content (the record was altered)', actionId);
    if (rec.prev_hash !== prevHash)
      return badAt(
        'prev_hash does not match the previous record: a record before it was dropped, reordered or altered',
        actionId,
      );
    const key = keys.get(String(rec.key_id));
    if (!key) return badAt(`signed with key ${String(rec.key_id)}, which is not a trusted key`, actionId);
    let signed = false;
    try {
      signed =
        rec.signature_alg === 'ed25519' &&
        verify(
          null,
          Buffer.from(String(rec.record_hash), 'hex'),
          key,
          Buffer.from(String(rec.signature), 'base64'),
        );
    } catch {
      signed = false;
    }
    if (!signed) return badAt('the Ed25519 signature does not verify', actionId);
    prevHash = String(rec.record_hash);
  }
  return null;
}
