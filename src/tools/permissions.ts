// Permission decisions (ops-runtime §6): rules (scope, pattern, decision) checked by specificity,
// then the effective mode. Pure: the engine and the dry-run endpoint both call `evaluate`.

export const PERMISSION_MODES = ['default', 'acceptEdits', 'bypassPermissions', 'plan', 'dontAsk'] as const;
export type PermissionMode = (typeof PERMISSION_MODES)[number];
export type Decision = 'allow' | 'ask' | 'deny';
export type RuleScope = 'session' | 'project' | 'user';

export interface PermissionRule {
  pattern: string;
  decision: Decision;
  scope: RuleScope;
  /** `hook_update`: written by a permission_request hook (session scope only, evaluated first). */
  origin?: 'static' | 'operator' | 'remembered' | 'hook_update';
}

/** The default session rule set, in order; `*` → allow must stay last. */
export const DEFAULT_RULES: PermissionRule[] = [
  ...[
    'bash',
    'write_file',
    'edit_file',
    'apply_patch',
    'mcp__*',
    'list_mcp_resources',
    'list_mcp_resource_templates',
    'read_mcp_resource',
    'exit_plan_mode',
  ].map((pattern): PermissionRule => ({ pattern, decision: 'ask', scope: 'session', origin: 'static' })),
  { pattern: '*', decision: 'allow', scope: 'session', origin: 'static' },
];

const EDIT_TOOLS = new Set(['write_file', 'edit_file', 'apply_patch']);
/** What `plan` mode still allows: reading, inspecting, coordinating and asking. */
const PLAN_ALLOWLIST = new Set([
  'read_file',
  'list_files',
  'glob_search',
  'grep_search',
  'web_search',
  'web_fetch',
  'spawn_agent',
  'message_agent',
  'wait_agent',
  'list_agents',
  'list_agent_summaries',
  'get_agent',
  'schedule_list',
  'schedule_get',
  'task_list',
  'task_get',
  'task_output',
  'request_parent_clarification',
  'ask_user_question',
  'emit_output',
  'list_skills',
]);
const PLAN_ASK = new Set([
  'list_mcp_resources',
  'list_mcp_resource_templates',
  'read_mcp_resource',
  'exit_plan_mode',
]);

export interface PermissionExplanation {
  mode: PermissionMode;
  decision: Decision;
  base_decision: Decision;
  mode_applied: boolean;
  mode_effect?: string;
  matched_rule?: string;
  matched_rule_scope?: RuleScope;
  matched_rule_origin?: string;
  approval_required: boolean;
  reason?: string;
}

const SCOPE_ORDER: RuleScope[] = ['session', 'project', 'user'];

function specificity(pattern: string, tool: string): number {
  if (pattern === tool) return Number.MAX_SAFE_INTEGER;
  if (pattern.endsWith('*') && tool.startsWith(pattern.slice(0, -1))) return pattern.length;
  return -1;
}

/** First scope with a match wins; inside it, exact > longer prefix > shorter > `*`, ties → first. */
export function matchRule(tool: string, rules: PermissionRule[]): PermissionRule | undefined {
  for (const scope of SCOPE_ORDER) {
    let best: PermissionRule | undefined;
    let bestScore = -1;
    for (const rule of rules) {
      if (rule.scope !== scope) continue;
      const score = specificity(rule.pattern, tool);
      if (score > bestScore) {
        best = rule;
        bestScore = score;
      }
    }
    if (best) return best;
  }
  return undefined;
}

/** `extraRules` (operator and remembered session rules) come before the defaults. */
export function evaluate(
  tool: string,
  mode: PermissionMode,
  extraRules: PermissionRule[] = [],
): PermissionExplanation {
  const rule = matchRule(tool, [...extraRules, ...DEFAULT_RULES]);
  const base: Decision = rule?.decision ?? 'allow';
  const out: PermissionExplanation = {
    mode,
    decision: base,
    base_decision: base,
    mode_applied: false,
    matched_rule: rule?.pattern,
    matched_rule_scope: rule?.scope,
    matched_rule_origin: rule?.origin,
    approval_required: false,
  };
  const apply = (decision: Decision, effect: string) => {
    out.decision = decision;
    out.mode_applied = true;
    out.mode_effect = effect;
  };
  if (base === 'deny') {
    out.reason = `denied by rule \`${rule?.pattern}\``;
  } else if (mode === 'bypassPermissions' && base === 'ask') {
    apply('allow', 'bypass_permissions_allowed_approval');
  } else if (mode === 'acceptEdits' && base === 'ask' && EDIT_TOOLS.has(tool)) {
    apply('allow', 'accept_edits_auto_allowed_edit_approval');
  } else if (mode === 'dontAsk' && base === 'ask') {
    apply('deny', 'dont_ask_denied_approval');
  } else if (mode === 'plan') {
    if (PLAN_ASK.has(tool)) {
      if (base !== 'ask') apply('ask', 'plan_mode_requires_approval');
    } else if (!PLAN_ALLOWLIST.has(tool)) apply('deny', 'plan_mode_denied_non_whitelisted_tool');
  }
  out.approval_required = out.decision === 'ask';
  if (out.decision === 'deny' && !out.reason) out.reason = `denied in ${mode} mode (${out.mode_effect})`;
  return out;
}
