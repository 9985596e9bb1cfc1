// Rows of the learning plane (migration 0036) and their wire views. Queries are dialect-neutral
// kysely; PostgreSQL returns bigint columns as strings, so times are converted here.
import type { EventLog } from '../../store/event-log.ts';
import type { LearningCandidatesTable, LearningsTable } from '../../store/schema.ts';
import type { WriteTx } from '../../store/store.ts';
import type { LearningRecord } from './port.ts';
import type { AutomationReview, CandidateView } from './schema.ts';

export type CandidateRow = LearningCandidatesTable;
export type LearningRow = LearningsTable;

const num = (v: number | null) => (v === null ? null : Number(v));

export function candidateView(r: CandidateRow): CandidateView {
  return {
    candidate_id: r.candidate_id,
    origin: r.origin as CandidateView['origin'],
    state: r.state as CandidateView['state'],
    scope: { kind: r.scope_kind, id: r.scope_id },
    kind: r.kind,
    sensitivity: r.sensitivity,
    content: r.content,
    confidence: Number(r.confidence),
    source: JSON.parse(r.source),
    evidence_refs: JSON.parse(r.evidence_refs),
    expires_at_ms: num(r.expires_at_ms),
    automation_review: r.automation_review ? (JSON.parse(r.automation_review) as AutomationReview) : null,
    published_learning_id: r.published_learning_id,
    reject_reason: r.reject_reason,
    created_at_ms: Number(r.created_at_ms),
    updated_at_ms: Number(r.updated_at_ms),
  };
}

/** A live learning past its expiry reads as `expired` even before the sweep writes it. */
export function effectiveStatus(r: LearningRow, nowMs: number): string {
  const live = r.status === 'active' || r.status === 'provisional';
  return live && r.expires_at_ms !== null && Number(r.expires_at_ms) <= nowMs ? 'expired' : r.status;
}

export type LearningView = LearningRecord & {
  candidate_id: string | null;
  matched_rule_name: string | null;
  revoke_reason: string | null;
  revoked_at_ms: number | null;
};

export function learningView(r: LearningRow, nowMs = Date.now()): LearningView {
  return {
    learning_id: r.learning_id,
    candidate_id: r.candidate_id,
    scope: { kind: r.scope_kind as LearningRecord['scope']['kind'], id: r.scope_id },
    kind: r.kind as LearningRecord['kind'],
    sensitivity: r.sensitivity as LearningRecord['sensitivity'],
    content: r.content,
    confidence: Number(r.confidence),
    status: effectiveStatus(r, nowMs) as LearningRecord['status'],
    publish_tier: r.publish_tier as LearningRecord['publish_tier'],
    verification_status: r.verification_status as LearningRecord['verification_status'],
    policy_decision: r.policy_decision as LearningRecord['policy_decision'],
    policy_actor: r.policy_actor as LearningRecord['policy_actor'],
    matched_rule_name: r.matched_rule_name,
    source: JSON.parse(r.source),
    evidence_refs: JSON.parse(r.evidence_refs),
    supersedes: r.supersedes,
    superseded_by: r.superseded_by,
    revoke_reason: r.revoke_reason,
    revoked_at_ms: num(r.revoked_at_ms),
    created_at_ms: Number(r.created_at_ms),
    updated_at_ms: Number(r.updated_at_ms),
    expires_at_ms: num(r.expires_at_ms),
  };
}

/**
 * The durable event of a candidate change: ids, state, scope and kind; never the content. A
 * daemon-captured candidate that is still pending (its capture, its shadow review) is not an
 * event: that happens after every run, and the global stream of a plain run carries the spec's
 * bus events only (api-core #49, decision 496). Its leaving `pending` is.
 */
export async function candidateEvent(tx: WriteTx, events: EventAppender, r: CandidateRow): Promise<void> {
  if (r.origin === 'daemon' && r.state === 'pending') return;
  await events.append(tx, [
    {
      name: 'learning_candidate_updated',
      data: {
        candidate_id: r.candidate_id,
        origin: r.origin,
        state: r.state,
        scope: { kind: r.scope_kind, id: r.scope_id },
        kind: r.kind,
        published_learning_id: r.published_learning_id,
        automation_action: r.automation_review
          ? (JSON.parse(r.automation_review) as AutomationReview).action
          : null,
      },
    },
  ]);
}

export async function learningEvent(tx: WriteTx, events: EventAppender, r: LearningRow): Promise<void> {
  await events.append(tx, [
    {
      name: 'learning_updated',
      data: {
        learning_id: r.learning_id,
        status: r.status,
        publish_tier: r.publish_tier,
        scope: { kind: r.scope_kind, id: r.scope_id },
        kind: r.kind,
        policy_decision: r.policy_decision,
        supersedes: r.supersedes,
        superseded_by: r.superseded_by,
      },
    },
  ]);
}

/** What writing the learnings events needs of the event log. */
export type EventAppender = Pick<EventLog, 'append'>;
