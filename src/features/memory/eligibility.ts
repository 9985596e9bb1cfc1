// Which learnings a prompt or a search may show (api-core §3.5, api-collab §4.4). The learnings
// feature hands over every live record; these rules are the memory projection's own.
import type { LearningRecord } from '../learnings/port.ts';

/** Why a learning stays out of `learned_context`, or null when it may go in. */
export function promptExclusion(l: LearningRecord, now: number): string | null {
  if (l.kind === 'procedure' || l.kind === 'run_summary') return 'kind_not_injected';
  if (l.sensitivity === 'sensitive') return 'sensitive';
  if (l.status !== 'active') return `status_${l.status}`;
  if (l.superseded_by) return 'superseded';
  if (l.expires_at_ms !== null && l.expires_at_ms <= now) return 'expired';
  if (l.publish_tier !== 'active') return 'provisional_tier';
  if (l.verification_status === 'failed') return 'verification_failed';
  if (l.policy_decision === 'escalated') return 'escalated';
  // Automatic publications wait for daemon verification; manual publications stand as published.
  if (l.policy_decision === 'automatic' && l.verification_status !== 'verified')
    return 'automatic_unverified';
  return null;
}

/** memory-search shows live learnings except sensitive ones (those never leave the store by search). */
export function searchVisible(l: LearningRecord, now: number): boolean {
  if (l.sensitivity === 'sensitive') return false;
  if (l.status !== 'active' && l.status !== 'provisional') return false;
  return l.expires_at_ms === null || l.expires_at_ms > now;
}
