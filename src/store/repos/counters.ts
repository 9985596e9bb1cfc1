// Reads of the counters that migration 0011 keeps with triggers (names are listed there). A read
// touches a few dozen rows whatever the size of the history.
import { sql } from 'kysely';
import type { Executor } from '../schema.ts';

/** The counters whose name starts with `prefix`, keyed by the rest of the name, in name order. */
export async function readCounters(db: Executor, prefix: string): Promise<Map<string, number>> {
  // A range on the primary key (prefix ≤ name < prefix with its last character bumped), not LIKE,
  // which SQLite cannot serve from the index under its default case-insensitive collation.
  const upper = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  const { rows } = await sql<{ name: string; value: number | bigint }>`
    SELECT name, value FROM counters WHERE name >= ${prefix} AND name < ${upper} ORDER BY name
  `.execute(db);
  return new Map(rows.map((r) => [r.name.slice(prefix.length), Number(r.value)]));
}

/** One counter (0 when it was never touched). */
export async function readCounter(db: Executor, name: string): Promise<number> {
  const { rows } = await sql<{ value: number | bigint }>`
    SELECT value FROM counters WHERE name = ${name}
  `.execute(db);
  return rows.length ? Number(rows[0]!.value) : 0;
}

/** `known` keys first (0 when absent), then any other non-zero key: what a GROUP BY count returned. */
export function countsOf(counters: Map<string, number>, known: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of known) out[k] = counters.get(k) ?? 0;
  for (const [k, v] of counters) if (!(k in out) && v !== 0) out[k] = v;
  return out;
}
