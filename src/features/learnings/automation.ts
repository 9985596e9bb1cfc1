// The automation worker (api-collab §4.5): reviews a durable pending candidate once. Deterministic
// rules and guards first (decision.ts), then the optional model judge clamped to the policy
// envelope, then verification of a `publish_active` against the source run's run memory. `shadow`
// records the review only; `enabled` rejects, escalates or publishes; `manual_only` does nothing.
import { DaemonError } from '../../errors/daemon-error.ts';
import type { RunMemoryPort } from '../memory/port.ts';
import {
  clampJudged,
  type Decision,
  evaluate,
  judgeEnvelope,
  type ReviewSubject,
  stateAfterReview,
} from './decision.ts';
import type { LearningLifecycle } from './lifecycle.ts';
import { jsonOf, type ModelCaller } from './model-call.ts';
import { ACTIONS, type LearningPolicy, type PolicyAction } from './policy.ts';
import { conflictingLearning, publishInTx } from './publish.ts';
import { type CandidateRow, candidateEvent } from './repo.ts';
import { type AutomationReview as Review, SEMANTIC_KINDS } from './schema.ts';
import { supportedBy } from './semantic.ts';
import type { CandidatesService } from './service.ts';

const JUDGE_SYSTEM = `You review one proposed durable learning for an agent daemon. Decide whether it should be stored.
Answer with one JSON object only: {"action": "<one of the allowed actions>", "reason": "<one short sentence>"}.
Reject content that is speculative, temporary, unsafe or not useful later; prefer manual_review when unsure.`;

export class Automation {
  private readonly candidates: CandidatesService;
  private readonly lifecycle: LearningLifecycle;
  private readonly model: ModelCaller;
  private readonly memory: () => RunMemoryPort | null;
  private readonly inflight = new Set<Promise<void>>();
  readonly stopping = new AbortController();

  constructor(
    candidates: CandidatesService,
    lifecycle: LearningLifecycle,
    model: ModelCaller,
    memory: () => RunMemoryPort | null,
  ) {
    this.candidates = candidates;
    this.lifecycle = lifecycle;
    this.model = model;
    this.memory = memory;
  }

