// Wire types of promoted procedural skills (api-collab §4.6): the contract, also in /v1/openapi.json.
import { z } from 'zod';

export const LEARNING_SKILL_STATUSES = ['draft', 'verified', 'canary', 'active', 'revoked'] as const;
export type LearningSkillStatus = (typeof LEARNING_SKILL_STATUSES)[number];

const text = z.string().max(20_000);
const toolList = z.array(z.string().trim().min(1).max(200)).max(256);

export const PromoteSkillRequest = z
  .object({
    skill_name: z.string().max(200),
    description: text.nullish(),
    when_to_use: text.nullish(),
    version: z.string().max(200).nullish(),
    /** Omitted or blank: the learning's content (decision 522). */
    instructions: z.string().max(100_000).nullish(),
    allowed_tools: toolList.nullish(),
    blocked_tools: toolList.nullish(),
    context: z.string().max(100).nullish(),
    agent_profile: z.string().max(100).nullish(),
    provider: z.string().max(200).nullish(),
    model: z.string().max(200).nullish(),
    fallback_model: z.string().max(200).nullish(),
    /** The rollout status asked for; revoked is the revoke endpoint's. */
    status: z.enum(['draft', 'verified', 'canary', 'active']).nullish(),
  })
  .strict();
export type PromoteSkillRequest = z.infer<typeof PromoteSkillRequest>;

export const RolloutResultRequest = z
  .object({
    kind: z.enum(['verification', 'canary']),
    run_id: z.string().min(1).max(256),
    expected_output_contains: z.string().min(1).max(10_000),
    definition_fingerprint: z.string().max(128).nullish(),
  })
  .strict();
export type RolloutResultRequest = z.infer<typeof RolloutResultRequest>;

export const ReasonRequest = z.object({ reason: z.string().max(2000).nullish() }).strict();

export const LearningSkillsQuery = z.object({
  source_learning_id: z.string().optional(),
  status: z.enum(LEARNING_SKILL_STATUSES).optional(),
});
export const LearningSkillParams = z.object({ skill_name: z.string().min(1) });
export const PromoteParams = z.object({ learning_id: z.string().min(1) });

export const ProcedureDefinitionView = z
  .object({
    name: z.string(),
    description: z.string(),
    when_to_use: z.string().nullable(),
    version: z.string().nullable(),
    instructions: z.string(),
    allowed_tools: z.array(z.string()),
    blocked_tools: z.array(z.string()),
    context: z.literal('fork'),
    agent_profile: z.literal('verification'),
    provider: z.string().nullable(),
    model: z.string().nullable(),
    fallback_model: z.string().nullable(),
  })
  .meta({ id: 'ProcedureDefinitionView' });

export const RolloutEvidence = z
  .object({
    kind: z.enum(['verification', 'canary']),
    run_id: z.string(),
    session_id: z.string(),
    outcome: z.enum(['succeeded', 'failed']),
    run_status: z.string(),
    expected_output_contains: z.string(),
    definition_fingerprint: z.string(),
    rollout_generation: z.number(),
    recorded_at_ms: z.number(),
    note: z.string(),
  })
  .meta({ id: 'LearningSkillRolloutEvidence' });
export type RolloutEvidence = z.infer<typeof RolloutEvidence>;

export const LifecycleEvent = z
  .object({
    at_ms: z.number(),
    action: z.enum(['promoted', 'status_changed', 'rollout_result', 'revoked', 'rolled_back', 'repaired']),
    from_status: z.enum(LEARNING_SKILL_STATUSES).nullable(),
    to_status: z.enum(LEARNING_SKILL_STATUSES),
    definition_fingerprint: z.string(),
    note: z.string().optional(),
    run_id: z.string().optional(),
  })
  .meta({ id: 'LearningSkillLifecycleEvent' });
export type LifecycleEvent = z.infer<typeof LifecycleEvent>;

export const LearningSkillView = z
  .object({
    skill_name: z.string(),
    source_learning_id: z.string(),
    status: z.enum(LEARNING_SKILL_STATUSES),
    verification_status: z.enum(['pending', 'verified']),
    definition: ProcedureDefinitionView,
    definition_fingerprint: z.string(),
    skill_path: z.string(),
    skill_root: z.string(),
    rollout_generation: z.number(),
    evidence_refs: z.array(RolloutEvidence),
    successful_run_count: z.number(),
    distinct_session_count: z.number(),
    verifier_run_ids: z.array(z.string()),
    real_daemon_verified: z.boolean(),
    last_verified_workspace_digest: z.string().nullable(),
    canary_success_count: z.number(),
    canary_failure_count: z.number(),
    lifecycle_events: z.array(LifecycleEvent),
    /** How many earlier active definitions rollback can restore (the latest is used). */
    active_snapshot_count: z.number(),
    revoked_reason: z.string().nullable(),
    created_at_ms: z.number(),
    updated_at_ms: z.number(),
  })
  .meta({ id: 'LearningSkillView' });
export type LearningSkillView = z.infer<typeof LearningSkillView>;
