// A learning-skill row ⇄ its parsed rollout state and its wire view.
import type { LearningSkillRow } from '../../store/repos/learning-skills.ts';
import type { ProcedureDefinition } from './definition.ts';
import type { RolloutState } from './rollout.ts';
import type { LearningSkillStatus, LearningSkillView } from './schema.ts';

export function stateOf(r: LearningSkillRow): RolloutState {
  return {
    status: r.status as LearningSkillStatus,
    verification_status: r.verification_status as RolloutState['verification_status'],
    definition: JSON.parse(r.definition) as ProcedureDefinition,
    definition_fingerprint: r.definition_fingerprint,
    rollout_generation: Number(r.rollout_generation),
    evidence_refs: JSON.parse(r.evidence_refs),
    successful_run_count: Number(r.successful_run_count),
    evidence_session_ids: JSON.parse(r.evidence_session_ids),
    verifier_run_ids: JSON.parse(r.verifier_run_ids),
    real_daemon_verified: Number(r.real_daemon_verified) === 1,
    last_verified_workspace_digest: r.last_verified_workspace_digest,
    canary_success_count: Number(r.canary_success_count),
    canary_failure_count: Number(r.canary_failure_count),
    lifecycle_events: JSON.parse(r.lifecycle_events),
    active_snapshots: JSON.parse(r.active_snapshots),
  };
}

/** The columns a state writes (everything but the key, source, reason and timestamps). */
export function columnsOf(s: RolloutState) {
  return {
    status: s.status,
    verification_status: s.verification_status,
    definition: JSON.stringify(s.definition),
    definition_fingerprint: s.definition_fingerprint,
    rollout_generation: s.rollout_generation,
    evidence_refs: JSON.stringify(s.evidence_refs),
    successful_run_count: s.successful_run_count,
    evidence_session_ids: JSON.stringify(s.evidence_session_ids),
    verifier_run_ids: JSON.stringify(s.verifier_run_ids),
    real_daemon_verified: s.real_daemon_verified ? 1 : 0,
    last_verified_workspace_digest: s.last_verified_workspace_digest,
    canary_success_count: s.canary_success_count,
    canary_failure_count: s.canary_failure_count,
    lifecycle_events: JSON.stringify(s.lifecycle_events),
    active_snapshots: JSON.stringify(s.active_snapshots),
  };
}

export function viewOf(
  r: LearningSkillRow,
  paths: { skill_path: string; skill_root: string },
): LearningSkillView {
  const s = stateOf(r);
  return {
    skill_name: r.skill_name,
    source_learning_id: r.source_learning_id,
    status: s.status,
    verification_status: s.verification_status,
    definition: s.definition,
    definition_fingerprint: s.definition_fingerprint,
    ...paths,
    rollout_generation: s.rollout_generation,
    evidence_refs: s.evidence_refs,
    successful_run_count: s.successful_run_count,
    distinct_session_count: s.evidence_session_ids.length,
    verifier_run_ids: s.verifier_run_ids,
    real_daemon_verified: s.real_daemon_verified,
    last_verified_workspace_digest: s.last_verified_workspace_digest,
    canary_success_count: s.canary_success_count,
    canary_failure_count: s.canary_failure_count,
    lifecycle_events: s.lifecycle_events,
    active_snapshot_count: s.active_snapshots.length,
    revoked_reason: r.revoked_reason,
    created_at_ms: Number(r.created_at_ms),
    updated_at_ms: Number(r.updated_at_ms),
  };
}
