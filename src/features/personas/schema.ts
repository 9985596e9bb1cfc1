// Wire types of the personas API (api-core §9): the contract, also in /v1/openapi.json.
import { z } from 'zod';
import { CapabilityScope } from '../sessions/schema.ts';

const skillNames = z.array(z.string().trim().min(1).max(256)).max(64);
const metadata = z.record(z.string(), z.unknown());

export const CreatePersonaRequest = z
  .object({
    persona_id: z.string().max(128).optional(),
    display_name: z.string().trim().min(1).max(256),
    soul: z.string().max(256 * 1024),
    capability_scope: CapabilityScope.nullable().optional(),
    default_skills: skillNames.nullable().optional(),
    metadata: metadata.nullable().optional(),
  })
  .strict();

export const UpdatePersonaRequest = z
  .object({
    display_name: z.string().trim().min(1).max(256).optional(),
    soul: z
      .string()
      .max(256 * 1024)
      .optional(),
    capability_scope: CapabilityScope.nullable().optional(),
    default_skills: skillNames.nullable().optional(),
    metadata: metadata.nullable().optional(),
  })
  .strict();

export const PersonaParams = z.object({ persona_id: z.string().min(1) });
export const ListPersonasQuery = z.object({
  query: z.string().optional(),
  page: z.string().optional(),
  cursor: z.string().optional(),
  limit: z.string().optional(),
});

export const PersonaSummaryView = z
  .object({
    persona_id: z.string(),
    display_name: z.string(),
    version: z.number().int(),
    created_at_ms: z.number().int(),
    updated_at_ms: z.number().int(),
  })
  .meta({ id: 'PersonaSummaryView' });

export const PersonaView = PersonaSummaryView.extend({
  soul: z.string(),
  capability_scope: CapabilityScope.optional(),
  default_skills: z.array(z.string()),
  metadata: metadata.optional(),
}).meta({ id: 'PersonaView' });

export type CreatePersonaRequest = z.infer<typeof CreatePersonaRequest>;
export type UpdatePersonaRequest = z.infer<typeof UpdatePersonaRequest>;
export type PersonaSummaryView = z.infer<typeof PersonaSummaryView>;
export type PersonaView = z.infer<typeof PersonaView>;
