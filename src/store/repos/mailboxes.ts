// Mailbox rows: typed messages between agents and the parent clarifications children wait on.
// Every agent (primary or child) owns exactly one session (sessions.agent_id); a message is
// addressed to an agent and delivered in its session. Callers run these inside their own
// transaction (e.g. the agents feature posts a child's outcome in the transaction that ends it).
import { createHash } from 'node:crypto';
import { monotonicFactory } from 'ulid';
import type { Executor, MailboxClarificationsTable, MailboxMessagesTable } from '../schema.ts';

const ulid = monotonicFactory();

export type MailboxKind = 'message' | 'child_outcome' | 'parent_clarification' | 'clarification_reply';
export type MailboxStatus = 'queued' | 'dispatched' | 'delivered' | 'dead_lettered' | 'acked' | 'consumed';
export type MailboxMessageRow = Omit<MailboxMessagesTable, 'kind' | 'status'> & {
  kind: MailboxKind;
  status: MailboxStatus;
};
export type ClarificationStatus = 'pending' | 'answered' | 'declined' | 'expired' | 'cancelled';
export type ClarificationRow = Omit<MailboxClarificationsTable, 'status'> & { status: ClarificationStatus };

/** The same message_id was posted again with different content. */
export class MailboxIdConflictError extends Error {
  readonly message_id: string;
  constructor(messageId: string) {
    super(`mailbox message ${messageId} was already posted with different content`);
    this.name = 'MailboxIdConflictError';
    this.message_id = messageId;
  }
}

/** No session belongs to this agent id. */
export class MailboxUnknownAgentError extends Error {
  readonly agent_id: string;
  constructor(agentId: string) {
    super(`agent ${agentId} was not found`);
    this.name = 'MailboxUnknownAgentError';
    this.agent_id = agentId;
  }
}

