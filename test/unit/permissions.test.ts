import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluate, matchRule, type PermissionRule } from '../../src/tools/permissions.ts';

const modes = ['default', 'acceptEdits', 'bypassPermissions', 'plan', 'dontAsk'] as const;
const matrix: Record<string, string[]> = {
  bash: ['ask', 'ask', 'allow', 'deny', 'deny'],
  write_file: ['ask', 'allow', 'allow', 'deny', 'deny'],
  edit_file: ['ask', 'allow', 'allow', 'deny', 'deny'],
  apply_patch: ['ask', 'allow', 'allow', 'deny', 'deny'],
  mcp__linear__create: ['ask', 'ask', 'allow', 'deny', 'deny'],
  read_mcp_resource: ['ask', 'ask', 'allow', 'ask', 'deny'],
  read_file: ['allow', 'allow', 'allow', 'allow', 'allow'],
  exit_plan_mode: ['ask', 'ask', 'allow', 'ask', 'deny'],
  some_other_tool: ['allow', 'allow', 'allow', 'deny', 'allow'],
};

test('ops-runtime #30: the decision matrix of the five modes (ops-runtime §6.1)', () => {
  for (const [tool, expected] of Object.entries(matrix))
    for (const [i, mode] of modes.entries())
      assert.equal(evaluate(tool, mode).decision, expected[i], `${tool} in ${mode}`);
  const deny: PermissionRule[] = [{ pattern: 'bash', decision: 'deny', scope: 'session' }];
  for (const mode of modes)
    assert.equal(evaluate('bash', mode, deny).decision, 'deny', `explicit deny in ${mode}`);
});

test('ops-runtime #31: scope order, then exact > longer prefix > shorter prefix > *', () => {
  const rules: PermissionRule[] = [
    { pattern: '*', decision: 'allow', scope: 'session' },
    { pattern: 'mcp__*', decision: 'ask', scope: 'session' },
    { pattern: 'mcp__linear__*', decision: 'deny', scope: 'session' },
    { pattern: 'mcp__linear__read', decision: 'allow', scope: 'session' },
    { pattern: 'bash', decision: 'deny', scope: 'user' },
  ];
  assert.equal(matchRule('mcp__linear__write', rules)?.pattern, 'mcp__linear__*');
  assert.equal(matchRule('mcp__linear__read', rules)?.pattern, 'mcp__linear__read');
  assert.equal(matchRule('mcp__github__x', rules)?.pattern, 'mcp__*');
  assert.equal(matchRule('bash', rules)?.pattern, '*', 'a session-scope match beats a user-scope exact rule');
  assert.equal(matchRule('bash', [{ pattern: 'bash', decision: 'deny', scope: 'user' }])?.scope, 'user');
});

test('explanations name the rule and the mode effect', () => {
  const e = evaluate('write_file', 'acceptEdits');
  assert.deepEqual(
    { decision: e.decision, base: e.base_decision, effect: e.mode_effect, rule: e.matched_rule },
    { decision: 'allow', base: 'ask', effect: 'accept_edits_auto_allowed_edit_approval', rule: 'write_file' },
  );
  assert.equal(evaluate('bash', 'default').approval_required, true);
  assert.equal(evaluate('x', 'plan').mode_effect, 'plan_mode_denied_non_whitelisted_tool');
});

test('plan mode keeps inspection and coordination tools: schedules, tasks, agents, clarifications', () => {
  for (const tool of [
    'schedule_list',
    'schedule_get',
    'task_list',
    'task_get',
    'task_output',
    'get_agent',
    'list_agents',
    'spawn_agent',
    'wait_agent',
    'message_agent',
    'request_parent_clarification',
  ])
    assert.equal(evaluate(tool, 'plan').decision, 'allow', tool);
  for (const tool of ['schedule_create', 'task_create', 'task_stop', 'schedule_cancel'])
    assert.equal(evaluate(tool, 'plan').decision, 'deny', tool);
});
