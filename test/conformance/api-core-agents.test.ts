// api-core §15 item 79 and the rest of §6.4 agents/sidechains (concepts §4.4, ops-runtime §5.4, §6.4):
// the agent tree, inheritance and narrowing, profiles, retention, orphaning, summaries, nicknames.
// Quotas (429 subagent_policy/spawn_policy_denied) are in api-core-agents-quotas.test.ts.
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createCli } from '../../src/cli/program.ts';
import { http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { assertProblem, sleep } from './support.ts';

const workspace = tempDir('kheish-ws-');
const write = (match: string, path: string) => ({
  match,
  turns: [
    { tool_calls: [{ name: 'write_file', arguments: { path, content: 'x' } }] },
    { text: `wrote ${path}` },
  ],
});
const script = {
  rules: [
    { match: '^hold', turns: [{ hang: true }] },
    write('^write-pinned', 'pinned.txt'),
    write('^write-default', 'default.txt'),
    write('^write-verify', 'verify.txt'),
  ],
  default: { turns: [{ text: 'ok' }] },
};

let d: TestDaemon;
let n = 0;
before(async () => {
  d = await startDaemon({ script, args: ['--workspace-root', workspace] });
});
after(async () => {
  await d.kill();
  await d.cleanup();
  rmSync(workspace, { recursive: true, force: true });
});

/** A fresh primary session; returns its agent id. */
/** Waits until the primary's session has had its mailbox delivery run and nothing is left live in it. */
async function primaryIdle(sid: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const runs = (await http(d.url, 'GET', `/v1/runs?session_id=${sid}`)).body as Array<{
      run_id: string;
      kind: string;
      status: string;
    }>;
    const live = runs.find((r) => !['completed', 'failed', 'interrupted', 'cancelled'].includes(r.status));
    if (live) await waitForRun(d.url, live.run_id);
    else if (runs.some((r) => r.kind === 'mailbox_delivery')) return;
    else await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`the primary session ${sid} got no mailbox delivery run`);
}

async function primary(body: Record<string, unknown> = {}): Promise<{ sid: string; agent: string }> {
  const sid = `agents-${++n}`;
  const res = await http(d.url, 'POST', '/v1/sessions', { session_id: sid, ...body });
  assert.equal(res.status, 201, res.text);
  return { sid, agent: res.body.agent_id };
}

const spawn = (parent: string, body: Record<string, unknown> = {}) =>
  http(d.url, 'POST', `/v1/agents/${parent}/sidechains`, body);

async function spawned(parent: string, body: Record<string, unknown> = {}) {
  const res = await spawn(parent, body);
  assert.equal(res.status, 201, res.text);
  return res.body;
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io = {
    stdout: (t: string) => {
      out += t;
    },
    stderr: (t: string) => {
      err += t;
    },
    readStdin: async () => '',
    onInterrupt: () => () => undefined,
  };
  const code = await createCli({ io }).run(['node', 'kheish-daemon', '--base-url', d.url, ...args]);
  return { code, out, err };
}

const setMode = (mode: string) => http(d.url, 'POST', '/v1/runtime/permission-mode', { mode });
const agent = async (id: string) => (await http(d.url, 'GET', `/v1/agents/${id}`)).body;
const session = async (id: string) => (await http(d.url, 'GET', `/v1/sessions/${id}`)).body;

