// The engine's narrow view of hooks (ops-runtime §7): it asks whether an event has hooks (a cheap
// synchronous check, so a daemon without hooks pays nothing per step) and fires an invocation,
// getting back one aggregated verdict. The hooks feature installs the real dispatcher; the engine
// starts with NO_HOOKS.

export const HOOK_EVENTS = [
  'pre_tool_use',
  'post_tool_use',
  'post_tool_use_failure',
  'permission_request',
  'permission_denied',
  'setup',
  'session_start',
  'session_end',
  'user_prompt_submit',
  'stop',
  'stop_failure',
  'subagent_start',
  'subagent_stop',
  'teammate_idle',
  'task_created',
  'task_completed',
  'pre_compact',
  'post_compact',
  'file_changed',
  'cwd_changed',
  'instructions_loaded',
  'config_change',
  'elicitation',
  'elicitation_result',
  'notification',
  'worktree_create',
  'worktree_remove',
] as const;
export type HookEvent = (typeof HOOK_EVENTS)[number];

/** What happened, as the daemon tells its hooks. */
export interface HookFire {
  event: HookEvent;
  /**
   * What makes this invocation the same one again (e.g. run id + tool call id): the invocation key
   * is derived from the event and this, so a retry or a re-evaluation after a restart reuses it.
   */
  identity: string;
  /** What matchers test: a tool name, a setting name, a task id... */
  subject?: string;
  session_id?: string;
  run_id?: string;
  agent_id?: string;
  /** Event-specific fields. */
  payload: Record<string, unknown>;
}

export interface PermissionUpdate {
  scope: 'user' | 'project' | 'session';
  tool_name_pattern: string;
  behavior: 'allow' | 'deny' | 'ask';
  reason?: string;
}

/** One hook's part of a verdict, as the step trace shows it. */
export interface HookRecord {
  name: string;
  /** ok, blocked, failed_open (failure ignored) or failed_closed (failure blocks). */
  result: 'ok' | 'blocked' | 'failed_open' | 'failed_closed';
  attempts: number;
  error?: string;
}

/** The hooks of one event, aggregated in declaration order. */
export interface HookVerdict {
  invocation_key: string;
  /** True when a hook blocked (or failed closed) on an event that can be blocked. */
  blocked: boolean;
  reason: string | null;
  decision?: 'approve' | 'block';
  permission?: 'allow' | 'deny' | 'ask';
  updated_input?: Record<string, unknown>;
  updated_output?: unknown;
  updated_permissions: PermissionUpdate[];
  additional_contexts: string[];
  hooks: HookRecord[];
}

export interface HookPort {
  /** Whether any hook is configured for `event` (synchronous: the hot path's only cost). */
  has(event: HookEvent): boolean;
  fire(fire: HookFire, signal: AbortSignal): Promise<HookVerdict>;
}

export const emptyVerdict = (invocation_key = ''): HookVerdict => ({
  invocation_key,
  blocked: false,
  reason: null,
  updated_permissions: [],
  additional_contexts: [],
  hooks: [],
});

export const NO_HOOKS: HookPort = {
  has: () => false,
  fire: async () => emptyVerdict(),
};

/** The `hook_evaluated` step trace of a verdict that changed (or was asked about) a step. */
export function hookTrace(event: HookEvent, v: HookVerdict, extra: Record<string, unknown> = {}) {
  return {
    kind: 'hook_evaluated',
    event,
    invocation_key: v.invocation_key,
    blocked: v.blocked,
    ...(v.reason ? { reason: v.reason } : {}),
    ...(v.permission ? { permission: v.permission } : {}),
    ...(v.updated_input ? { updated_input: true } : {}),
    ...(v.updated_output !== undefined ? { updated_output: true } : {}),
    ...(v.additional_contexts.length ? { additional_contexts: v.additional_contexts.length } : {}),
    hooks: v.hooks,
    ...extra,
  };
}