export interface EnqueueMailboxMessage {
  message_id?: string;
  from_agent_id: string;
  to_agent_id: string;
  subject: string;
  payload: unknown;
  kind?: MailboxKind;
  ttl_ms?: number;
  correlation_id?: string;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const normalize = (r: MailboxMessagesTable): MailboxMessageRow => ({
  ...r,
  kind: r.kind as MailboxKind,
  status: r.status as MailboxStatus,
  seq: Number(r.seq),
  delivery_attempts: Number(r.delivery_attempts),
  created_at_ms: Number(r.created_at_ms),
  expires_at_ms: num(r.expires_at_ms),
  dispatched_at_ms: num(r.dispatched_at_ms),
  settled_at_ms: num(r.settled_at_ms),
});
const clarification = (r: MailboxClarificationsTable): ClarificationRow => ({
  ...r,
  status: r.status as ClarificationStatus,
  created_at_ms: Number(r.created_at_ms),
  expires_at_ms: num(r.expires_at_ms),
  resolved_at_ms: num(r.resolved_at_ms),
});

/** Key-sorted JSON, so two equal payloads always hash the same. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(obj[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The session of an agent (primary or child), or undefined. */
export async function sessionOfAgent(
  db: Executor,
  agentId: string,
): Promise<{ session_id: string; ended_at_ms: number | null } | undefined> {
  const r = await db
    .selectFrom('sessions')
    .select(['session_id', 'ended_at_ms'])
    .where('agent_id', '=', agentId)
    .executeTakeFirst();
  return r && { session_id: r.session_id, ended_at_ms: num(r.ended_at_ms) };
}

/**
 * Queues a message for `to_agent_id`, after every message already queued for it. Idempotent on
 * message_id: the same id with the same content is a duplicate (nothing written); with different
 * content it throws MailboxIdConflictError. Throws MailboxUnknownAgentError for an unknown target.
 */
export async function enqueueMailboxMessage(
  db: Executor,
  msg: EnqueueMailboxMessage,
  nowMs: number,
): Promise<{ message_id: string; duplicate: boolean }> {
  const kind = msg.kind ?? 'message';
  const fingerprint = sha256Hex(
    stableJson({
      v: 1,
      kind,
      from: msg.from_agent_id,
      to: msg.to_agent_id,
      subject: msg.subject,
      payload: msg.payload ?? null,
      ttl_ms: msg.ttl_ms ?? null,
      correlation_id: msg.correlation_id ?? null,
    }),
  );
  if (msg.message_id !== undefined) {
    const existing = await getMessage(db, msg.message_id);
    if (existing) {
      if (existing.fingerprint !== fingerprint) throw new MailboxIdConflictError(msg.message_id);
      return { message_id: existing.message_id, duplicate: true };
    }
  }
  const target = await sessionOfAgent(db, msg.to_agent_id);
  if (!target) throw new MailboxUnknownAgentError(msg.to_agent_id);
  const messageId = msg.message_id ?? `msg-${ulid().toLowerCase()}`;
  const max = await db
    .selectFrom('mailbox_messages')
    .select((eb) => eb.fn.max('seq').as('max'))
    .executeTakeFirst();
  await db
    .insertInto('mailbox_messages')
    .values({
      message_id: messageId,
      seq: Number(max?.max ?? 0) + 1,
      kind,
      from_agent_id: msg.from_agent_id,
      to_agent_id: msg.to_agent_id,
      to_session_id: target.session_id,
      subject: msg.subject,
      payload: JSON.stringify(msg.payload ?? null),
      fingerprint,
      correlation_id: msg.correlation_id ?? null,
      status: 'queued',
      delivery_run_id: null,
      delivery_attempts: 0,
      last_error: null,
      created_at_ms: nowMs,
      expires_at_ms: msg.ttl_ms === undefined ? null : nowMs + msg.ttl_ms,
      dispatched_at_ms: null,
      settled_at_ms: null,
    })
    .execute();
  return { message_id: messageId, duplicate: false };
}

/**
 * The parent's wait_agent saw the child's outcome: its not-yet-dispatched child_outcome messages
 * are consumed (never delivered as a run). A dispatched one is being delivered and stays.
 */
export async function consumeChildOutcome(
  db: Executor,
  parentAgentId: string,
  childAgentId: string,
  nowMs: number,
): Promise<number> {
  const res = await db
    .updateTable('mailbox_messages')
    .set({ status: 'consumed', settled_at_ms: nowMs })
    .where('to_agent_id', '=', parentAgentId)
    .where('from_agent_id', '=', childAgentId)
    .where('kind', '=', 'child_outcome')
    .where('status', '=', 'queued')
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}

export async function getMessage(db: Executor, messageId: string): Promise<MailboxMessageRow | undefined> {
  const r = await db
    .selectFrom('mailbox_messages')
    .selectAll()
    .where('message_id', '=', messageId)
    .executeTakeFirst();
  return r && normalize(r);
}

/** Messages addressed to an agent with one of `statuses`, in delivery order. */
export async function messagesOfAgent(
  db: Executor,
  agentId: string,
  statuses: readonly MailboxStatus[],
  limit = 1000,
): Promise<MailboxMessageRow[]> {
  const rows = await db
    .selectFrom('mailbox_messages')
    .selectAll()
    .where('to_agent_id', '=', agentId)
    .where('status', 'in', [...statuses])
    .orderBy('seq', 'asc')
    .limit(limit)
    .execute();
  return rows.map(normalize);
}

/** How many messages wait for (or are being delivered to) an agent: AgentSummaryView.mailbox_message_count. */
export async function countMailboxMessages(db: Executor, agentId: string): Promise<number> {
  const r = await db
    .selectFrom('mailbox_messages')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('to_agent_id', '=', agentId)
    .where('status', 'in', ['queued', 'dispatched'])
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}

/** Agents with at least one queued message. */
export async function agentsWithQueuedMessages(db: Executor): Promise<string[]> {
  const rows = await db
    .selectFrom('mailbox_messages')
    .select('to_agent_id')
    .distinct()
    .where('status', '=', 'queued')
    .execute();
  return rows.map((r) => r.to_agent_id);
}

export async function messagesWithStatus(db: Executor, status: MailboxStatus): Promise<MailboxMessageRow[]> {
  const rows = await db
    .selectFrom('mailbox_messages')
    .selectAll()
    .where('status', '=', status)
    .orderBy('seq', 'asc')
    .execute();
  return rows.map(normalize);
}

export async function messageOfDeliveryRun(
  db: Executor,
  runId: string,
): Promise<MailboxMessageRow | undefined> {
  const r = await db
    .selectFrom('mailbox_messages')
    .selectAll()
    .where('delivery_run_id', '=', runId)
    .where('status', '=', 'dispatched')
    .executeTakeFirst();
  return r && normalize(r);
}

export async function expiredQueuedMessages(db: Executor, nowMs: number): Promise<MailboxMessageRow[]> {
  const rows = await db
    .selectFrom('mailbox_messages')
    .selectAll()
    .where('status', '=', 'queued')
    .where('expires_at_ms', 'is not', null)
    .where('expires_at_ms', '<=', nowMs)
    .orderBy('seq', 'asc')
    .execute();
  return rows.map(normalize);
}

/** Queued → dispatched for one delivery run (compare-and-set); false when it was not queued. */
export async function claimMessage(
  db: Executor,
  messageId: string,
  runId: string,
  nowMs: number,
): Promise<boolean> {
  const res = await db
    .updateTable('mailbox_messages')
    .set((eb) => ({
      status: 'dispatched',
      delivery_run_id: runId,
      delivery_attempts: eb('delivery_attempts', '+', 1),
      dispatched_at_ms: nowMs,
    }))
    .where('message_id', '=', messageId)
    .where('status', '=', 'queued')
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Moves a message from one of `from` to `to` (compare-and-set); false when its status was elsewhere. */
export async function settleMessage(
  db: Executor,
  messageId: string,
  from: readonly MailboxStatus[],
  to: MailboxStatus,
  nowMs: number,
  lastError?: string | null,
): Promise<boolean> {
  const patch: Partial<MailboxMessagesTable> = { status: to };
  // Back to the queue for another attempt: not settled, and no longer tied to the failed run.
  if (to === 'queued') {
    patch.delivery_run_id = null;
    patch.dispatched_at_ms = null;
  } else patch.settled_at_ms = nowMs;
  if (lastError !== undefined) patch.last_error = lastError;
  const res = await db
    .updateTable('mailbox_messages')
    .set(patch)
    .where('message_id', '=', messageId)
    .where('status', 'in', [...from])
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

// ------------------------------------------------------------------ parent clarifications

export async function insertClarification(db: Executor, row: ClarificationRow): Promise<void> {
  await db.insertInto('mailbox_clarifications').values(row).execute();
}

export async function getClarification(
  db: Executor,
  requestId: string,
): Promise<ClarificationRow | undefined> {
  const r = await db
    .selectFrom('mailbox_clarifications')
    .selectAll()
    .where('request_id', '=', requestId)
    .executeTakeFirst();
  return r && clarification(r);
}

/** Pending → `to` with its resolution and its answer's fingerprint (compare-and-set); false when already settled. */
export async function resolveClarificationRow(
  db: Executor,
  requestId: string,
  to: Exclude<ClarificationStatus, 'pending'>,
  resolution: unknown,
  fingerprint: string,
  nowMs: number,
): Promise<boolean> {
  const res = await db
    .updateTable('mailbox_clarifications')
    .set({
      status: to,
      resolution: JSON.stringify(resolution),
      resolution_fingerprint: fingerprint,
      resolved_at_ms: nowMs,
    })
    .where('request_id', '=', requestId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function pendingClarificationsOfChildRun(
  db: Executor,
  runId: string,
): Promise<ClarificationRow[]> {
  const rows = await db
    .selectFrom('mailbox_clarifications')
    .selectAll()
    .where('child_run_id', '=', runId)
    .where('status', '=', 'pending')
    .execute();
  return rows.map(clarification);
}

/** Runs (of children) that wait on at least one pending clarification. */
export async function runsWithPendingClarifications(db: Executor): Promise<string[]> {
  const rows = await db
    .selectFrom('mailbox_clarifications')
    .select('child_run_id')
    .distinct()
    .where('status', '=', 'pending')
    .execute();
  return rows.map((r) => r.child_run_id);
}

export async function expiredClarifications(db: Executor, nowMs: number): Promise<ClarificationRow[]> {
  const rows = await db
    .selectFrom('mailbox_clarifications')
    .selectAll()
    .where('status', '=', 'pending')
    .where('expires_at_ms', 'is not', null)
    .where('expires_at_ms', '<=', nowMs)
    .execute();
  return rows.map(clarification);
}

export interface ClarificationOverlay {
  /** Clarifications this agent (a child) asked and still waits on: it reports `waiting_for_user_input`. */
  awaiting_parent_clarification: boolean;
  /** Pending clarifications addressed to this agent (as parent), dispatched or not. */
  pending_parent_clarification_count: number;
  /** The `parent_clarification` runs (in this agent's session) answering them; at most 20. */
  pending_parent_clarification_run_ids: string[];
}

/** AgentSummaryView overlay for one agent (see docs/mailboxes.md). */
export async function parentClarificationOverlay(
  db: Executor,
  agentId: string,
): Promise<ClarificationOverlay> {
  const asChild = await db
    .selectFrom('mailbox_clarifications')
    .select('request_id')
    .where('child_agent_id', '=', agentId)
    .where('status', '=', 'pending')
    .limit(1)
    .execute();
  const asParent = await db
    .selectFrom('mailbox_clarifications as c')
    .leftJoin('mailbox_messages as m', 'm.message_id', 'c.request_message_id')
    .select(['c.request_id', 'm.delivery_run_id', 'm.status'])
    .where('c.parent_agent_id', '=', agentId)
    .where('c.status', '=', 'pending')
    .orderBy('c.created_at_ms', 'asc')
    .orderBy('c.request_id', 'asc')
    .execute();
  return {
    awaiting_parent_clarification: asChild.length > 0,
    pending_parent_clarification_count: asParent.length,
    pending_parent_clarification_run_ids: asParent
      .filter((r) => r.status === 'dispatched' && r.delivery_run_id)
      .map((r) => r.delivery_run_id as string)
      .slice(0, 20),
  };
}
