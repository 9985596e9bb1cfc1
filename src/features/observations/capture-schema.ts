// Wire types of capture-agent provisioning, heartbeat and revocation (api-core §8.1, concepts §4.14).
import { z } from 'zod';

const pathSafe = z
  .string()
  .min(1)
  .max(96)
  .regex(/^[A-Za-z0-9._-]+$/, 'use ASCII letters, digits, ".", "_" and "-"');
export const OS_PROFILES = ['macos', 'linux', 'windows'] as const;
const posInt = z.number().int().positive();

export const ProvisionRequest = z
  .object({
    batch_id: pathSafe,
    daemon_base_url: z.string().url().max(2048),
    os_profile: z.enum(OS_PROFILES).optional(),
    agents: z
      .array(
        z
          .object({
            machine_id: pathSafe,
            os_profile: z.enum(OS_PROFILES).optional(),
            camera: z.string().max(256).optional(),
            microphone: z.string().max(256).optional(),
          })
          .strict(),
      )
      .min(1)
      .max(100),
    sources: z
      .object({
        screen: z.boolean().optional(),
        camera: z.boolean().optional(),
        system_audio: z.boolean().optional(),
        microphone: z.boolean().optional(),
      })
      .strict(),
    interval_ms: posInt.optional(),
    max_runs: posInt.optional(),
    duration_ms: posInt.optional(),
    retention_seconds: posInt.optional(),
    max_active_observations: posInt.optional(),
    max_active_bytes: posInt.optional(),
    token_ttl_ms: posInt.optional(),
    heartbeat_interval_ms: z.number().int().min(100).optional(),
    heartbeat_grace_ms: z.number().int().min(0).optional(),
  })
  .strict();

export const LeaseView = z.object({
  lease_id: z.string(),
  source_id: z.string(),
  token_version: z.number().int(),
  issued_at_ms: z.number().int(),
  expires_at_ms: z.number().int(),
  state: z.enum(['active', 'revoked', 'superseded']),
  revoked_at_ms: z.number().int().nullable(),
  superseded_by_lease_id: z.string().nullable(),
});

export const CaptureAgentView = z
  .object({
    machine_id: z.string(),
    batch_id: z.string(),
    os_profile: z.string(),
    status: z.enum(['active', 'revoked']),
    source_ids: z.array(z.string()),
    leases: z.array(LeaseView),
    heartbeat_token_version: z.number().int(),
    heartbeat_interval_ms: z.number().int(),
    heartbeat_grace_ms: z.number().int(),
    last_heartbeat_at_ms: z.number().int().nullable(),
    heartbeat_deadline_ms: z.number().int(),
    heartbeat_state: z.enum(['pending', 'healthy', 'missing', 'revoked']),
    heartbeat_missing_since_ms: z.number().int().nullable(),
    last_heartbeat_agent_version: z.string().nullable(),
    last_heartbeat_observed_source_ids: z.array(z.string()),
    last_heartbeat_unobserved_source_ids: z.array(z.string()),
    revoked_at_ms: z.number().int().nullable(),
    revoke_reason: z.string().nullable(),
    created_at_ms: z.number().int(),
    updated_at_ms: z.number().int(),
  })
  .meta({ id: 'CaptureAgentView' });

export const ProvisionedAgent = z.object({
  machine_id: z.string(),
  os_profile: z.string(),
  source_ids: z.array(z.string()),
  /** The only place raw tokens ever appear. */
  heartbeat_token: z.string(),
  upload_tokens: z.record(z.string(), z.string()),
  config_toml: z.string(),
  agent: CaptureAgentView,
});
export const ProvisionResponse = z
  .object({ batch_id: z.string(), agents: z.array(ProvisionedAgent) })
  .meta({ id: 'CaptureAgentProvisionResponse' });

export const MachineParams = z.object({ machine_id: z.string().min(1) });
export const HeartbeatRequest = z
  .object({
    observed_source_ids: z.array(z.string().max(256)).max(64).optional(),
    agent_version: z.string().max(256).optional(),
  })
  .strict()
  .optional();
export const RevokeAgentRequest = z
  .object({ reason: z.string().max(512).optional() })
  .strict()
  .optional();

export const CaptureAlertView = z
  .object({
    alert_id: z.string(),
    kind: z.literal('missing_heartbeat'),
    machine_id: z.string(),
    since_ms: z.number().int(),
    heartbeat_deadline_ms: z.number().int(),
    last_heartbeat_at_ms: z.number().int().nullable(),
  })
  .meta({ id: 'CaptureAlertView' });

export type ProvisionRequest = z.infer<typeof ProvisionRequest>;
export type LeaseView = z.infer<typeof LeaseView>;
export type CaptureAgentView = z.infer<typeof CaptureAgentView>;
export type ProvisionResponse = z.infer<typeof ProvisionResponse>;
export type CaptureAlertView = z.infer<typeof CaptureAlertView>;
