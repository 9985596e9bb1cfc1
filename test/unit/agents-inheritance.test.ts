// Pure rules of sidechain inheritance: the permission-mode narrowing matrix, scope narrowing, tool
// surface chains, and the spawn-quota flags' precedence.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_SUBAGENT_POLICY, resolveSubagentPolicy } from '../../src/config/subagent-policy.ts';
import {
  childCapabilityScope,
  childCredentialScope,
  childPermissionMode,
  childToolSurface,
} from '../../src/features/agents/inheritance.ts';
import { chainAllows } from '../../src/features/agents/profiles.ts';
import { PERMISSION_MODES, type PermissionMode } from '../../src/tools/permissions.ts';

test('permission modes: a child may only narrow its parent (the reference matrix)', () => {
  const allowed: Record<PermissionMode, PermissionMode[]> = {
    bypassPermissions: ['default', 'acceptEdits', 'bypassPermissions', 'plan', 'dontAsk'],
    acceptEdits: ['default', 'acceptEdits', 'plan', 'dontAsk'],
    default: ['default', 'plan', 'dontAsk'],
    dontAsk: ['plan', 'dontAsk'],
    plan: ['plan'],
  };
  for (const parent of PERMISSION_MODES) {
    assert.equal(childPermissionMode(parent, undefined), parent, `omitted under ${parent} is pinned to it`);
    for (const child of PERMISSION_MODES) {
      const ok = allowed[parent].includes(child);
      if (ok) assert.equal(childPermissionMode(parent, child), child);
      else assert.throws(() => childPermissionMode(parent, child), /would widen/, `${parent} -> ${child}`);
    }
  }
});

test('scopes: allow lists must stay inside the parent, deny lists add up; no credential scope drops credentials', () => {
  const parent = { skill_allow: ['a', 'b*'], skill_deny: ['x'] };
  assert.deepEqual(childCapabilityScope(parent, undefined), parent);
  assert.deepEqual(childCapabilityScope(parent, { skill_allow: ['bee'], skill_deny: ['y'] }), {
    skill_allow: ['bee'],
    skill_deny: ['x', 'y'],
  });
  assert.throws(() => childCapabilityScope(parent, { skill_allow: ['c'] }), /outside the parent scope/);
  assert.deepEqual(
    childCredentialScope({ route_allow: ['r1'], connector_credential_allow: ['s:K'] }, undefined),
    {
      connector_credential_deny: ['*'],
      mcp_server_deny: ['*'],
      route_allow: ['r1'],
    },
  );
  // A parent naming connectors without credential keys has no secrets to hand down.
  assert.throws(
    () => childCredentialScope({ connector_allow: ['slack'] }, { connector_credential_allow: ['slack:K'] }),
    /outside the parent scope/,
  );
});

test('tool surfaces: a chain never lets a grandchild see more than its parent', () => {
  const known = () => true;
  const verify = childToolSurface([], 'verification', undefined, known);
  const grand = childToolSurface(verify, 'default', undefined, known);
  assert.equal(chainAllows(grand, 'bash'), true);
  assert.equal(chainAllows(grand, 'write_file'), false);
  assert.throws(() => childToolSurface(verify, 'default', { allowlist: ['write_file'] }, known), /widen/);
  assert.throws(() => childToolSurface([], 'default', { denylist: ['bash'] }, known), /explicit allowlist/);
  const narrowed = childToolSurface(
    [],
    'coordination',
    { allowlist: ['task_*'], denylist: ['task_stop'] },
    known,
  );
  assert.equal(chainAllows(narrowed, 'task_list'), true);
  assert.equal(chainAllows(narrowed, 'task_stop'), false);
  assert.throws(
    () => childToolSurface([], 'default', { allowlist: ['no_such_tool'] }, () => false),
    /unknown tools/,
  );
});

test('quota flags: flag beats environment beats default; bad values are refused', () => {
  const p = resolveSubagentPolicy(
    { maxChildDepth: '2' },
    { KHEISH_MAX_CHILD_DEPTH: '3', KHEISH_MAX_SPAWNS_PER_RUN: '9' },
  );
  assert.equal(p.policy.max_child_depth, 2);
  assert.equal(p.policy.max_spawns_per_run, 9);
  assert.equal(p.policy.max_live_sidechains_global, DEFAULT_SUBAGENT_POLICY.max_live_sidechains_global);
  assert.equal(
    resolveSubagentPolicy({ modelBudgetMaxTotalCostUsd: '2.5' }, {}).policy.model_budget_max_total_cost_usd,
    2.5,
  );
  assert.throws(() => resolveSubagentPolicy({ maxChildDepth: '-1' }, {}), /--max-child-depth/);
  assert.throws(() => resolveSubagentPolicy({ maxChildDepth: '1.5' }, {}), /whole number/);
  assert.throws(() => resolveSubagentPolicy({}, { KHEISH_SPAWN_RATE_WINDOW_MS: '0' }), /at least 1/);
});
