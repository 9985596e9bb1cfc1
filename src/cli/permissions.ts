// `runtime tool-limits get|set` (ops-runtime §2.7) and the session permission commands:
// `sessions permission-rules|add-permission-rule|remove-permission-rule|set-permission-rules|
// permission-audits` (our extension over GET/PUT/POST/DELETE /v1/sessions/{id}/permission-rules).
import { type Command, InvalidArgumentError } from 'commander';
import {
  addPermissionRule,
  getPermissionRules,
  getToolLimits,
  type PermissionRuleInput,
  permissionAudits,
  removePermissionRules,
  replacePermissionRules,
  setToolLimits,
} from '../sdk/permissions.ts';
import type { JsonObject } from '../sdk/types.ts';
import { jsonInput } from './approvals.ts';
import { UsageError } from './errors.ts';
import { keyValues, table, time } from './format.ts';
import { positiveInt } from './parse.ts';
import { type ReplaceFlags, replaceInput, replaceOptions } from './replace-input.ts';
import type { CliRuntime } from './runtime.ts';

const DECISIONS = ['allow', 'ask', 'deny'] as const;
const decision = (v: string): PermissionRuleInput['decision'] => {
  if (!(DECISIONS as readonly string[]).includes(v))
    throw new InvalidArgumentError(`expected one of ${DECISIONS.join(', ')}`);
  return v as PermissionRuleInput['decision'];
};

function renderLimits(limits: JsonObject): string[] {
  return keyValues(Object.entries(limits).map(([k, v]) => [k, String(v)]));
}

export function registerToolLimitCommands(runtime: Command, rt: CliRuntime): void {
  const limits = runtime.command('tool-limits').description('ToolRuntimeLimits for future tool batches');
  limits
    .command('get')
    .description('current limits (GET /v1/runtime/tool-limits)')
    .action(async () => rt.emit(await getToolLimits(rt.client()), renderLimits));
  replaceOptions(
    limits
      .command('set')
      .description('replace the whole limits object; omitted keys go back to their defaults'),
    'JSON object of limits (or the request body with a `limits` key)',
    'restore every default',
  ).action(async (flags: ReplaceFlags) => {
    // The bare object or the wire body ({limits, expected_revision}).
    const value = await replaceInput(rt, flags, { label: 'limits', key: 'limits', onReset: {} });
    const view = await setToolLimits(rt.client(), value, flags.expectedRevision);
    rt.emit(view, (v) => [
      ...renderLimits(v.tool_runtime_limits as JsonObject),
      `revision: ${(v.config as JsonObject)?.revision}`,
    ]);
  });
}

function renderRules(view: JsonObject): string[] {
  const rules = (view.rules as JsonObject[]) ?? [];
  const lines = rules.length
    ? table(
        ['PATTERN', 'DECISION', 'ORIGIN'],
        rules.map((r) => [String(r.pattern), String(r.decision), String(r.origin ?? '')]),
      )
    : ['no session rules (the default rule set applies)'];
  return [
    ...lines,
    '',
    `then the defaults: ${(view.default_rules as JsonObject[]).map((r) => `${r.pattern}→${r.decision}`).join(', ')}`,
  ];
}

export function registerSessionPermissionCommands(sessions: Command, rt: CliRuntime): void {
  sessions
    .command('permission-rules <session_id>')
    .description("the session's permission rules (evaluated before the defaults)")
    .action(async (id: string) => rt.emit(await getPermissionRules(rt.client(), id), renderRules));
  sessions
    .command('add-permission-rule <session_id> <pattern>')
    .description('add a rule (tool name, prefix ending in *, or *; `bash:network` grants network)')
    .argument('<decision>', DECISIONS.join(' | '), decision)
    .action(async (id: string, pattern: string, d: PermissionRuleInput['decision']) =>
      rt.emit(await addPermissionRule(rt.client(), id, { pattern, decision: d }), renderRules),
    );
  sessions
    .command('remove-permission-rule <session_id> [pattern]')
    .description('remove the rule with this pattern, or every session rule with --all')
    .option('--all', 'remove all session rules')
    .action(async (id: string, pattern: string | undefined, flags: { all?: boolean }) => {
      if ((pattern === undefined) === (flags.all !== true))
        throw new UsageError('give a pattern, or --all to remove every session rule');
      rt.emit(await removePermissionRules(rt.client(), id, pattern), renderRules);
    });
  sessions
    .command('set-permission-rules <session_id>')
    .description('replace all session rules with a JSON array of {pattern, decision}')
    .option('--rules-json <json>', 'the array')
    .option('--rules-file <path>', 'a file holding the array (- for standard input)')
    .action(async (id: string, flags: { rulesJson?: string; rulesFile?: string }) => {
      const rules = await jsonInput(rt, flags.rulesJson, flags.rulesFile, 'rules');
      if (!Array.isArray(rules)) throw new UsageError('give the rules as a JSON array');
      rt.emit(await replacePermissionRules(rt.client(), id, rules as PermissionRuleInput[]), renderRules);
    });
  sessions
    .command('permission-audits <session_id>')
    .description('how each tool call of the session was decided (legacy array; --page for the envelope)')
    .option('--page', 'return the paginated envelope')
    .option('--limit <n>', 'at most n audits (max 100)', positiveInt)
    .option('--cursor <cursor>', 'continue after this page cursor')
    .action(async (id: string, flags: { page?: boolean; limit?: number; cursor?: string }) => {
      const result = (await permissionAudits(rt.client(), id, flags)) as JsonObject | JsonObject[];
      rt.emit(result, (r) => {
        const items = Array.isArray(r) ? r : ((r.items as JsonObject[]) ?? []);
        if (items.length === 0) return ['no tool calls decided yet'];
        return table(
          ['TIME', 'TOOL', 'DECISION', 'MODE', 'RULE', 'RUN'],
          items.map((a) => [
            time(a.created_at_ms) ?? '',
            String(a.tool_name),
            a.decision === a.base_decision ? String(a.decision) : `${a.decision} (was ${a.base_decision})`,
            String(a.effective_mode),
            a.matched_rule_pattern ? `${a.matched_rule_pattern} (${a.matched_rule_origin ?? ''})` : '',
            String(a.run_id),
          ]),
        );
      });
    });
}
