// Skill tools (api-core §10, ops-runtime §9): list_skills and use_skill, over the session-visible
// skill surface. The skills feature implements `SkillToolHost`; these definitions validate
// arguments and render results.
import { z } from 'zod';
import type { ToolContext, ToolDefinition, ToolRegistry } from '../registry.ts';
import { defineControlTool } from './define-control-tool.ts';

export const ListSkillsInput = z.object({ query: z.string().max(500).optional() }).strict();
export type ListSkillsInput = z.infer<typeof ListSkillsInput>;

export const UseSkillInput = z
  .object({
    name: z.string().trim().min(1).max(500),
    /** Text (or JSON) handed to the skill; substituted for ${ARGUMENTS} / ${KHEISH_SKILL_ARGS}. */
    args: z
      .union([z.string().max(100_000), z.record(z.string(), z.unknown()), z.array(z.unknown())])
      .optional(),
    context: z.enum(['inline', 'fork']).optional(),
    reason: z.string().max(2000).optional(),
    /** Fork only: wait for the child to settle (default true). */
    wait: z.boolean().optional(),
    /** Fork only: how long to wait (default 60000 ms). */
    timeout_ms: z.number().int().positive().optional(),
  })
  .strict();
export type UseSkillInput = z.infer<typeof UseSkillInput>;

export interface SkillToolHost {
  listSkills(ctx: ToolContext, input: ListSkillsInput): Promise<unknown>;
  /** Idempotent per (run, tool call): a re-run after a crash re-activates or finds the same child. */
  useSkill(ctx: ToolContext, input: UseSkillInput): Promise<unknown>;
}

export function createSkillTools(host: SkillToolHost): ToolDefinition[] {
  const list = defineControlTool(
    'list_skills',
    'List the skills available in this session (name, description, when to use, runtime: inline or ' +
      'fork), optionally filtered by `query` (matched against name, description and when_to_use).',
    ListSkillsInput,
    false,
    (input, ctx) => host.listSkills(ctx, input),
  );
  const use = defineControlTool(
    'use_skill',
    'Activate a skill by `name`. An inline skill adds its instructions to this session from the next ' +
      'model call on (they stay active for the rest of the session). A fork skill runs as a child ' +
      'agent on `args` and, by default, waits for it and returns its final output (`wait: false` to ' +
      'continue at once; `timeout_ms` bounds the wait). `args` is the input for the skill; ' +
      '`context` overrides the skill’s own inline/fork choice; `reason` says why.',
    UseSkillInput,
    // Not a blind side effect: re-running it after a crash finds the activation or the child it made.
    false,
    (input, ctx) => host.useSkill(ctx, input),
  );
  return [{ ...list, read_only: true }, use];
}

export function registerSkillTools(registry: ToolRegistry, host: SkillToolHost): void {
  for (const tool of createSkillTools(host)) registry.register(tool);
}
