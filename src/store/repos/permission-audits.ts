// Permission audit rows: written by the engine when it decides a tool call, read by the sessions API.
import type { Executor } from '../schema.ts';

export interface PermissionAuditRecord {
  session_id: string;
  run_id: string;
  tool_call_id: string;
  tool_name: string;
  decision: string;
  base_decision: string;
  effective_mode: string;
  mode_effect?: string;
  matched_rule_pattern?: string;
  matched_rule_origin?: string;
  matched_rule_scope?: string;
  reason?: string;
  /** True when hooks (pre_tool_use, permission_request) were run for this call before the audit. */
  hooks_evaluated?: boolean;
  created_at_ms: number;
}

/** Inserts the audits of calls not audited yet (a re-decided call keeps its first audit). */
export async function insertPermissionAudits(db: Executor, records: PermissionAuditRecord[]): Promise<void> {
  if (records.length === 0) return;
  await db
    .insertInto('permission_audits')
    .values(
      records.map((r) => ({
        session_id: r.session_id,
        run_id: r.run_id,
        tool_call_id: r.tool_call_id,
        created_at_ms: r.created_at_ms,
        record: JSON.stringify(r),
      })),
    )
    .onConflict((oc) => oc.columns(['run_id', 'tool_call_id']).doNothing())
    .execute();
}

/** A session's audits in decision order, after the row id `afterId` (cursor pages). */
export async function permissionAuditsOfSession(
  db: Executor,
  sessionId: string,
  opts: { afterId?: number; limit?: number } = {},
): Promise<Array<{ id: number; record: PermissionAuditRecord }>> {
  let q = db
    .selectFrom('permission_audits')
    .select(['id', 'record'])
    .where('session_id', '=', sessionId)
    .orderBy('id');
  if (opts.afterId !== undefined) q = q.where('id', '>', opts.afterId);
  if (opts.limit !== undefined) q = q.limit(opts.limit);
  const rows = await q.execute();
  return rows.map((r) => ({ id: Number(r.id), record: JSON.parse(r.record) as PermissionAuditRecord }));
}

export async function countPermissionAudits(db: Executor, sessionId: string): Promise<number> {
  const row = await db
    .selectFrom('permission_audits')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('session_id', '=', sessionId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
