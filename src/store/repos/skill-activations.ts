// Active inline skills per session (migration 0017). Activating a skill again replaces its row:
// the latest arguments and instructions are the ones that apply.
import type { Executor } from '../schema.ts';

export interface SkillActivationRow {
  session_id: string;
  name: string;
  digest: string;
  run_id: string;
  tool_call_id: string;
  activated_at_ms: number;
  snapshot: string;
}

export async function upsertSkillActivation(db: Executor, row: SkillActivationRow): Promise<void> {
  await db
    .insertInto('skill_activations')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['session_id', 'name']).doUpdateSet({
        digest: row.digest,
        run_id: row.run_id,
        tool_call_id: row.tool_call_id,
        activated_at_ms: row.activated_at_ms,
        snapshot: row.snapshot,
      }),
    )
    .execute();
}

/** A session's activations, oldest first (the order their instructions are given to the model). */
export async function skillActivationsOf(db: Executor, sessionId: string): Promise<SkillActivationRow[]> {
  const rows = await db
    .selectFrom('skill_activations')
    .selectAll()
    .where('session_id', '=', sessionId)
    .orderBy('activated_at_ms')
    .orderBy('name')
    .execute();
  return rows.map((r) => ({ ...r, activated_at_ms: Number(r.activated_at_ms) }));
}

export async function getSkillActivation(
  db: Executor,
  sessionId: string,
  name: string,
): Promise<SkillActivationRow | undefined> {
  const r = await db
    .selectFrom('skill_activations')
    .selectAll()
    .where('session_id', '=', sessionId)
    .where('name', '=', name)
    .executeTakeFirst();
  return r && { ...r, activated_at_ms: Number(r.activated_at_ms) };
}
