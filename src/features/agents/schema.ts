// Wire types of the agents API (api-core §6.1/§6.4): sidechain spawn requests and list filters.
import { z } from 'zod';
import { PERMISSION_MODES } from '../../tools/permissions.ts';
import { Attachment, InputItem } from '../runs/schema.ts';
import { CapabilityScope, CredentialScope, GenerationConfig, RoutePolicy } from '../sessions/schema.ts';
import { PROFILE_NAMES } from './profiles.ts';

export const AGENT_STATUSES = [
  'idle',
  'running',
  'waiting_for_approval',
  'waiting_for_user_input',
  'failed',
  'completed',
] as const;

const toolList = z.array(z.string().min(1).max(200)).max(256);

export const ToolSurfaceRequest = z
  .object({ allowlist: toolList.optional(), denylist: toolList.optional() })
  .strict();

export const ForkContext = z
  .object({
    parent_assistant_message: z.string(),
    inherited_tool_call_ids: z.array(z.string()),
    system_prompt: z.string(),
    team_name: z.string().optional(),
    isolation: z.string().optional(),
    prompt_merge_mode: z.string().optional(),
    provider: z.string().optional(),
    generation: GenerationConfig.optional(),
    tool_surface: ToolSurfaceRequest.optional(),
    worktree_path: z.string().optional(),
  })
  .strict();

export const SubtaskRequest = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(20_000).optional(),
    content: z.string().optional(),
    input_items: z.array(InputItem).optional(),
    attachments: z.array(Attachment).optional(),
  })
  .strict();

export const SpawnSidechainRequest = z
  .object({
    session_id: z.string().min(1).max(256).optional(),
    thread_id: z.string().max(256).optional(),
    route_policy: RoutePolicy.optional(),
    provider: z.string().min(1).optional(),
    route_id: z.string().min(1).optional(),
    permission_mode: z.enum(PERMISSION_MODES).optional(),
    retention: z.enum(['retain', 'close_on_settle']).optional(),
    nickname: z.string().trim().min(1).max(128).optional(),
    spawn_request_id: z.string().min(1).max(256).optional(),
    fork_context: ForkContext.optional(),
    generation: GenerationConfig.optional(),
    tool_surface: ToolSurfaceRequest.optional(),
    capability_scope: CapabilityScope.optional(),
    credential_scope: CredentialScope.optional(),
    subtask: SubtaskRequest.optional(),
    /** Extension: the agent profile fixing the tool surface (`agent_type` in the spawn_agent tool). */
    profile: z.enum(PROFILE_NAMES as [string, ...string[]]).optional(),
  })
  .strict();
export type SpawnSidechainRequest = z.infer<typeof SpawnSidechainRequest>;

export const AgentParams = z.object({ agent_id: z.string().min(1) });

export const SummariesQuery = z.object({
  root_agent_id: z.string().optional(),
  root: z.string().optional(),
  session_id: z.string().optional(),
  status: z.string().optional(),
  has_runtime: z.string().optional(),
  page: z.string().optional(),
  cursor: z.string().optional(),
  limit: z.string().optional(),
});

export const NicknameBody = z.object({ nickname: z.string().trim().min(1).max(128) }).strict();
