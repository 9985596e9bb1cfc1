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

/**
 * Where a promoted procedure's child works (migration 0040): one row per use_skill call, written
 * before the child is spawned, so the child's runs are rooted there also after a restart.
 */
export interface LearningSkillWorktreesTable {
  /** The child's spawn request id (`skill:<parent run id>:<tool call id>`, set by the skills feature). */
  spawn_request_id: string;
  parent_run_id: string;
  tool_call_id: string;
  skill_name: string;
  /** Relative to the workspace: `.kheish-procedural-worktrees/<skill>/<run>-<call>`. */
  worktree_path: string;
  /** git | directory */
  kind: string;
  created_at_ms: number;
}
