// Session permission rules (GET/PUT/POST/DELETE /v1/sessions/{id}/permission-rules, our extension)
// and the permission audit log (GET /v1/sessions/{id}/permission-audits, ops-runtime §6.4).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertProblem } from '../conformance/support.ts';
import { http, readJournal, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';

const script = {
  rules: [
    {
      match: 'shell',
      turns: [{ tool_calls: [{ name: 'bash', arguments: { command: 'echo hi' } }] }, { text: 'shell done' }],
    },
    {
      match: 'list twice',
      turns: [
        { tool_calls: [{ name: 'list_files', arguments: {} }] },
        { tool_calls: [{ name: 'list_files', arguments: {} }] },
        { text: 'listed twice' },
      ],
    },
  ],
  default: { turns: [{ text: 'ok' }] },
};

let d: TestDaemon;
let n = 0;
before(async () => {
  d = await startDaemon({ script, args: ['--workspace-root', tempDir('kheish-ws-')] });
});
after(async () => {
  await d.kill();
  d.cleanup();
});

async function session(): Promise<string> {
  const id = `perm${++n}`;
  await http(d.url, 'POST', '/v1/sessions', { session_id: id });
  return id;
}
async function run(sessionId: string, content: string, until?: (r: any) => boolean) {
  const r = (await http(d.url, 'POST', `/v1/sessions/${sessionId}/runs`, { content })).body;
  return waitForRun(d.url, r.run_id, until);
}
const rulesPath = (s: string) => `/v1/sessions/${s}/permission-rules`;

test('session rules: PUT replaces, POST adds or replaces one pattern, DELETE removes one or all', async () => {
  const s = await session();
  const empty = (await http(d.url, 'GET', rulesPath(s))).body;
  assert.deepEqual(empty.rules, []);
  assert.equal(empty.default_rules.at(-1).pattern, '*', 'the default set ends with *');
  const put = await http(d.url, 'PUT', rulesPath(s), {
    rules: [
      { pattern: 'bash', decision: 'deny' },
      { pattern: 'mcp__linear__*', decision: 'allow' },
    ],
  });
  assert.equal(put.status, 200, put.text);
  assert.deepEqual(
    put.body.rules.map((r: any) => [r.pattern, r.decision, r.scope, r.origin]),
    [
      ['bash', 'deny', 'session', 'operator'],
      ['mcp__linear__*', 'allow', 'session', 'operator'],
    ],
  );
  const added = await http(d.url, 'POST', rulesPath(s), { pattern: 'bash', decision: 'allow' });
  assert.deepEqual(
    added.body.rules.map((r: any) => [r.pattern, r.decision]),
    [
      ['bash', 'allow'],
      ['mcp__linear__*', 'allow'],
    ],
  );
  const removed = await http(
    d.url,
    'DELETE',
    `${rulesPath(s)}?pattern=${encodeURIComponent('mcp__linear__*')}`,
  );
  assert.deepEqual(
    removed.body.rules.map((r: any) => r.pattern),
    ['bash'],
  );
  assertProblem(
    await http(d.url, 'DELETE', `${rulesPath(s)}?pattern=nothing`),
    404,
    'sessions',
    'permission_rule_not_found',
  );
  assert.deepEqual((await http(d.url, 'DELETE', rulesPath(s))).body.rules, []);
});

test('session rules: bad patterns, duplicates and unknown sessions are clear problems', async () => {
  const s = await session();
  for (const pattern of ['ba*sh', '**', 'bash tool', '../x'])
    assertProblem(
      await http(d.url, 'POST', rulesPath(s), { pattern, decision: 'deny' }),
      400,
      'sessions',
      'invalid_permission_rule',
    );
  assertProblem(
    await http(d.url, 'PUT', rulesPath(s), {
      rules: [
        { pattern: 'bash', decision: 'deny' },
        { pattern: 'bash', decision: 'allow' },
      ],
    }),
    400,
    'sessions',
    'invalid_permission_rule',
  );
  assertProblem(await http(d.url, 'POST', rulesPath(s), { pattern: 'bash', decision: 'maybe' }), 400);
  assertProblem(await http(d.url, 'GET', rulesPath('no-such-session')), 404, undefined, 'session_not_found');
  assertProblem(
    await http(d.url, 'GET', '/v1/sessions/no-such-session/permission-audits'),
    404,
    undefined,
    'session_not_found',
  );
});

test('a session deny rule is applied to the next tool call and audited with its origin', async () => {
  const s = await session();
  await http(d.url, 'PUT', rulesPath(s), { rules: [{ pattern: 'bash', decision: 'deny' }] });
  const done = await run(s, 'shell');
  assert.equal(done.status, 'completed', done.error);
  const audits = (await http(d.url, 'GET', `/v1/sessions/${s}/permission-audits`)).body;
  assert.equal(audits.length, 1);
  assert.equal(audits[0].tool_name, 'bash');
  assert.equal(audits[0].decision, 'deny');
  assert.equal(audits[0].effective_mode, 'default');
  assert.equal(audits[0].matched_rule_pattern, 'bash');
  assert.equal(audits[0].matched_rule_origin, 'operator');
  assert.equal(audits[0].run_id, done.run_id);
});

test('an asked call is audited once, even though it is decided again when the approval resumes it', async () => {
  const s = await session();
  const parked = await run(s, 'shell', (r) => r.status === 'waiting_for_approval');
  const [approval] = (await http(d.url, 'GET', `/v1/approvals?session_id=${s}`)).body;
  const res = await http(d.url, 'POST', `/v1/runs/${parked.run_id}/approvals`, {
    resolutions: [{ request_id: approval.request_id ?? approval.request?.id, behavior: 'deny' }],
  });
  assert.equal(res.status, 202, res.text);
  await waitForRun(d.url, parked.run_id);
  const audits = (await http(d.url, 'GET', `/v1/sessions/${s}/permission-audits`)).body;
  assert.equal(audits.length, 1);
  assert.equal(audits[0].decision, 'ask');
  assert.equal(audits[0].base_decision, 'ask');
  assert.equal(audits[0].matched_rule_origin, 'static');
});

test('permission audits page with a cursor in decision order', async () => {
  const s = await session();
  await run(s, 'list twice');
  const all = (await http(d.url, 'GET', `/v1/sessions/${s}/permission-audits`)).body;
  assert.equal(all.length, 2);
  assert.ok(all.every((a: any) => a.decision === 'allow' && a.tool_name === 'list_files'));
  const first = (await http(d.url, 'GET', `/v1/sessions/${s}/permission-audits?page=true&limit=1`)).body;
  assert.equal(first.items.length, 1);
  assert.equal(first.pagination.total_count, 2);
  assert.equal(first.pagination.has_more, true);
  const second = (
    await http(
      d.url,
      'GET',
      `/v1/sessions/${s}/permission-audits?page=true&limit=1&cursor=${first.pagination.next_cursor}`,
    )
  ).body;
  assert.equal(second.items[0].audit_id, all[1].audit_id);
  assert.equal(second.pagination.has_more, false);
});

test('network for sandboxed bash needs an explicit bash:network allow rule', async () => {
  const granted = await session();
  await http(d.url, 'PUT', rulesPath(granted), {
    rules: [
      { pattern: 'bash', decision: 'allow' },
      { pattern: 'bash:network', decision: 'allow' },
    ],
  });
  const plain = await session();
  await http(d.url, 'PUT', rulesPath(plain), { rules: [{ pattern: 'bash', decision: 'allow' }] });
  const result = async (s: string) => {
    const done = await run(s, 'shell');
    assert.equal(done.status, 'completed', done.error);
    return JSON.parse(readJournal(d.stateRoot, done.run_id, 'tool_result')[0].content);
  };
  const withGrant = await result(granted);
  const without = await result(plain);
  assert.equal(withGrant.exit_code, 0);
  assert.equal(withGrant.network, true);
  // Unsandboxed commands always have the host network (and status says so); the grant only
  // matters inside bubblewrap.
  if (without.sandboxed) assert.equal(without.network, false);
});
