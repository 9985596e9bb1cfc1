// Hook dead-letter rows (ops-runtime §7.4): appended by the hooks dispatcher, pruned by count and
// total bytes after each append, resolved by the operator with a ledger entry (never deleted).
import type { Executor } from '../schema.ts';

export interface HookDeadLetterResolution {
  reason: string;
  resolved_at_ms: number;
}

export interface HookDeadLetterRecord {
  id: string;
  created_at_ms: number;
  event: string;
  hook_name: string;
  executor_type: string;
  /** Scheme, host and port of an http hook; `command`; `callback:<name>`. */
  target: string;
  failure_mode: 'open' | 'closed';
  attempts: number;
  error: string;
  contract_version: number;
  invocation_key: string;
  invocation_digest: string;
  definition_digest: string;
  session_id?: string;
  run_id?: string;
  resolutions: HookDeadLetterResolution[];
}

export const DEAD_LETTER_LIMITS = { count: 500, bytes: 1024 * 1024 };

export async function insertDeadLetter(db: Executor, r: HookDeadLetterRecord): Promise<void> {
  const record = JSON.stringify(r);
  await db
    .insertInto('hook_dead_letters')
    .values({
      id: r.id,
      created_at_ms: r.created_at_ms,
      event: r.event,
      hook_name: r.hook_name,
      bytes: Buffer.byteLength(record),
      resolved_at_ms: null,
      record,
    })
    .execute();
  // Newest first; everything past the count or the byte budget goes.
  const rows = await db
    .selectFrom('hook_dead_letters')
    .select(['id', 'bytes'])
    .orderBy('created_at_ms', 'desc')
    .orderBy('id', 'desc')
    .execute();
  let total = 0;
  const drop: string[] = [];
  rows.forEach((row, i) => {
    total += Number(row.bytes);
    if (i >= DEAD_LETTER_LIMITS.count || total > DEAD_LETTER_LIMITS.bytes) drop.push(row.id);
  });
  if (drop.length > 0) await db.deleteFrom('hook_dead_letters').where('id', 'in', drop).execute();
}

export async function listDeadLetters(db: Executor, limit = 100): Promise<HookDeadLetterRecord[]> {
  const rows = await db
    .selectFrom('hook_dead_letters')
    .select('record')
    .orderBy('created_at_ms', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => JSON.parse(r.record) as HookDeadLetterRecord);
}

export async function getDeadLetter(db: Executor, id: string): Promise<HookDeadLetterRecord | undefined> {
  const row = await db
    .selectFrom('hook_dead_letters')
    .select('record')
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? (JSON.parse(row.record) as HookDeadLetterRecord) : undefined;
}

export async function saveResolution(db: Executor, r: HookDeadLetterRecord, at: number): Promise<void> {
  const record = JSON.stringify(r);
  await db
    .updateTable('hook_dead_letters')
    .set({ record, bytes: Buffer.byteLength(record), resolved_at_ms: at })
    .where('id', '=', r.id)
    .execute();
}

export async function deadLetterCounts(db: Executor): Promise<{ total: number; unresolved: number }> {
  const row = await db
    .selectFrom('hook_dead_letters')
    .select((eb) => [
      eb.fn.countAll<number>().as('total'),
      eb.fn.count<number>('id').filterWhere('resolved_at_ms', 'is', null).as('unresolved'),
    ])
    .executeTakeFirstOrThrow();
  return { total: Number(row.total), unresolved: Number(row.unresolved) };
}
