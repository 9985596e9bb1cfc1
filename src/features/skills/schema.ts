// Wire types of the skills API (api-core §12.2): the contract, also in /v1/openapi.json.
import { z } from 'zod';

export const SkillRuntimeView = z
  .object({
    allowed_tools: z.array(z.string()),
    blocked_tools: z.array(z.string()),
    context: z.enum(['inline', 'fork']),
    agent_profile: z.string().optional(),
    provider: z.string().optional(),
    model: z.string().optional(),
    fallback_model: z.string().optional(),
  })
  .meta({ id: 'SkillRuntimeView' });

export const SkillSummaryView = z
  .object({
    name: z.string(),
    description: z.string(),
    when_to_use: z.string().optional(),
    version: z.string().optional(),
    skill_path: z.string(),
    skill_root: z.string(),
    scope: z.enum(['explicit', 'repo', 'user', 'daemon']),
    digest: z.string(),
    runtime: SkillRuntimeView,
    /** Session views only: the skill is in the session's active inline set. */
    active: z.boolean().optional(),
  })
  .meta({ id: 'SkillSummaryView' });

export const SkillView = SkillSummaryView.extend({ instructions: z.string() }).meta({ id: 'SkillView' });

export const SkillsQuery = z.object({ query: z.string().optional() });
export const SkillParams = z.object({ skill_name: z.string().min(1) });
export const SessionSkillParams = z.object({ session_id: z.string().min(1) });

export type SkillSummaryView = z.infer<typeof SkillSummaryView>;
export type SkillView = z.infer<typeof SkillView>;
