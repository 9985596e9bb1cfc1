// Wire types of the sessions API (the contract; also feeds /v1/openapi.json).
import { z } from 'zod';
import { BudgetSchema } from '../../engine/budgets.ts';

const scopeList = z.array(z.string()).optional();

export const CapabilityScope = z
  .object({
    skill_allow: scopeList,
    skill_deny: scopeList,
    mcp_server_allow: scopeList,
    mcp_server_deny: scopeList,
    mcp_tool_allow: scopeList,
    mcp_tool_deny: scopeList,
  })
  .strict();

export const CredentialScope = z
  .object({
    route_allow: scopeList,
    route_deny: scopeList,
    connector_allow: scopeList,
    connector_deny: scopeList,
    connector_credential_allow: scopeList,
    connector_credential_deny: scopeList,
    mcp_server_allow: scopeList,
    mcp_server_deny: scopeList,
  })
  .strict();

export const ToolChoice = z.union([
  z.enum(['auto', 'none', 'required']),
  z.object({ type: z.enum(['auto', 'none', 'required']) }),
  z.object({ type: z.literal('specific'), name: z.string().min(1) }),
]);

export const GenerationConfig = z
  .object({
    model: z.string().min(1).optional(),
    fallback_model: z.string().min(1).optional(),
    tool_choice: ToolChoice.optional(),
    allow_parallel_tool_calls: z.boolean().optional(),
    max_output_tokens: z.number().int().positive().optional(),
    temperature: z.number().min(0).max(2).optional(),
    response_format: z.record(z.string(), z.unknown()).optional(),
    reasoning_effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']).optional(),
  })
  .strict();

export const RoutePolicy = z
  .object({ provider: z.string().min(1).optional(), generation: GenerationConfig.optional() })
  .strict();

export const CreateSessionRequest = z
  .object({
    session_id: z.string().max(256).optional(),
    thread_id: z.string().max(256).optional(),
    persona_id: z.string().optional(),
    capability_scope: CapabilityScope.nullable().optional(),
    credential_scope: CredentialScope.nullable().optional(),
  })
  .strict();

export const OutputContractInput = z
  .object({
    schema: z.record(z.string(), z.unknown()),
    max_repair_attempts: z.number().int().min(0).optional(),
  })
  .strict();

export const BindPersonaBody = z.object({ persona_id: z.string().min(1) }).strict();
export const RoutePolicyBody = z.object({ route_policy: RoutePolicy.nullable() }).strict();
export const CapabilityScopeBody = z.object({ capability_scope: CapabilityScope.nullable() }).strict();
export const CredentialScopeBody = z.object({ credential_scope: CredentialScope.nullable() }).strict();
export const BudgetBody = z.object({ budget: BudgetSchema.nullable() }).strict();
export const EndSessionBody = z
  .object({ reason: z.string().max(2000).optional() })
  .strict()
  .nullish();

export const SessionParams = z.object({ session_id: z.string().min(1) });
export const ListSessionsQuery = z.object({
  persona_id: z.string().optional(),
  page: z.string().optional(),
  cursor: z.string().optional(),
  limit: z.string().optional(),
});

export const SessionView = z
  .object({
    session_id: z.string(),
    agent_id: z.string(),
    snapshot: z.record(z.string(), z.unknown()),
    route_policy: RoutePolicy.optional(),
    outputs: z.array(z.record(z.string(), z.unknown())),
  })
  .passthrough()
  .meta({ id: 'SessionView' });

export type CreateSessionRequest = z.infer<typeof CreateSessionRequest>;
export type CapabilityScope = z.infer<typeof CapabilityScope>;
export type CredentialScope = z.infer<typeof CredentialScope>;
export type RoutePolicy = z.infer<typeof RoutePolicy>;
export type OutputContractInput = z.infer<typeof OutputContractInput>;