test('api-core #79 / ops-runtime #29: POST /v1/agents/{id}/sidechains requesting bypassPermissions from a session in default mode is rejected with 400', async () => {
  const p = await primary();
  const res = await spawn(p.agent, {
    permission_mode: 'bypassPermissions',
    subtask: { name: 'x', content: 'hi' },
  });
  assertProblem(res, 400, null, 'bad_request', 'widening spawn');
  assert.match(res.body.detail, /bypassPermissions would widen the parent's effective mode default/);
  assert.deepEqual((await agent(p.agent)).children, [], 'nothing was spawned');
  for (const mode of ['acceptEdits', 'bypassPermissions'])
    assertProblem(await spawn(p.agent, { permission_mode: mode }), 400, null, 'bad_request', mode);
  for (const mode of ['default', 'plan', 'dontAsk'])
    assert.equal((await spawn(p.agent, { permission_mode: mode })).status, 201, mode);
});

test('sidechains: an omitted mode is pinned to the parent effective mode, an explicit default is pinned too, and the child tool calls use it', async () => {
  await setMode('acceptEdits');
  const p = await primary();
  let inherited: any;
  let explicitDefault: any;
  try {
    inherited = await spawned(p.agent, { nickname: 'inherits' });
    explicitDefault = await spawned(p.agent, { permission_mode: 'default' });
  } finally {
    await setMode('default');
  }
  assert.equal(inherited.permission_mode, 'acceptEdits');
  assert.equal(explicitDefault.permission_mode, 'default');
  // The daemon is back in default mode: the pinned child still writes without asking.
  const run = (
    await http(d.url, 'POST', `/v1/sessions/${inherited.session_id}/runs`, { content: 'write-pinned' })
  ).body;
  const done = await waitForRun(d.url, run.run_id);
  assert.equal(done.status, 'completed', JSON.stringify(done));
  assert.ok(existsSync(join(workspace, 'pinned.txt')));
  const asks = (
    await http(d.url, 'POST', `/v1/sessions/${explicitDefault.session_id}/runs`, { content: 'write-default' })
  ).body;
  const parked = await waitForRun(d.url, asks.run_id, (r) => r.status === 'waiting_for_approval');
  assert.equal(parked.pending_approvals[0].tool_name, 'write_file');
  await http(d.url, 'POST', `/v1/runs/${asks.run_id}/cancel`);
  // A plan child can only have plan children.
  const planChild = await spawned(p.agent, { permission_mode: 'plan' });
  assertProblem(await spawn(planChild.agent_id, { permission_mode: 'default' }), 400, null, 'bad_request');
  assert.equal((await spawned(planChild.agent_id)).permission_mode, 'plan');
});

test('sidechains: scopes and session permission rules are snapshot copies that may only narrow; the route policy is not inherited', async () => {
  const p = await primary({
    capability_scope: { skill_allow: ['alpha', 'beta'], mcp_server_deny: ['risky'] },
    credential_scope: {
      route_allow: ['local'],
      connector_allow: ['slack'],
      connector_credential_allow: ['slack:TOKEN'],
    },
  });
  await http(d.url, 'POST', `/v1/sessions/${p.sid}/route-policy`, { route_policy: { provider: 'local' } });
  await http(d.url, 'POST', `/v1/sessions/${p.sid}/permission-rules`, { pattern: 'bash', decision: 'allow' });
  const child = await spawned(p.agent);
  const cs = await session(child.session_id);
  assert.deepEqual(cs.capability_scope, { mcp_server_deny: ['risky'], skill_allow: ['alpha', 'beta'] });
  // No explicit credential scope: routes stay, connector credentials and credentialed MCP go.
  assert.deepEqual(cs.credential_scope, {
    connector_allow: ['slack'],
    connector_credential_deny: ['*'],
    mcp_server_deny: ['*'],
    route_allow: ['local'],
  });
  assert.equal(cs.route_policy, undefined, 'route policy is not inherited');
  const rules = (await http(d.url, 'GET', `/v1/sessions/${child.session_id}/permission-rules`)).body;
  assert.ok(
    rules.rules.some((r: any) => r.pattern === 'bash' && r.decision === 'allow'),
    JSON.stringify(rules),
  );

  assertProblem(
    await spawn(p.agent, { capability_scope: { skill_allow: ['gamma'] } }),
    400,
    null,
    'bad_request',
  );
  assertProblem(
    await spawn(p.agent, { credential_scope: { route_allow: ['other'] } }),
    400,
    null,
    'bad_request',
  );
  const narrowed = await spawned(p.agent, {
    capability_scope: { skill_allow: ['alpha'] },
    credential_scope: { route_allow: ['local'], connector_credential_allow: ['slack:TOKEN'] },
  });
  const ns = await session(narrowed.session_id);
  assert.deepEqual(ns.capability_scope.skill_allow, ['alpha']);
  assert.deepEqual(ns.credential_scope.connector_credential_allow, ['slack:TOKEN']);
  // Snapshot: a later change of the parent's scope does not reach the child.
  await http(d.url, 'POST', `/v1/sessions/${p.sid}/capability-scope`, {
    capability_scope: { skill_allow: ['beta'] },
  });
  assert.deepEqual((await session(child.session_id)).capability_scope.skill_allow, ['alpha', 'beta']);
});

test('profiles fix the tool surface in the daemon: a verification child cannot call write_file; denylist-only and widening surfaces are rejected', async () => {
  await setMode('acceptEdits');
  const p = await primary();
  let verifier: any;
  try {
    verifier = await spawned(p.agent, {
      profile: 'verification',
      subtask: { name: 'verify', content: 'write-verify' },
    });
  } finally {
    await setMode('default');
  }
  const done = await waitForRun(d.url, verifier.launch_run_id);
  assert.equal(done.status, 'completed');
  assert.ok(!existsSync(join(workspace, 'verify.txt')), 'write_file is outside the verification surface');
  const tools = (await agent(verifier.agent_id)).agent.tool_surface as string[];
  assert.ok(tools.includes('read_file') && tools.includes('bash'), tools.join(','));
  assert.ok(!tools.includes('write_file') && !tools.includes('spawn_agent'), tools.join(','));
  // Its own children stay inside its surface whatever their profile.
  const grand = await http(d.url, 'POST', `/v1/agents/${verifier.agent_id}/sidechains/explain`, {
    profile: 'default',
  });
  assert.equal(grand.body.allowed, true);
  assert.ok(!grand.body.effective.tool_surface.includes('write_file'));

  assertProblem(await spawn(p.agent, { tool_surface: { denylist: ['bash'] } }), 400, null, 'bad_request');
  assertProblem(
    await spawn(p.agent, { profile: 'verification', tool_surface: { allowlist: ['write_file'] } }),
    400,
    null,
    'bad_request',
  );
  assertProblem(await spawn(p.agent, { profile: 'nope' }), 400);
  const narrow = await spawned(p.agent, {
    profile: 'planning',
    tool_surface: { allowlist: ['read_file', 'grep_search'] },
  });
  assert.deepEqual((await agent(narrow.agent_id)).agent.tool_surface, ['read_file', 'grep_search']);
  const primaryView = await agent(p.agent);
  assert.equal(primaryView.agent.tool_surface, undefined, 'primary agents keep every tool');
});

test('agents: GET /v1/agents is the tree with parent links; GET /v1/agents/{id}; unknown ids are 404 agents/agent_not_found', async () => {
  const p = await primary();
  const a = await spawned(p.agent, { nickname: 'a', subtask: { name: 'a', content: 'quick' } });
  const b = await spawned(a.agent_id, { subtask: { name: 'b', content: 'quick' } });
  await waitForRun(d.url, b.launch_run_id);
  const all = (await http(d.url, 'GET', '/v1/agents')).body as any[];
  const ids = all.map((x) => x.agent_id);
  const i = ids.indexOf(p.agent);
  assert.deepEqual(ids.slice(i, i + 3), [p.agent, a.agent_id, b.agent_id], 'depth-first tree order');
  const root = all[i];
  assert.equal(root.parent_agent_id, null);
  assert.equal(root.agent.role, 'primary');
  assert.deepEqual(root.children, [a.agent_id]);
  const child = await agent(b.agent_id);
  assert.equal(child.parent_agent_id, a.agent_id);
  assert.equal(child.root_agent_id, p.agent);
  assert.equal(child.depth, 2);
  assert.equal(child.agent.path, `${p.sid}/a/b`);
  assert.equal(child.agent.conversation.session_id, b.session_id);
  assert.equal(child.status, 'completed');
  assert.equal(child.last_assistant_message, 'ok');
  assertProblem(await http(d.url, 'GET', '/v1/agents/agent-nope'), 404, 'agents', 'agent_not_found');
  assertProblem(await spawn('agent-nope'), 404, 'agents', 'agent_not_found');
  assertProblem(
    await http(d.url, 'POST', '/v1/agents/agent-nope/sidechains/explain', {}),
    404,
    'agents',
    'agent_not_found',
  );
});

test('agents: summaries are a legacy array or an envelope with counts, filtered by root, session, status and has_runtime', async () => {
  const p = await primary();
  const live = await spawned(p.agent, { subtask: { name: 'hold', content: 'hold on' } });
  const done = await spawned(p.agent, { subtask: { name: 'quick', content: 'quick' } });
  await waitForRun(d.url, done.launch_run_id);
  await waitForRun(d.url, live.launch_run_id, (r) => r.status === 'running');
  // The finished child's outcome reaches the primary as a mailbox delivery run: let it come and
  // end, so the primary has no runtime when the filters below are checked.
  await primaryIdle(p.sid);
  const legacy = (await http(d.url, 'GET', `/v1/agents/summaries?root=${p.agent}`)).body as any[];
  assert.ok(Array.isArray(legacy));
  assert.deepEqual(legacy.map((s) => s.agent_id).sort(), [p.agent, live.agent_id, done.agent_id].sort());
  const row = legacy.find((s) => s.agent_id === live.agent_id);
  assert.equal(row.status, 'running');
  assert.equal(row.has_runtime, true);
  assert.equal(row.active_run_id, live.launch_run_id);
  for (const k of [
    'subtask_count',
    'mailbox_message_count',
    'queued_run_count',
    'pending_approval_count',
    'pending_question_count',
    'pending_parent_clarification_count',
  ])
    assert.equal(typeof row[k], 'number', k);
  const page = (
    await http(d.url, 'GET', `/v1/agents/summaries?root_agent_id=${p.agent}&page=true&has_runtime=false`)
  ).body;
  assert.deepEqual(page.items.map((s: any) => s.agent_id).sort(), [p.agent, done.agent_id].sort());
  assert.equal(page.counts.total, 3);
  assert.equal(page.counts.filtered, 2);
  assert.equal(page.counts.with_runtime, 1);
  assert.equal(page.counts.running, 1);
  assert.equal(page.counts.completed, 1);
  const byStatus = (await http(d.url, 'GET', `/v1/agents/summaries?root=${p.agent}&status=completed`)).body;
  assert.deepEqual(
    byStatus.map((s: any) => s.agent_id),
    [done.agent_id],
  );
  const bySession = (await http(d.url, 'GET', `/v1/agents/summaries?session_id=${live.session_id}`)).body;
  assert.deepEqual(
    bySession.map((s: any) => s.agent_id),
    [live.agent_id],
  );
  const first = (await http(d.url, 'GET', `/v1/agents/summaries?root=${p.agent}&limit=2&page=true`)).body;
  assert.equal(first.items.length, 2);
  const next = (
    await http(
      d.url,
      'GET',
      `/v1/agents/summaries?root=${p.agent}&limit=2&cursor=${first.pagination.next_cursor}`,
    )
  ).body;
  assert.equal(next.items.length, 1);
  assertProblem(await http(d.url, 'GET', '/v1/agents/summaries?status=sleeping'), 400);
  assertProblem(
    await http(d.url, 'GET', '/v1/agents/summaries?root=agent-nope'),
    404,
    'agents',
    'agent_not_found',
  );
  await http(d.url, 'POST', `/v1/runs/${live.launch_run_id}/cancel`);
});

test('sidechains: a spawn_request_id makes the spawn idempotent per parent (200 with the same child)', async () => {
  const p = await primary();
  const first = await spawn(p.agent, {
    spawn_request_id: 'req-1',
    subtask: { name: 'once', content: 'quick' },
  });
  const again = await spawn(p.agent, {
    spawn_request_id: 'req-1',
    subtask: { name: 'once', content: 'quick' },
  });
  assert.equal(first.status, 201);
  assert.equal(again.status, 200);
  assert.equal(again.body.duplicate, true);
  assert.equal(again.body.agent_id, first.body.agent_id);
  assert.equal(again.body.launch_run_id, first.body.launch_run_id);
  assert.equal((await agent(p.agent)).children.length, 1);
});

test('retention close_on_settle: a settled child is closed and hidden from GET /v1/sessions, still readable by id', async () => {
  const p = await primary();
  const child = await spawned(p.agent, {
    retention: 'close_on_settle',
    subtask: { name: 'brief', content: 'quick' },
  });
  const kept = await spawned(p.agent, { subtask: { name: 'kept', content: 'quick' } });
  await waitForRun(d.url, child.launch_run_id);
  await waitForRun(d.url, kept.launch_run_id);
  let snap: any;
  for (let i = 0; i < 100 && !snap?.agent.closed_at_ms; i++, await sleep(20))
    snap = await agent(child.agent_id);
  assert.equal(snap.agent.close_reason, 'settled');
  assert.equal(snap.status, 'completed');
  const listed = ((await http(d.url, 'GET', '/v1/sessions')).body as any[]).map((s) => s.session_id);
  assert.ok(!listed.includes(child.session_id), 'closed child session hidden');
  assert.ok(listed.includes(kept.session_id), 'retained child session listed');
  assert.equal((await http(d.url, 'GET', `/v1/sessions/${child.session_id}`)).status, 200);
});

test('orphaning: ending a parent session cancels its live children (recursively); the outcome reaches the parent mailbox marked orphaned', async () => {
  const p = await primary();
  const child = await spawned(p.agent, { subtask: { name: 'hold', content: 'hold' } });
  const grand = await spawned(child.agent_id, { subtask: { name: 'hold2', content: 'hold' } });
  await waitForRun(d.url, grand.launch_run_id, (r) => r.status === 'running');
  assert.equal((await http(d.url, 'POST', `/v1/sessions/${p.sid}/end`, {})).status, 200);
  assert.equal((await waitForRun(d.url, child.launch_run_id)).status, 'cancelled');
  assert.equal((await waitForRun(d.url, grand.launch_run_id)).status, 'cancelled');
  for (const id of [child.agent_id, grand.agent_id]) {
    const s = await agent(id);
    assert.equal(s.agent.close_reason, 'orphaned', id);
    assert.ok(s.agent.orphaned_at_ms > 0);
  }
  // The parent session has ended, so the outcome is recorded as a dead letter of its mailbox.
  let letters: any[] = [];
  for (let i = 0; i < 100 && letters.length === 0; i++, await sleep(20))
    letters = (await http(d.url, 'GET', `/v1/agents/${p.agent}/mailbox/dead-letter`)).body;
  const outcome = letters.find((m) => m.kind === 'child_outcome');
  assert.ok(outcome, JSON.stringify(letters));
  assert.equal(outcome.from_agent_id, child.agent_id);
  assert.equal(outcome.payload.status, 'cancelled');
  assert.equal(outcome.payload.orphaned, true);
  assert.equal(outcome.payload.run_id, child.launch_run_id);
  assertProblem(await spawn(child.agent_id), 409, 'agents', 'agent_closed');
});

test('agents: nickname routes set and clear a child nickname; a primary agent has none', async () => {
  const p = await primary();
  const c = await spawned(p.agent);
  assert.equal(
    (await http(d.url, 'PUT', `/v1/agents/${c.agent_id}/nickname`, { nickname: 'scout' })).body.agent
      .nickname,
    'scout',
  );
  assert.equal(
    (await http(d.url, 'DELETE', `/v1/agents/${c.agent_id}/nickname`)).body.agent.nickname,
    undefined,
  );
  assertProblem(await http(d.url, 'PUT', `/v1/agents/${p.agent}/nickname`, { nickname: 'x' }), 409, 'agents');
  assertProblem(await http(d.url, 'PUT', `/v1/agents/${c.agent_id}/nickname`, { nickname: '' }), 400);
});

test('runtime: GET /v1/runtime carries subagent_policy with the quota defaults; GET /v1/status an agents section', async () => {
  const rt = (await http(d.url, 'GET', '/v1/runtime')).body;
  assert.equal(rt.subagent_policy.max_child_depth, 4);
  assert.equal(rt.subagent_policy.max_live_children_per_parent, 6);
  assert.equal(rt.subagent_policy.max_live_descendants_per_root, 24);
  assert.equal(rt.subagent_policy.max_spawns_per_run, 6);
  assert.equal(rt.subagent_policy.spawn_rate_window_ms, 60000);
  assert.deepEqual(Object.keys(rt.subagent_policy.profiles), [
    'default',
    'planning',
    'coordination',
    'verification',
  ]);
  const st = (await http(d.url, 'GET', '/v1/status')).body;
  assert.ok(st.agents.sidechain_count > 0);
  assert.equal(st.agents.total, st.agents.primary_count + st.agents.sidechain_count);
  assert.ok(st.agents.orphaned_count >= 2);
});

test('CLI: agents spawn-sidechain, explain-sidechain, summaries, get, rename and clear-nickname', async () => {
  const p = await primary();
  const spawnedOut = await cli([
    '--output',
    'json',
    'agents',
    'spawn-sidechain',
    p.agent,
    '--subtask-name',
    'cli child',
    '--subtask-content',
    'quick',
    '--profile',
    'planning',
    '--permission-mode',
    'dont-ask',
    '--retention',
    'close-on-settle',
    '--allow-tool',
    'read_file',
    '--spawn-request-id',
    'cli-1',
  ]);
  assert.equal(spawnedOut.code, 0, spawnedOut.err);
  const child = JSON.parse(spawnedOut.out);
  assert.equal(child.profile, 'planning');
  assert.equal(child.permission_mode, 'dontAsk');
  assert.equal(child.retention, 'close_on_settle');
  assert.equal(child.name, 'cli-child');
  assert.deepEqual(child.snapshot.agent.tool_surface, ['read_file']);
  await waitForRun(d.url, child.launch_run_id);

  const explained = await cli([
    'agents',
    'explain-sidechain',
    p.agent,
    '--permission-mode',
    'bypass-permissions',
  ]);
  assert.equal(explained.code, 0, explained.err);
  assert.match(explained.out, /allowed:\s+no/);
  assert.match(explained.out, /denied by:\s+bad_request: sidechain permission_mode bypassPermissions/);

  const rows = await cli(['agents', 'summaries', '--root', p.agent, '--status', 'completed']);
  assert.equal(rows.code, 0, rows.err);
  assert.match(rows.out, new RegExp(`${child.agent_id}\\s+completed\\s+${p.sid}/cli-child`));
  const got = await cli(['agents', 'get', child.agent_id]);
  assert.match(got.out, /profile:\s+planning/);
  assert.match(got.out, /permission mode:\s+dontAsk/);
  assert.equal(
    (await cli(['agents', 'rename', child.agent_id, 'scout'])).out.trim(),
    `${child.agent_id} is now scout`,
  );
  assert.equal((await cli(['agents', 'clear-nickname', child.agent_id])).code, 0);
  const missing = await cli(['agents', 'get', 'agent-nope']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.err, /agent agent-nope was not found/);
});
