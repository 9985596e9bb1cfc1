// Turning a candidate into a learning, inside one write transaction (api-collab §4.3): equivalent
// content in the same scope and kind reuses the live learning's id, a same-subject different-value
// active learning is a conflict unless `supersedes` names it, and `supersedes` retires the old one.
import { monotonicFactory } from 'ulid';
import type { Executor } from '../../store/schema.ts';
import type { WriteTx } from '../../store/store.ts';
import { learningErrors as E } from './errors.ts';
import type { PolicyActor, PolicyDecision, PublishTier, VerificationStatus } from './port.ts';
import {
  type CandidateRow,
  candidateEvent,
  type EventAppender,
  type LearningRow,
  learningEvent,
} from './repo.ts';
import { SEMANTIC_KINDS } from './schema.ts';
import { semanticKey, subjectKey } from './semantic.ts';

const ulid = monotonicFactory();
export const newLearningId = () => `learning-${ulid().toLowerCase()}`;

export interface PublishSpec {
  scope_kind: string;
  scope_id: string;
  kind: string;
  sensitivity: string;
  content: string;
  confidence: number;
  expires_at_ms: number | null;
  publish_tier: PublishTier;
  evidence_refs: unknown[];
  source: Record<string, unknown>;
  supersedes: string | null;
  policy_decision: PolicyDecision;
  policy_actor: PolicyActor;
  matched_rule_name: string | null;
  verification_status: VerificationStatus;
}

export interface PublishResult {
  learning: LearningRow;
  /** Learnings this publication superseded (their promoted skills are revoked after commit). */
  retired: LearningRow[];
}

const isSemantic = (kind: string) => (SEMANTIC_KINDS as readonly string[]).includes(kind);

export async function learningById(db: Executor, id: string): Promise<LearningRow | undefined> {
  return db.selectFrom('learnings').selectAll().where('learning_id', '=', id).executeTakeFirst();
}

/** The active learning on the same subject with a different value, if any (same scope and kind). */
export async function conflictingLearning(
  db: Executor,
  spec: { scope_kind: string; scope_id: string; kind: string; content: string },
  nowMs: number,
): Promise<LearningRow | undefined> {
  if (!isSemantic(spec.kind)) return undefined;
  const subject = subjectKey(spec.content);
  if (subject === null) return undefined;
  const key = semanticKey(spec.content);
  const rows = await db
    .selectFrom('learnings')
    .selectAll()
    .where('scope_kind', '=', spec.scope_kind)
    .where('scope_id', '=', spec.scope_id)
    .where('kind', '=', spec.kind)
    .where('status', '=', 'active')
    .where('subject_key', '=', subject)
    .execute();
  return rows.find(
    (r) => r.semantic_key !== key && (r.expires_at_ms === null || Number(r.expires_at_ms) > nowMs),
  );
}

/**
 * Publishes `spec` for `candidate` (null for a supersede of a learning) and marks the candidate
 * published. The caller validated the spec's fields; this enforces the cross-record rules.
 */
