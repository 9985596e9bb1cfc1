// Agent profiles (concepts §4.4): the tool surface a child agent gets is fixed here, by the daemon,
// not by prompt convention. A child's surface is a chain of filters — its parent's chain, its
// profile, then its own optional allowlist/denylist — and a tool is visible only when every filter
// of the chain lets it through, so a child can never see more than its parent.
// Patterns: an exact tool name, a prefix ending in `*` (`task_*`, `mcp__*`), or `*`.

export interface SurfaceFilter {
  /** Where the filter comes from: `profile:<name>`, `request`, or the parent's sources. */
  source: string;
  allow: string[];
  deny: string[];
}

const INSPECTION = ['read_file', 'list_files', 'glob_search', 'grep_search'];
const RESEARCH = ['web_search', 'web_fetch'];
const AGENT_READS = ['list_agents', 'list_agent_summaries', 'get_agent'];
const ORCHESTRATION = ['spawn_agent', 'wait_agent', 'message_agent', ...AGENT_READS];
const TASK_READS = ['task_get', 'task_list', 'task_output'];
const TO_PARENT = ['message_agent', 'request_parent_clarification', 'emit_output'];

export const AGENT_PROFILES = {
  /** Everything the daemon offers (coding, web, orchestration, tasks, schedules, outputs). */
  default: {
    description: 'general work: every registered tool',
    allow: ['*'],
  },
  /** Read, research and plan; no writes, no shell, no spawning. */
  planning: {
    description: 'read-only research and planning: inspection, web research, agent/task reads',
    allow: [
      ...INSPECTION,
      ...RESEARCH,
      ...AGENT_READS,
      ...TASK_READS,
      ...TO_PARENT,
      'todo_write',
      'schedule_list',
      'schedule_get',
      'get_goal',
      'list_skills',
    ],
  },
  /** Split work and track it: orchestration and tasks; no writes, no shell, no web. */
  coordination: {
    description: 'orchestration: spawn, wait for and message agents, manage tasks and schedules',
    allow: [...INSPECTION, ...ORCHESTRATION, ...TO_PARENT, 'task_*', 'todo_write', 'schedule_*', 'get_goal'],
  },
  /** Check work without changing it: inspection plus the shell to run tests and builds. */
  verification: {
    description: 'verification: inspection, bash to run checks, web_fetch; no edits, no spawning',
    allow: [...INSPECTION, 'bash', 'web_fetch', ...AGENT_READS, ...TASK_READS, ...TO_PARENT],
  },
} as const satisfies Record<string, { description: string; allow: readonly string[] }>;

export type AgentProfile = keyof typeof AGENT_PROFILES;
export const PROFILE_NAMES = Object.keys(AGENT_PROFILES) as AgentProfile[];

export const isProfile = (name: string): name is AgentProfile => Object.hasOwn(AGENT_PROFILES, name);

export function profileFilter(profile: AgentProfile): SurfaceFilter {
  return { source: `profile:${profile}`, allow: [...AGENT_PROFILES[profile].allow], deny: [] };
}

/** `pattern` matches the tool name `name` (exact, prefix wildcard, or `*`). */
export function patternMatches(pattern: string, name: string): boolean {
  if (pattern === '*' || pattern === name) return true;
  return pattern.endsWith('*') && name.startsWith(pattern.slice(0, -1));
}

/** Every name `inner` can match is also matched by `outer`. */
export function patternCovers(outer: string, inner: string): boolean {
  if (!inner.endsWith('*')) return patternMatches(outer, inner);
  if (outer === '*') return true;
  return outer.endsWith('*') && inner.slice(0, -1).startsWith(outer.slice(0, -1));
}

export function chainAllows(chain: SurfaceFilter[], tool: string): boolean {
  return chain.every(
    (f) => f.allow.some((p) => patternMatches(p, tool)) && !f.deny.some((p) => patternMatches(p, tool)),
  );
}

/** The allow patterns of `entry` (a name or pattern) fit inside every filter of the chain. */
export function chainCovers(chain: SurfaceFilter[], entry: string): boolean {
  return chain.every(
    (f) => f.allow.some((p) => patternCovers(p, entry)) && !f.deny.some((p) => patternCovers(p, entry)),
  );
}