  /** Runs `work` in the background, tracked so shutdown waits for it. */
  track(work: Promise<void>): void {
    const p = work.catch((e: unknown) =>
      this.candidates.log.warn({ err: (e as Error).message }, 'learning automation failed'),
    );
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  async drain(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled([...this.inflight]);
  }

  /** Reviews every pending candidate no review has touched (after a restart, or a mode change). */
  async scan(): Promise<void> {
    if (this.candidates.policy().mode === 'manual_only') return;
    const rows = await this.candidates.store.db
      .selectFrom('learning_candidates')
      .select('candidate_id')
      .where('state', '=', 'pending')
      .where('automation_review', 'is', null)
      .orderBy('created_at_ms', 'asc')
      .execute();
    for (const r of rows) {
      if (this.stopping.signal.aborted) return;
      await this.review(r.candidate_id);
    }
  }

  async review(id: string): Promise<void> {
    const policy = this.candidates.policy();
    if (policy.mode === 'manual_only') return;
    const db = this.candidates.store.db;
    const c = await db
      .selectFrom('learning_candidates')
      .selectAll()
      .where('candidate_id', '=', id)
      .executeTakeFirst();
    if (c?.state !== 'pending' || c.automation_review !== null) return;
    const subject = subjectOf(c);
    const conflict =
      (await conflictingLearning(db, { ...subject, content: c.content }, Date.now())) !== undefined;
    const decided = await this.decide(c, subject, policy, conflict);
    try {
      await this.apply(c, policy, decided);
    } catch (e) {
      // The conflict check raced another publication: the candidate waits for an operator.
      if (!(e instanceof DaemonError) || e.code !== 'learning_conflict') throw e;
      await this.apply(c, policy, {
        ...decided,
        review: {
          ...decided.review,
          action: 'manual_review',
          reason: `${decided.review.reason}; conflicts with an active learning on the same subject`,
        },
      });
    }
  }

  private async decide(c: CandidateRow, subject: ReviewSubject, policy: LearningPolicy, conflict: boolean) {
    const d: Decision = evaluate(subject, policy, { conflict });
    let action = d.action;
    const reasons = [d.reason];
    let judge: Review['judge'] = null;
    let actor: 'policy' | 'judge' = 'policy';
    if (policy.judge.enabled && (action === 'publish_active' || action === 'publish_provisional')) {
      const now = Date.now();
      try {
        const j = await this.judge(c, action, policy);
        const clamped = clampJudged(action, j.action);
        if (clamped !== j.action) reasons.push(`judge chose ${j.action}, clamped to ${clamped}`);
        judge = { action: clamped, judged_at_ms: now, reason: j.reason };
        action = clamped;
        actor = 'judge';
      } catch (e) {
        judge = {
          action: 'manual_review',
          judged_at_ms: now,
          reason: `judge failed: ${(e as Error).message}`,
        };
        action = 'manual_review';
        reasons.push('the judge failed: fail closed to manual_review');
      }
    }
    let verification: 'unverified' | 'verified' | 'failed' = 'unverified';
    if (action === 'publish_active') {
      const why = await this.verify(c);
      if (why === null) verification = 'verified';
      else {
        action = 'publish_provisional';
        verification = 'failed';
        reasons.push(`verification failed (${why}): downgraded to publish_provisional`);
      }
    }
    const review: Review = {
      mode: policy.mode,
      action,
      reviewed_at_ms: Date.now(),
      matched_rule_name: d.matched_rule_name,
      judge,
      reason: reasons.join('; '),
    };
    return { review, actor, verification, expires_after_ms: d.expires_after_ms };
  }

  private async judge(c: CandidateRow, baseline: PolicyAction, policy: LearningPolicy) {
    const allowed = judgeEnvelope(baseline);
    const user = JSON.stringify({
      allowed_actions: allowed,
      policy_action: baseline,
      candidate: {
        kind: c.kind,
        scope: { kind: c.scope_kind, id: c.scope_id },
        origin: c.origin,
        confidence: Number(c.confidence),
        content: c.content,
      },
    });
    const text = await this.model({
      model: policy.judge.model,
      timeout_ms: policy.judge.timeout_ms,
      system: JUDGE_SYSTEM,
      user,
      tag: `learning-judge-${c.candidate_id}`,
      signal: this.stopping.signal,
    });
    const answer = jsonOf(text) as { action?: unknown; reason?: unknown };
    if (typeof answer.action !== 'string' || !(ACTIONS as readonly string[]).includes(answer.action))
      throw new Error('the judge answered no known action');
    return {
      action: answer.action as PolicyAction,
      reason: typeof answer.reason === 'string' ? answer.reason.slice(0, 500) : null,
    };
  }

  /** null when the source run supports the content; else why not. */
  private async verify(c: CandidateRow): Promise<string | null> {
    const source = JSON.parse(c.source) as Record<string, unknown>;
    const runId = typeof source.run_id === 'string' ? source.run_id : '';
    if (!c.content.trim() || !runId) return 'no source.run_id';
    const semantic = (SEMANTIC_KINDS as readonly string[]).includes(c.kind);
    if (c.origin !== 'daemon' || !semantic) return 'no daemon-owned evidence for this candidate';
    const memory = this.memory();
    if (!memory) return 'run memory is not available';
    const record = await memory.recordForRun(runId);
    if (!record) return 'the source run left no run-memory record';
    const evidence = [record.summary, record.request_preview ?? '', record.outcome_preview ?? ''].join('\n');
    return supportedBy(c.content, evidence) ? null : 'the source run does not state it';
  }

  private async apply(c: CandidateRow, policy: LearningPolicy, d: Awaited<ReturnType<Automation['decide']>>) {
    const events = this.candidates.events;
    const review = JSON.stringify(d.review);
    const result = await this.candidates.store.write(async (tx) => {
      const now = await this.candidates.row(tx.db, c.candidate_id, true);
      if (now.state !== 'pending' || now.automation_review !== null) return null;
      const reviewed = { ...now, automation_review: review, updated_at_ms: tx.now };
      const act = d.review.action as PolicyAction;
      const state = stateAfterReview(policy.mode, act);
      if (state === null) return null;
      if (state === 'published') {
        await tx.db
          .updateTable('learning_candidates')
          .set({ automation_review: review })
          .where('candidate_id', '=', c.candidate_id)
          .execute();
        const tier = act === 'publish_active' ? 'active' : 'provisional';
        const expires =
          d.expires_after_ms !== null
            ? tx.now + d.expires_after_ms
            : now.expires_at_ms === null
              ? null
              : Number(now.expires_at_ms);
        return publishInTx(tx, events, reviewed, {
          scope_kind: now.scope_kind,
          scope_id: now.scope_id,
          kind: now.kind,
          sensitivity: now.sensitivity,
          content: now.content,
          confidence: Number(now.confidence),
          expires_at_ms: expires,
          publish_tier: tier,
          evidence_refs: JSON.parse(now.evidence_refs),
          source: JSON.parse(now.source),
          supersedes: null,
          policy_decision: 'automatic',
          policy_actor: d.actor,
          matched_rule_name: d.review.matched_rule_name,
          verification_status: d.verification,
        });
      }
      await tx.db
        .updateTable('learning_candidates')
        .set({ automation_review: review, state, updated_at_ms: tx.now })
        .where('candidate_id', '=', c.candidate_id)
        .execute();
      await candidateEvent(tx, events, { ...reviewed, state });
      return null;
    });
    if (result) await this.lifecycle.retired(result.retired, 'superseded');
  }
}

export function subjectOf(c: CandidateRow): ReviewSubject {
  return {
    origin: c.origin as 'api' | 'daemon',
    scope_kind: c.scope_kind,
    scope_id: c.scope_id,
    kind: c.kind,
    sensitivity: c.sensitivity,
    confidence: Number(c.confidence),
    source: JSON.parse(c.source),
    evidence_refs: JSON.parse(c.evidence_refs),
  };
}
