// The deterministic half of automatic review (api-collab §4.5): ordered rules, first match wins
// (quarantined rules skipped), else `default_action`; then the guardrails. Pure, so the whole
// decision table is tested without a daemon. The judge and verification come after (automation.ts).
import type { LearningPolicy, PolicyAction, PolicyRule } from './policy.ts';

export interface ReviewSubject {
  origin: 'api' | 'daemon';
  scope_kind: string;
  scope_id: string;
  kind: string;
  sensitivity: string;
  confidence: number;
  source: Record<string, unknown>;
  evidence_refs: unknown[];
}

export interface Decision {
  action: PolicyAction;
  matched_rule_name: string | null;
  expires_after_ms: number | null;
  /** Why: the rule or default that chose, and every guard that changed it. */
  reason: string;
}

const nonEmpty = (v: unknown) => typeof v === 'string' && v.length > 0;

/** Whether a rule matches; the require_* gates trust daemon-origin candidates only. */
export function ruleMatches(r: PolicyRule, c: ReviewSubject): boolean {
  if (r.scope_kind !== null && r.scope_kind !== c.scope_kind) return false;
  if (r.scope_id !== null && r.scope_id !== c.scope_id) return false;
  if (r.kind !== null && r.kind !== c.kind) return false;
  if (r.sensitivity !== null && r.sensitivity !== c.sensitivity) return false;
  if (r.min_confidence !== null && c.confidence < r.min_confidence) return false;
  const trusted = c.origin === 'daemon';
  if (r.require_evidence && !(trusted && c.evidence_refs.length > 0)) return false;
  if (r.require_source_run && !(trusted && nonEmpty(c.source.run_id))) return false;
  if (r.require_source_session && !(trusted && nonEmpty(c.source.session_id))) return false;
  return true;
}

export function evaluate(c: ReviewSubject, policy: LearningPolicy, ctx: { conflict: boolean }): Decision {
  const pub = policy.publication;
  const quarantined = new Set(pub.quarantined_rule_names);
  const rule = pub.rules.find((r) => !(r.name !== null && quarantined.has(r.name)) && ruleMatches(r, c));
  let action: PolicyAction = rule ? rule.action : pub.default_action;
  const reasons = [
    rule ? `rule ${rule.name ?? `#${pub.rules.indexOf(rule)}`} matched` : 'no rule matched: default_action',
  ];
  if (action === 'publish_active' && c.kind === 'procedure') {
    action = 'publish_provisional';
    reasons.push('procedure learnings never auto-publish active');
  }
  if (action === 'publish_active' && c.origin === 'api' && !pub.allow_api_origin_active_publication) {
    action = 'publish_provisional';
    reasons.push('API-origin active publication is not allowed');
  }
  if (action === 'publish_active' && ctx.conflict) {
    action = 'manual_review';
    reasons.push('conflicts with an active learning on the same subject');
  }
  return {
    action,
    matched_rule_name: rule?.name ?? null,
    expires_after_ms: rule?.expires_after_ms ?? null,
    reason: reasons.join('; '),
  };
}

const LADDER: PolicyAction[] = ['publish_provisional', 'publish_active'];

/** What the judge may choose given the deterministic baseline: never more than the baseline publishes. */
export function judgeEnvelope(baseline: PolicyAction): PolicyAction[] {
  const allowed: PolicyAction[] = ['manual_review', 'reject'];
  const top = LADDER.indexOf(baseline);
  for (let i = 0; i <= top; i++) allowed.push(LADDER[i]!);
  return allowed;
}

/** A judged action clamped into the envelope: an over-reach publishes at the baseline's tier at most. */
export function clampJudged(baseline: PolicyAction, judged: PolicyAction): PolicyAction {
  const allowed = judgeEnvelope(baseline);
  if (allowed.includes(judged)) return judged;
  return LADDER.includes(baseline) ? baseline : 'manual_review';
}

/**
 * What a review does to a candidate in each mode: `manual_only` never reviews (null), `shadow`
 * records the review and leaves it pending, `enabled` acts on the action.
 */
export function stateAfterReview(
  mode: LearningPolicy['mode'],
  action: PolicyAction,
): 'pending' | 'escalated' | 'rejected' | 'published' | null {
  if (mode === 'manual_only') return null;
  if (mode === 'shadow') return 'pending';
  if (action === 'reject') return 'rejected';
  if (action === 'manual_review') return 'escalated';
  return 'published';
}
