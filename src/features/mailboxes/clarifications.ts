// Parent clarifications: a child's question travels to its parent as a `parent_clarification`
// message (delivered as a run of that kind in the parent's session); the child's tool call waits
// for the resolution recorded here. Every path that settles one (a reply, the parent run's final
// answer or its end, expiry, an ack, the child's run ending) goes through `settleClarification`,
// a compare-and-set on `pending`, so the child gets exactly one answer.
import type { Engine } from '../../engine/engine.ts';
import type { KeyedWaiters } from '../../engine/keyed-waiters.ts';
import { completeQuestionRun } from '../../engine/question-runs.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import { appendRunEvent } from '../../store/repos/journal.ts';
import {
  type ClarificationRow,
  type ClarificationStatus,
  getClarification,
  getMessage,
  type MailboxMessageRow,
  resolveClarificationRow,
  settleMessage,
  sha256Hex,
  stableJson,
} from '../../store/repos/mailboxes.ts';
import { getRun, isLive } from '../../store/repos/runs.ts';
import type { WriteTx } from '../../store/store.ts';
import { mailboxTrace } from './events.ts';

export interface ClarificationResolution {
  request_id: string;
  status: Exclude<ClarificationStatus, 'pending'>;
  declined: boolean;
  /** The parent's answer: its text, or the JSON payload it replied with. */
  answer?: unknown;
  answered_by_agent_id?: string;
  /** How it was settled: reply, final_message, expired, acked, parent_run_failed, ... */
  source: string;
  reason?: string;
  message_id?: string;
}

/** An answer's identity for idempotent re-answers (a retried reply is not a conflict). */
const answerPrint = (r: Pick<ClarificationResolution, 'declined' | 'answer'>) =>
  sha256Hex(stableJson({ declined: r.declined, answer: r.answer ?? null }));

/** The answer a reply payload carries: `{text}` or a bare string is text; anything else stays JSON. */
export function answerOf(payload: unknown): unknown {
  if (typeof payload === 'string') return payload;
  if (payload && typeof payload === 'object' && !Array.isArray(payload)) {
    const keys = Object.keys(payload);
    const text = (payload as { text?: unknown }).text;
    if (keys.length === 1 && typeof text === 'string') return text;
  }
  return payload;
}

/**
 * Settles a pending clarification (compare-and-set) and tells everyone: the parent's run gets a
 * `parent_clarification_resolved` run event while it is live, both sessions get a trace, and the
 * waiting tool call wakes after commit. Returns false when it was already settled.
 */
export async function settleClarification(
  engine: Engine,
  waiters: KeyedWaiters,
  tx: WriteTx,
  row: ClarificationRow,
  resolution: ClarificationResolution,
): Promise<boolean> {
  const print = answerPrint(resolution);
  if (!(await resolveClarificationRow(tx.db, row.request_id, resolution.status, resolution, print, tx.now)))
    return false;
  const request = await getMessage(tx.db, row.request_message_id);
  const parentRunId = request?.status === 'dispatched' ? request.delivery_run_id : null;
  const parentRun = parentRunId ? await getRun(tx.db, parentRunId) : undefined;
  const event = {
    type: 'parent_clarification_resolved',
    requester_agent_id: row.child_agent_id,
    requester_session_id: row.child_session_id,
    request_id: row.request_id,
    declined: resolution.declined,
    resolution,
  };
  if (parentRun && isLive(parentRun.status))
    await appendRunEvent(tx.db, {
      run_id: parentRun.run_id,
      session_id: parentRun.session_id,
      agent_id: parentRun.agent_id,
      timestamp_ms: tx.now,
      event,
    });
  // Settled another way (a reply, an ack, the child gone) while the parent run waits on it as a
  // question: that question is closed and the run completes.
  if (parentRun)
    await completeQuestionRun(
      engine,
      tx,
      parentRun,
      row.request_id,
      resolution.status === 'answered' ? 'answered' : resolution.status,
      resolution,
    );
  if (request)
    await mailboxTrace(engine, tx, 'parent_clarification_resolved', request, {
      request_id: row.request_id,
      status: resolution.status,
      declined: resolution.declined,
      requester_run_id: row.child_run_id,
      ...(parentRunId ? { run_id: parentRunId } : {}),
    });
  // A request still waiting in the parent's queue will never be needed now: consumed when it was
  // answered or withdrawn, dead-lettered when it ran out of time.
  if (request?.status === 'queued')
    await settleMessage(
      tx.db,
      request.message_id,
      ['queued'],
      resolution.status === 'expired' ? 'dead_lettered' : 'consumed',
      tx.now,
      `clarification_${resolution.status}`,
    );
  tx.afterCommit(() => waiters.notify(row.request_id));
  return true;
}

const conflict = (code: string, detail: string) => new DaemonError(409, 'questions', code, detail);

/**
 * Applies a `clarification_reply` message (already inserted as queued) in the same transaction:
 * the pending clarification is answered and the message delivered; a reply to a child that is
 * gone is dead-lettered (api-core §4.5); an expired or differently answered one is a 409.
 */
export async function applyReply(
  engine: Engine,
  waiters: KeyedWaiters,
  tx: WriteTx,
  msg: MailboxMessageRow,
): Promise<void> {
  const requestId = msg.correlation_id ?? '';
  const row = await getClarification(tx.db, requestId);
  if (!row)
    throw new DaemonError(404, 'agents', 'clarification_not_found', `no parent clarification ${requestId}`);
  if (row.child_agent_id !== msg.to_agent_id || row.parent_agent_id !== msg.from_agent_id)
    throw new DaemonError(
      400,
      'questions',
      'question_request_mismatch',
      `clarification ${requestId} was asked by ${row.child_agent_id} of ${row.parent_agent_id}; reply from the parent to the child`,
    );
  const resolution: ClarificationResolution = {
    request_id: requestId,
    status: 'answered',
    declined: false,
    answer: answerOf(JSON.parse(msg.payload)),
    answered_by_agent_id: msg.from_agent_id,
    source: 'reply',
    message_id: msg.message_id,
  };
  if (row.status === 'pending') {
    await settleClarification(engine, waiters, tx, row, resolution);
    await settleMessage(tx.db, msg.message_id, ['queued'], 'delivered', tx.now);
    await mailboxTrace(engine, tx, 'mailbox_message_delivered', msg, { request_id: requestId });
    return;
  }
  if (row.status === 'cancelled') {
    await settleMessage(tx.db, msg.message_id, ['queued'], 'dead_lettered', tx.now, 'requester_gone');
    await mailboxTrace(engine, tx, 'mailbox_message_dead_lettered', msg, { reason: 'requester_gone' });
    return;
  }
  if (row.status === 'expired')
    throw conflict('question_expired', `clarification ${requestId} expired before it was answered`);
  if (row.resolution_fingerprint !== answerPrint(resolution))
    throw conflict(
      'question_resolution_conflict',
      `clarification ${requestId} was already settled (${row.status}) with a different answer`,
    );
  // The same answer again (a retry): recorded, nothing changes for the child.
  await settleMessage(tx.db, msg.message_id, ['queued'], 'delivered', tx.now, 'already_answered');
}
