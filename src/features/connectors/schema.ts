// Wire types of the connector registry and the HTTP connector (api-collab §6.2–§6.4).
import { z } from 'zod';
import { CapabilityScope, CredentialScope } from '../sessions/schema.ts';

export const CONNECTOR_KINDS = ['http', 'slack', 'telegram', 'external'] as const;

export const ConnectorParams = z.object({ kind: z.string(), name: z.string() });

/** Write-only: where a secret comes from. `env` excludes the other two (checked by the service). */
export const ConnectorSecretInput = z
  .object({
    value: z.string().optional(),
    secret_ref: z.string().optional(),
    env: z.string().optional(),
  })
  .strict();
export type ConnectorSecretInput = z.infer<typeof ConnectorSecretInput>;

export const SessionPolicy = z
  .object({
    create_if_missing: z.boolean().optional(),
    persona_id: z.string().min(1).nullish(),
    capability_scope: CapabilityScope.nullish(),
    credential_scope: CredentialScope.nullish(),
  })
  .strict();
export type SessionPolicy = z.infer<typeof SessionPolicy>;

export const ReplyHandleSchema = z.object({ plugin: z.string().min(1), address: z.string().min(1) }).strict();

/** What a connector PUT body may hold besides secrets; kinds validate their own fields. */
export const ConnectorPutBody = z.record(z.string(), z.unknown());

/** The HTTP connector's non-secret settings (all optional: PUT merges field by field). */
export const HttpConnectorSettings = z
  .object({
    actor_id: z.string().min(1).nullish(),
    fixed_session_id: z.string().min(1).nullish(),
    allow_unauthenticated_ingress: z.boolean().optional(),
    require_hmac_signature: z.boolean().optional(),
    signature_max_age_secs: z.number().int().optional(),
    require_idempotency_key: z.boolean().optional(),
    ingress_events_per_second: z.number().positive().optional(),
    allow_payload_reply_targets: z.boolean().optional(),
    default_reply_targets: z.array(ReplyHandleSchema).optional(),
    default_binding_keys: z.array(z.string().min(1)).optional(),
    session_policy: SessionPolicy.nullish(),
  })
  .strict();
export type HttpConnectorSettings = z.infer<typeof HttpConnectorSettings>;

const InputItem = z.record(z.string(), z.unknown());

/** POST /v1/connectors/http/{name}. */
export const HttpIngressPayload = z
  .object({
    session_id: z.string().min(1).optional(),
    binding_keys: z.array(z.string().min(1)).optional(),
    actor_id: z.string().min(1).optional(),
    content: z.string().optional(),
    input_items: z.array(InputItem).optional(),
    attachments: z.array(InputItem).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    reply_targets: z.array(z.unknown()).optional(),
    reply_plugin: z.string().min(1).optional(),
    reply_address: z.string().min(1).optional(),
    idempotency_key: z.string().optional(),
  })
  .strict();
export type HttpIngressPayload = z.infer<typeof HttpIngressPayload>;

export const IngressResponse = z
  .object({ status: z.enum(['accepted', 'duplicate']), session_id: z.string(), run_id: z.string() })
  .meta({ id: 'ConnectorIngressResult' });
