// Pending human decisions: approval requests and structured questions.
import type { ApprovalsTable, Executor, QuestionsTable } from '../schema.ts';
import { readCounter } from './counters.ts';

export type ApprovalRow = ApprovalsTable;
export type QuestionRow = QuestionsTable;

const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const approval = (r: ApprovalRow): ApprovalRow => ({
  ...r,
  created_at_ms: Number(r.created_at_ms),
  resolved_at_ms: n(r.resolved_at_ms),
});
const question = (r: QuestionRow): QuestionRow => ({
  ...r,
  created_at_ms: Number(r.created_at_ms),
  resolved_at_ms: n(r.resolved_at_ms),
  expires_at_ms: n(r.expires_at_ms),
});

export async function insertApprovals(db: Executor, rows: ApprovalRow[]): Promise<void> {
  if (rows.length) await db.insertInto('approvals').values(rows).execute();
}

export async function approvalsOfRun(db: Executor, runId: string): Promise<ApprovalRow[]> {
  const rows = await db
    .selectFrom('approvals')
    .selectAll()
    .where('run_id', '=', runId)
    .orderBy('created_at_ms')
    .orderBy('request_id')
    .execute();
  return rows.map(approval);
}

export async function pendingApprovals(
  db: Executor,
  filter: { session_id?: string; run_id?: string },
): Promise<ApprovalRow[]> {
  let q = db.selectFrom('approvals').selectAll().where('status', '=', 'pending');
  if (filter.session_id) q = q.where('session_id', '=', filter.session_id);
  if (filter.run_id) q = q.where('run_id', '=', filter.run_id);
  return (await q.orderBy('created_at_ms').orderBy('request_id').execute()).map(approval);
}

export async function resolveApproval(
  db: Executor,
  requestId: string,
  status: 'allowed' | 'denied',
  resolution: unknown,
  now: number,
): Promise<void> {
  await db
    .updateTable('approvals')
    .set({ status, resolution: JSON.stringify(resolution), resolved_at_ms: now })
    .where('request_id', '=', requestId)
    .execute();
}

export async function insertQuestion(db: Executor, row: QuestionRow): Promise<void> {
  await db.insertInto('questions').values(row).execute();
}

export async function questionsOfRun(db: Executor, runId: string): Promise<QuestionRow[]> {
  return (
    await db
      .selectFrom('questions')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('created_at_ms')
      .orderBy('request_id')
      .execute()
  ).map(question);
}

export async function pendingQuestions(
  db: Executor,
  filter: { session_id?: string; run_id?: string; after?: string; limit?: number },
): Promise<QuestionRow[]> {
  let q = db.selectFrom('questions').selectAll().where('status', '=', 'pending');
  if (filter.session_id) q = q.where('session_id', '=', filter.session_id);
  if (filter.run_id) q = q.where('run_id', '=', filter.run_id);
  if (filter.after) q = q.where('request_id', '>', filter.after);
  q = q.orderBy('request_id');
  if (filter.limit) q = q.limit(filter.limit);
  return (await q.execute()).map(question);
}

/** Pending questions of a session (indexed), or of the whole daemon (a counter, migration 0011). */
export async function countPendingQuestions(db: Executor, sessionId?: string): Promise<number> {
  if (sessionId === undefined) return readCounter(db, 'questions:pending');
  let q = db
    .selectFrom('questions')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('status', '=', 'pending');
  q = q.where('session_id', '=', sessionId);
  return Number((await q.executeTakeFirst())?.n ?? 0);
}

/** Pending approvals of a session (indexed), or of the whole daemon (a counter, migration 0011). */
export async function countPendingApprovals(db: Executor, sessionId?: string): Promise<number> {
  if (sessionId === undefined) return readCounter(db, 'approvals:pending');
  let q = db
    .selectFrom('approvals')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('status', '=', 'pending');
  q = q.where('session_id', '=', sessionId);
  return Number((await q.executeTakeFirst())?.n ?? 0);
}

export async function setQuestionStatus(
  db: Executor,
  requestId: string,
  status: QuestionRow['status'],
  resolution: unknown,
  now: number,
): Promise<void> {
  await db
    .updateTable('questions')
    .set({ status, resolution: resolution === null ? null : JSON.stringify(resolution), resolved_at_ms: now })
    .where('request_id', '=', requestId)
    .execute();
}

export async function expiredQuestions(db: Executor, now: number): Promise<QuestionRow[]> {
  return (
    await db
      .selectFrom('questions')
      .selectAll()
      .where('status', '=', 'pending')
      .where('expires_at_ms', '<=', now)
      .execute()
  ).map(question);
}