export async function publishInTx(
  tx: WriteTx,
  events: EventAppender,
  candidate: CandidateRow | null,
  spec: PublishSpec,
): Promise<PublishResult> {
  const db = tx.db;
  const key = semanticKey(spec.content);
  const status = spec.publish_tier;
  let target: LearningRow | undefined;
  if (spec.supersedes !== null) {
    target = await learningById(db, spec.supersedes);
    if (!target) throw E.learningNotFound(spec.supersedes);
    if (target.status !== 'active' && target.status !== 'provisional')
      throw E.learningState(target.learning_id, target.status, 'superseded');
    if (target.scope_kind !== spec.scope_kind || target.scope_id !== spec.scope_id)
      throw E.invalidLearning(
        'a replacement must stay in the scope of the learning it supersedes; publish a new learning and revoke the old one to move scopes',
      );
  }
  let learning: LearningRow | undefined;
  if (isSemantic(spec.kind)) {
    // Equivalent content already live in this scope and kind: the same learning, refreshed.
    const same = await db
      .selectFrom('learnings')
      .selectAll()
      .where('scope_kind', '=', spec.scope_kind)
      .where('scope_id', '=', spec.scope_id)
      .where('kind', '=', spec.kind)
      .where('semantic_key', '=', key)
      .where('status', 'in', ['active', 'provisional'])
      .executeTakeFirst();
    if (same) learning = await refresh(tx, same, spec);
  }
  if (!learning) {
    const conflict = await conflictingLearning(db, spec, tx.now);
    if (conflict && conflict.learning_id !== spec.supersedes) throw E.conflict(conflict.learning_id);
    learning = {
      learning_id: newLearningId(),
      candidate_id: candidate?.candidate_id ?? null,
      scope_kind: spec.scope_kind,
      scope_id: spec.scope_id,
      kind: spec.kind,
      sensitivity: spec.sensitivity,
      content: spec.content,
      confidence: spec.confidence,
      status,
      publish_tier: spec.publish_tier,
      verification_status: spec.verification_status,
      policy_decision: spec.policy_decision,
      policy_actor: spec.policy_actor,
      matched_rule_name: spec.matched_rule_name,
      source: JSON.stringify(spec.source),
      evidence_refs: JSON.stringify(spec.evidence_refs),
      semantic_key: key,
      subject_key: subjectKey(spec.content),
      supersedes: target?.learning_id ?? null,
      superseded_by: null,
      revoke_reason: null,
      revoked_at_ms: null,
      expires_at_ms: spec.expires_at_ms,
      created_at_ms: tx.now,
      updated_at_ms: tx.now,
    };
    await db.insertInto('learnings').values(learning).execute();
    await learningEvent(tx, events, learning);
  }
  const retired: LearningRow[] = [];
  if (target && target.learning_id !== learning.learning_id) {
    await db
      .updateTable('learnings')
      .set({ status: 'superseded', superseded_by: learning.learning_id, updated_at_ms: tx.now })
      .where('learning_id', '=', target.learning_id)
      .execute();
    const old = {
      ...target,
      status: 'superseded',
      superseded_by: learning.learning_id,
      updated_at_ms: tx.now,
    };
    await learningEvent(tx, events, old);
    retired.push(old);
  }
  if (candidate) {
    const done = {
      ...candidate,
      state: 'published',
      published_learning_id: learning.learning_id,
      updated_at_ms: tx.now,
    };
    await db
      .updateTable('learning_candidates')
      .set({ state: 'published', published_learning_id: learning.learning_id, updated_at_ms: tx.now })
      .where('candidate_id', '=', candidate.candidate_id)
      .execute();
    await candidateEvent(tx, events, done);
  }
  return { learning, retired };
}

/**
 * An equivalent publication of a live learning: the content is the same statement, so the id stays;
 * the tier rises to active when this publication is active, and an operator publication makes the
 * record a manual one (the operator vouched for it).
 */
async function refresh(tx: WriteTx, row: LearningRow, spec: PublishSpec): Promise<LearningRow> {
  const raise = spec.publish_tier === 'active' && row.publish_tier !== 'active';
  const manual = spec.policy_decision === 'manual';
  const refs = [...(JSON.parse(row.evidence_refs) as unknown[])];
  for (const r of spec.evidence_refs)
    if (!refs.some((x) => JSON.stringify(x) === JSON.stringify(r))) refs.push(r);
  const next: LearningRow = {
    ...row,
    confidence: Math.max(Number(row.confidence), spec.confidence),
    status: raise ? 'active' : row.status,
    publish_tier: raise ? 'active' : row.publish_tier,
    verification_status: raise || manual ? spec.verification_status : row.verification_status,
    policy_decision: manual ? 'manual' : row.policy_decision,
    policy_actor: manual ? 'operator' : row.policy_actor,
    evidence_refs: JSON.stringify(refs.slice(0, 32)),
    updated_at_ms: tx.now,
  };
  const { learning_id, ...set } = next;
  await tx.db.updateTable('learnings').set(set).where('learning_id', '=', learning_id).execute();
  return next;
}
