// The rollout gates of a promoted procedure (api-collab §4.6), as pure functions over the record:
// draft → verified → canary → active, evidence-bound, and any change of definition a new draft
// rollout. The service applies what these decide inside one transaction.
import type { ProcedureDefinition } from './definition.ts';
import { rolloutConflict } from './errors.ts';
import type { LearningSkillStatus, LifecycleEvent, RolloutEvidence } from './schema.ts';

/** The rollout part of a record, parsed. */
export interface RolloutState {
  status: LearningSkillStatus;
  verification_status: 'pending' | 'verified';
  definition: ProcedureDefinition;
  definition_fingerprint: string;
  rollout_generation: number;
  evidence_refs: RolloutEvidence[];
  successful_run_count: number;
  evidence_session_ids: string[];
  verifier_run_ids: string[];
  real_daemon_verified: boolean;
  last_verified_workspace_digest: string | null;
  canary_success_count: number;
  canary_failure_count: number;
  lifecycle_events: LifecycleEvent[];
  active_snapshots: ActiveSnapshot[];
}

/** What rollback restores: an earlier active definition with the evidence that made it active. */
export type ActiveSnapshot = Omit<RolloutState, 'status' | 'lifecycle_events' | 'active_snapshots'> & {
  activated_at_ms: number;
};

/** Bounds of the audit trail and of the retained snapshots. */
export const MAX_LIFECYCLE_EVENTS = 50;
export const MAX_ACTIVE_SNAPSHOTS = 5;
const MAX_EVIDENCE = 100;

export function freshRollout(definition: ProcedureDefinition, fingerprint: string, generation: number) {
  return {
    verification_status: 'pending' as const,
    definition,
    definition_fingerprint: fingerprint,
    rollout_generation: generation,
    evidence_refs: [],
    successful_run_count: 0,
    evidence_session_ids: [],
    verifier_run_ids: [],
    real_daemon_verified: false,
    last_verified_workspace_digest: null,
    canary_success_count: 0,
    canary_failure_count: 0,
  };
}

/** Why `to` is not allowed with this evidence, or null when it is. */
export function gateProblem(s: RolloutState, to: LearningSkillStatus): string | null {
  if (to === 'draft' || to === 'revoked') return null;
  if (s.verification_status !== 'verified')
    return `${to} needs daemon-validated verification evidence: record a completed run with rollout-result kind verification while the skill is draft`;
  if (to === 'active') {
    if (s.canary_failure_count > 0)
      return `active is blocked by ${s.canary_failure_count} failed canary run(s); start a new draft rollout`;
    if (s.canary_success_count < 1)
      return 'active needs at least one successful canary run (status canary, then rollout-result kind canary)';
  }
  return null;
}

/**
 * The next state of a promotion request on an existing record: a changed definition (or an
 * explicit `draft`) starts a new draft rollout; otherwise the status moves if its gate holds.
 */
export function nextOnPromote(
  s: RolloutState,
  def: ProcedureDefinition,
  fingerprint: string,
  to: LearningSkillStatus,
): { state: RolloutState; newRollout: boolean } {
  const changed = fingerprint !== s.definition_fingerprint;
  if (changed && s.status === 'active')
    throw rolloutConflict(
      'the active definition cannot change in place: revoke the skill (or promote it again as draft with the same definition) and roll the new definition out from draft',
    );
  if (changed || s.status === 'revoked' || (to === 'draft' && s.status !== 'draft')) {
    if (to !== 'draft')
      throw rolloutConflict(
        `a ${changed ? 'changed definition' : s.status === 'revoked' ? 'revoked skill' : 'new rollout'} starts a new draft rollout; promote with status draft first`,
      );
    return {
      state: { ...s, ...freshRollout(def, fingerprint, s.rollout_generation + 1), status: 'draft' },
      newRollout: true,
    };
  }
  const problem = gateProblem(s, to);
  if (problem) throw rolloutConflict(problem);
  return { state: { ...s, status: to }, newRollout: false };
}

export function pushEvent(s: RolloutState, e: LifecycleEvent): void {
  s.lifecycle_events = [...s.lifecycle_events, e].slice(-MAX_LIFECYCLE_EVENTS);
}

export function pushEvidence(s: RolloutState, e: RolloutEvidence): void {
  s.evidence_refs = [...s.evidence_refs, e].slice(-MAX_EVIDENCE);
}

/** Becoming active keeps a snapshot for a later rollback. */
export function snapshotActive(s: RolloutState, at: number): void {
  const { status: _s, lifecycle_events: _l, active_snapshots: _a, ...rollout } = s;
  s.active_snapshots = [...s.active_snapshots, { ...rollout, activated_at_ms: at }].slice(
    -MAX_ACTIVE_SNAPSHOTS,
  );
}
