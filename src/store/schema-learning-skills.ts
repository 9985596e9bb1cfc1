// Table types of promoted procedural skills (migration 0037, issue 19). JSON columns are text.
export interface LearningSkillsTable {
  skill_name: string;
  source_learning_id: string;
  /** draft | verified | canary | active | revoked */
  status: string;
  /** pending | verified */
  verification_status: string;
  /** The canonical definition (JSON): what the skill files are written from. */
  definition: string;
  definition_fingerprint: string;
  /** Bumped by every new draft rollout; evidence belongs to one generation. */
  rollout_generation: number;
  evidence_refs: string;
  successful_run_count: number;
  /** Sessions of the accepted evidence runs (distinct_session_count is its length). */
  evidence_session_ids: string;
  verifier_run_ids: string;
  real_daemon_verified: number;
  last_verified_workspace_digest: string | null;
  canary_success_count: number;
  canary_failure_count: number;
  lifecycle_events: string;
  active_snapshots: string;
  revoked_reason: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}
