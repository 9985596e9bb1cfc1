// Orchestration tools (ops-runtime §10): spawn_agent, wait_agent, list_agents,
// list_agent_summaries, get_agent. The agents feature implements `AgentToolHost`; these
// definitions validate arguments and render results (message_agent lives with the mailboxes).
import { z } from 'zod';
import { PERMISSION_MODES } from '../permissions.ts';
import type { ToolContext, ToolDefinition, ToolRegistry } from '../registry.ts';
import { defineControlTool } from './define-control-tool.ts';

const scopeList = z.array(z.string()).optional();

export const SpawnAgentInput = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(20_000).optional(),
    prompt: z.string().max(1_000_000).optional(),
    agent_type: z.string().min(1).optional(),
    mode: z.enum(PERMISSION_MODES).optional(),
    retention: z.enum(['retain', 'close_on_settle']).optional(),
    nickname: z.string().trim().min(1).max(128).optional(),
    provider: z.string().min(1).optional(),
    model: z.string().min(1).optional(),
    allowed_tools: z.array(z.string().min(1)).max(256).optional(),
    blocked_tools: z.array(z.string().min(1)).max(256).optional(),
    capability_scope: z.record(z.string(), scopeList).optional(),
    credential_scope: z.record(z.string(), scopeList).optional(),
    wait: z.boolean().optional(),
    timeout_ms: z.number().int().positive().optional(),
  })
  .strict();
export type SpawnAgentInput = z.infer<typeof SpawnAgentInput>;

export const WaitAgentInput = z
  .object({
    agent_id: z.string().min(1).optional(),
    agent_ids: z.array(z.string().min(1)).max(64).optional(),
    mode: z.enum(['all', 'any']).optional(),
    timeout_ms: z.number().int().positive().optional(),
  })
  .strict();
export type WaitAgentInput = z.infer<typeof WaitAgentInput>;

export const ListSummariesInput = z
  .object({
    status: z
      .enum(['idle', 'running', 'waiting_for_approval', 'waiting_for_user_input', 'failed', 'completed'])
      .optional(),
    has_runtime: z.boolean().optional(),
  })
  .strict();
export type ListSummariesInput = z.infer<typeof ListSummariesInput>;

export const GetAgentInput = z.object({ agent_id: z.string().min(1) }).strict();

/** Implemented by the agents feature; acts for `ctx.agent_id`. Thrown errors reach the model as text. */
export interface AgentToolHost {
  /** Idempotent per (run, tool call): a re-run after a crash returns the child it already spawned. */
  spawnAgent(ctx: ToolContext, input: SpawnAgentInput): Promise<unknown>;
  /** Waits (cancellably) until the agents settle or the timeout; no ids = all the caller's children. */
  waitAgents(ctx: ToolContext, input: WaitAgentInput): Promise<unknown>;
  listAgents(ctx: ToolContext): Promise<unknown>;
  listAgentSummaries(ctx: ToolContext, input: ListSummariesInput): Promise<unknown>;
  getAgent(ctx: ToolContext, agentId: string): Promise<unknown>;
}

export function createAgentTools(host: AgentToolHost): ToolDefinition[] {
  return [
    defineControlTool(
      'spawn_agent',
      'Start a child agent (a sidechain with its own session) on a subtask: `name`, `prompt` (its ' +
        'input), optional `description`. It runs in the background while you continue; use ' +
        'wait_agent to collect its outcome (or `wait: true` to block here). `agent_type` picks a ' +
        'profile: default (all tools), planning (read/research), coordination (spawn/wait/message, ' +
        'tasks), verification (read + bash, no edits). The child inherits your permission mode and ' +
        'scopes and may only narrow them (`mode`, `allowed_tools`/`blocked_tools`). `retention: ' +
        'close_on_settle` closes it once it settles.',
      SpawnAgentInput,
      true,
      (input, ctx) => host.spawnAgent(ctx, input),
    ),
    defineControlTool(
      'wait_agent',
      'Wait until child agents settle (no queued, running or waiting work) and get each status and ' +
        'last output. `agent_ids` (ids, nicknames or names of your descendants) or `agent_id`; none ' +
        'waits for all your children. `mode`: all (default) or any. `timeout_ms` bounds the wait ' +
        '(the answer then says timed_out).',
      WaitAgentInput,
      false,
      (input, ctx) => host.waitAgents(ctx, input),
    ),
    defineControlTool(
      'list_agents',
      'Full snapshots of the agents in your tree (your root and every descendant): status, pending ' +
        'requests, last message. Prefer list_agent_summaries for routine checks.',
      z.object({}).strict(),
      false,
      (_input, ctx) => host.listAgents(ctx),
    ),
    defineControlTool(
      'list_agent_summaries',
      'Lightweight rows for the agents in your tree: status, active run, queued work, pending ' +
        'approvals/questions, last output preview. Optional `status` and `has_runtime` filters.',
      ListSummariesInput,
      false,
      (input, ctx) => host.listAgentSummaries(ctx, input),
    ),
    defineControlTool(
      'get_agent',
      'The full snapshot of one agent of your tree, by id.',
      GetAgentInput,
      false,
      (input, ctx) => host.getAgent(ctx, input.agent_id),
    ),
  ];
}

export function registerAgentTools(registry: ToolRegistry, host: AgentToolHost): void {
  for (const tool of createAgentTools(host)) registry.register(tool);
}
