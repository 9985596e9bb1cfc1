// Table types of the extension domains: issues 13 and 14 here (debug capture, skills, personas,
// hooks, the credential broker), issues 15-18 in schema-media, schema-connectors and schema-collab,
// all re-exported below; schema.ts re-exports this file next to the core tables.

/** A run's debug evidence (migration 0018): one row per run that has captured artifacts. */
export interface DebugBundlesTable {
  run_id: string;
  session_id: string;
  /** The capture level of the bundle's latest artifact. */
  level: string;
  created_at_ms: number;
  updated_at_ms: number;
  artifact_count: number;
  /** Stored bytes (envelopes when encrypted). */
  bytes: number;
  plaintext_bytes: number;
}

/** One debug artifact: its summary, then its body (plaintext, or an AES-GCM envelope). */
export interface DebugArtifactsTable {
  run_id: string;
  artifact_id: string;
  format: string;
  level: string;
  updated_at_ms: number;
  bytes: number;
  plaintext_bytes: number;
  sha256: string;
  truncated: number;
  original_bytes: number | null;
  encrypted: number;
  key_id: string | null;
  body: Buffer;
}

/** Mutable persona records (api-core §9), migration 0019. JSON columns hold JSON text. */
export interface PersonasTable {
  persona_id: string;
  display_name: string;
  soul: string;
  capability_scope: string | null;
  default_skills: string | null;
  metadata: string | null;
  version: number;
  created_at_ms: number;
  updated_at_ms: number;
}

/** An active inline skill of a session (migration 0017); `snapshot` is the ActiveSkill JSON. */
export interface SkillActivationsTable {
  session_id: string;
  name: string;
  digest: string;
  /** The run and tool call that activated it (the latest, when activated again). */
  run_id: string;
  tool_call_id: string;
  activated_at_ms: number;
  snapshot: string;
}

export interface HookDeadLettersTable {
  id: string;
  created_at_ms: number;
  event: string;
  hook_name: string;
  /** Size of `record`, for pruning by total bytes. */
  bytes: number;
  resolved_at_ms: number | null;
  /** The redacted HookDeadLetterRecord (JSON), resolutions included. */
  record: string;
}

export interface AuthLeasesTable {
  lease_id: string;
  grant_id: string;
  subject_id: string;
  subject_epoch: number;
  audience_type: string;
  audience: string;
  slot_id: string | null;
  issued_at_ms: number;
  expires_at_ms: number;
  revoked_at_ms: number | null;
  revoke_reason: string | null;
  token_digest: string;
}

export interface AuthSubjectsTable {
  subject_id: string;
  current_epoch: number;
  revoked_at_ms: number | null;
  updated_at_ms: number;
}

export interface AuthSlotRevocationsTable {
  slot_id: string;
  revoked_at_ms: number;
}

export type * from './schema-collab.ts';
export type * from './schema-connectors.ts';
export type * from './schema-learning-skills.ts';
export type * from './schema-learnings.ts';
export type * from './schema-media.ts';
