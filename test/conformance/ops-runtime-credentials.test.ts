// Credential scope and the credential broker (ops-runtime §5.3–§5.4, #25–#28; docs/credentials.md)
// against a real daemon: a real provider route (an OpenAI-compatible server on loopback, through the
// AI SDK) whose key sits in an encrypted secret slot, a real stdio MCP server with a daemon-held
// credential, sidechains. Every assertion that a call was refused also checks that the provider
// received nothing. Runs on SQLite and, with KHEISH_TEST_STORE=postgres, on PostgreSQL.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import type { FixtureServer } from '../fixtures/providers/harness.ts';
import { startOpenAiCompatibleServer } from '../fixtures/providers/openai-compatible-server.ts';
import { BIN, http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { EVERYTHING, stdioServer, writeMcpConfig } from '../helpers/mcp.ts';
import { assertProblem } from './support.ts';

const KEY = spawnSync(BIN, ['secrets', 'generate'], { encoding: 'utf8' }).stdout.trim();
const PROVIDER_KEY = `prov-${Math.random().toString(36).slice(2)}-key`;
const MCP_TOKEN = `mcp-${Math.random().toString(36).slice(2)}-token`;
const TTL_MS = 3000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const script = {
  rules: [
    {
      match: '^env$',
      turns: [{ tool_calls: [{ name: 'mcp__everything__get-env', arguments: {} }] }, { text: 'ok' }],
    },
    { match: '^flaky$', turns: [{ error: { status: 500 } }, { text: 'never' }] },
  ],
  default: { turns: [{ text: 'scripted ok' }] },
};

let fixture: FixtureServer;
let d: TestDaemon;
const texts: string[] = [];

async function call(method: string, path: string, body?: unknown) {
  const res = await http(d.url, method, path, body);
  texts.push(res.text);
  return res;
}

const putSlot = (slot_id: string, value: string) =>
  call('POST', '/v1/runtime/secrets', {
    slot_id,
    provider: 'generic',
    mode: 'opaque_secret',
    state: { value },
  });

async function session(id: string, body: Record<string, unknown> = {}) {
  const res = await call('POST', '/v1/sessions', { session_id: id, ...body });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

/** Submits and waits; `provider` picks the route of this run. */
async function runOn(sid: string, content: string, provider?: string) {
  const sub = await call('POST', `/v1/sessions/${sid}/runs`, { content, ...(provider ? { provider } : {}) });
  assert.equal(sub.status, 202, sub.text);
  return waitForRun(d.url, sub.body.run_id);
}

const subject = async (id: string) =>
  (await call('GET', `/v1/runtime/auth/subjects/${encodeURIComponent(id)}`)).body;

before(async () => {
  fixture = await startOpenAiCompatibleServer();
  const env = { KHEISH_AUTH_STORE_MASTER_KEY: KEY, KHEISH_AUTH_LEASE_TTL_MS: String(TTL_MS) };
  // First boot: no route or MCP server names a slot yet; store both secrets through the API.
  d = await startDaemon({ script, env, args: ['--mcp-discovery', 'disabled'] });
  assert.equal((await putSlot('prov.prod', PROVIDER_KEY)).status, 200);
  assert.equal((await putSlot('mcp.custom.everything.DEMO_TOKEN', MCP_TOKEN)).status, 200);
  assert.equal((await putSlot('spare.slot', 'unused-value')).status, 200);
  await d.stop();
  const dir = tempDir('kheish-creds-');
  const mcp = writeMcpConfig(
    dir,
    stdioServer(
      'everything',
      EVERYTHING,
      ['stdio'],
      'env_secret_refs = { DEMO_TOKEN = "mcp.custom.everything.DEMO_TOKEN" }',
    ),
  );
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  writeFileSync(join(dir, 'script.json'), JSON.stringify(script));
  writeFileSync(
    join(dir, 'routes.toml'),
    [
      'version = 1',
      'default_route = "local"',
      '[routes.local]\ndriver = "scripted"\ndefault_model = "scripted"\nscript_file = "script.json"',
      '[routes.flaky]\ndriver = "scripted"\ndefault_model = "scripted"\nscript_file = "script.json"\nmax_retries = 0\nfallback_routes = ["prov"]',
      `[routes.prov]\ndriver = "openai_compatible"\ndefault_model = "llama-creds"\nbase_url = "${fixture.origin}"\nauth_ref = "prov.prod"`,
    ].join('\n\n'),
  );
  d = await d.restart({ args: ['--routes-file', join(dir, 'routes.toml'), '--mcp-config', mcp] });
});

after(async () => {
  await d?.kill();
  texts.push(d?.logs() ?? '');
  await d?.cleanup();
  await fixture?.close();
  // The provider key and the MCP token never reach a response body or a log line.
  for (const t of texts) {
    assert.ok(!t.includes(PROVIDER_KEY), 'provider key leaked');
    assert.ok(!t.includes(MCP_TOKEN), 'MCP token leaked');
  }
});

test('ops-runtime #25: DELETE /v1/runtime/secrets/{ref} is 409 while a route names the slot, {"accepted": true} otherwise', async () => {
  const busy = await call('DELETE', '/v1/runtime/secrets/prov.prod');
  assertProblem(busy, 409, 'runtime', 'secret_in_use');
  assert.match(busy.body.detail, /route prov/);
  assert.equal((await call('GET', '/v1/runtime/secrets/prov.prod')).status, 200, 'the slot is still there');
  const mcp = await call('DELETE', '/v1/runtime/secrets/mcp.custom.everything.DEMO_TOKEN');
  assertProblem(mcp, 409, 'runtime', 'secret_in_use');
  const free = await call('DELETE', '/v1/runtime/secrets/spare.slot');
  assert.equal(free.status, 200, free.text);
  assert.deepEqual(free.body, { accepted: true });
});

test('route_deny is enforced at dispatch: the run fails typed before any provider call, also for a fallback route', async () => {
  await session('deny-prov', { credential_scope: { route_deny: ['prov'] } });
  const before = fixture.requests.length;
  const denied = await runOn('deny-prov', 'hello', 'prov');
  assert.equal(denied.status, 'failed');
  assert.equal(denied.error_code, 'route_blocked_by_credential_scope');
  assert.match(denied.error, /route `prov` is denied by the credential_scope/);
  // A route the scope leaves alone still runs in the same session.
  assert.equal((await runOn('deny-prov', 'hello', 'local')).status, 'completed');
  // The primary route fails (500, no retries) and its fallback is the denied route.
  const fallback = await runOn('deny-prov', 'flaky', 'flaky');
  assert.equal(fallback.status, 'failed');
  assert.equal(fallback.error_code, 'route_blocked_by_credential_scope');
  assert.equal(fixture.requests.length, before, 'the provider was never called');
  // `*` denies every route, the scripted default too.
  await session('deny-all', { credential_scope: { route_deny: ['*'] } });
  assert.equal((await runOn('deny-all', 'hi')).error_code, 'route_blocked_by_credential_scope');
  // An allow list admits only what it names.
  await session('allow-local', { credential_scope: { route_allow: ['local'] } });
  assert.equal((await runOn('allow-local', 'hi')).status, 'completed');
  assert.equal((await runOn('allow-local', 'hi', 'prov')).error_code, 'route_blocked_by_credential_scope');
});

test('route_deny is enforced for a child: its own narrowed scope, and a parent narrowed after the spawn', async () => {
  const parent = await session('route-parent', { credential_scope: { route_allow: ['local', 'prov'] } });
  const spawn = await call('POST', `/v1/agents/${parent.agent_id}/sidechains`, {
    credential_scope: { route_allow: ['local'] },
  });
  assert.equal(spawn.status, 201, spawn.text);
  const child = spawn.body.session_id as string;
  const before = fixture.requests.length;
  assert.equal((await runOn(child, 'hi', 'prov')).error_code, 'route_blocked_by_credential_scope');
  assert.equal((await runOn(child, 'hi', 'local')).status, 'completed');
  // The parent denies `local` later: its child is held to it too (scope = child ∩ parent chain).
  // Scope changes need an idle session: the parent may be taking its child's mailbox delivery.
  let narrowed = await call('POST', '/v1/sessions/route-parent/credential-scope', {
    credential_scope: { route_allow: ['local', 'prov'], route_deny: ['local'] },
  });
  for (let i = 0; i < 200 && narrowed.status === 409; i++) {
    await sleep(50);
    narrowed = await call('POST', '/v1/sessions/route-parent/credential-scope', {
      credential_scope: { route_allow: ['local', 'prov'], route_deny: ['local'] },
    });
  }
  assert.equal(narrowed.status, 200, narrowed.text);
  assert.equal((await runOn(child, 'hi', 'local')).error_code, 'route_blocked_by_credential_scope');
  assert.equal(fixture.requests.length, before);
  // What the child's view says is what is enforced: its own scope ∩ the parent's.
  const view = (await call('GET', `/v1/sessions/${child}`)).body;
  assert.ok(view.effective_credential_scope.route_deny.includes('local'), JSON.stringify(view));
  assert.ok(!(view.credential_scope?.route_deny ?? []).includes('local'), 'the stored scope is unchanged');
});

test('ops-runtime #28: a sidechain spawned without credential_scope can resolve routes but is denied credentialed MCP', async () => {
  const parent = await session('mcp-parent');
  await call('POST', '/v1/sessions/mcp-parent/permission-rules', {
    pattern: 'mcp__everything__*',
    decision: 'allow',
  });
  const spawn = await call('POST', `/v1/agents/${parent.agent_id}/sidechains`, {});
  assert.equal(spawn.status, 201, spawn.text);
  const child = spawn.body.session_id as string;
  // Routes: the child's model call on the provider route gets a lease of its own.
  fixture.enqueue({ kind: 'text', deltas: ['child ', 'answer'] });
  const routed = await runOn(child, 'hello', 'prov');
  assert.equal(routed.status, 'completed', routed.error);
  assert.equal((await subject(`session:${child}`)).active_route_lease_ids.length, 1);
  // Credentialed MCP: refused for the child, granted (through an mcp_server lease) to the parent.
  const refused = await runOn(child, 'env', 'local');
  const traces = (await call('GET', `/v1/runs/${refused.run_id}/events`)).body
    .map((e: { event: { trace?: any } }) => e.event.trace)
    .filter((t: any) => t?.kind === 'tool_call_finished');
  assert.equal(traces[0]?.outcome, 'error', JSON.stringify(traces));
  assert.match(traces[0].output_preview, /credential_scope does not allow/);
  assert.deepEqual((await subject(`session:${child}`)).active_mcp_lease_ids, []);
  const granted = await runOn('mcp-parent', 'env', 'local');
  assert.equal(granted.status, 'completed', granted.error);
  const parentStatus = await subject('session:mcp-parent');
  assert.equal(parentStatus.active_mcp_lease_ids.length, 1);
  const lease = (await call('GET', `/v1/runtime/auth/leases/${parentStatus.active_mcp_lease_ids[0]}`)).body;
  assert.deepEqual(lease.lease.audience, {
    type: 'mcp_server',
    server: 'everything',
    slot_id: 'mcp.custom.everything.DEMO_TOKEN',
  });
});

test("ops-runtime #26: revoke-slot marks the slot's route leases revoked (revoked: true, active: false) while the slot still exists", async () => {
  await session('s26');
  fixture.enqueue({ kind: 'text', deltas: ['first'] });
  assert.equal((await runOn('s26', 'hello', 'prov')).status, 'completed');
  const [leaseId] = (await subject('session:s26')).active_route_lease_ids;
  assert.ok(leaseId);
  const live = await call('GET', `/v1/runtime/auth/leases/${leaseId}`);
  assert.equal(live.status, 200);
  assert.deepEqual(Object.keys(live.body).sort(), ['active', 'lease', 'revoked']);
  assert.deepEqual(Object.keys(live.body.lease).sort(), [
    'audience',
    'expires_at_ms',
    'grant_id',
    'id',
    'issued_at_ms',
    'subject_epoch',
    'subject_id',
  ]);
  assert.deepEqual(live.body.lease.audience, { type: 'route', route_id: 'prov', slot_id: 'prov.prod' });
  assert.equal(live.body.active, true);
  assert.equal(live.body.lease.expires_at_ms - live.body.lease.issued_at_ms, TTL_MS);

  const revoked = await call('POST', '/v1/runtime/auth/slots/prov.prod/revoke');
  assert.equal(revoked.status, 200, revoked.text);
  assert.ok(revoked.body.revoked_lease_ids.includes(leaseId));
  const after = (await call('GET', `/v1/runtime/auth/leases/${leaseId}`)).body;
  assert.equal(after.revoked, true);
  assert.equal(after.active, false);
  assert.equal((await call('GET', '/v1/runtime/secrets/prov.prod')).status, 200, 'the slot is not deleted');
  // No new lease for the slot: the next run fails typed and the provider sees nothing.
  const before = fixture.requests.length;
  const refused = await runOn('s26', 'again', 'prov');
  assert.equal(refused.error_code, 'credential_revoked');
  assert.match(refused.error, /secret slot prov\.prod is revoked/);
  assert.equal(fixture.requests.length, before);
  // Rotating the slot (a new credential) lifts the revocation.
  assert.equal((await putSlot('prov.prod', PROVIDER_KEY)).status, 200);
  fixture.enqueue({ kind: 'text', deltas: ['back'] });
  assert.equal((await runOn('s26', 'again', 'prov')).status, 'completed');
  assertProblem(
    await call('POST', '/v1/runtime/auth/slots/no.such.slot/revoke'),
    404,
    'runtime',
    'secret_not_found',
  );
  assertProblem(await call('GET', '/v1/runtime/auth/leases/lease_nope'), 404, 'runtime', 'lease_not_found');
});

test('a slot revoked mid-run: the next model call of the running run fails with credential_revoked, nothing reaches the provider', async () => {
  await session('midrun');
  fixture.enqueue({
    kind: 'tool_call',
    id: 'call_w',
    name: 'write_file',
    args: { path: 'x.txt', content: 'x' },
  });
  const sub = await call('POST', '/v1/sessions/midrun/runs', { content: 'write it', provider: 'prov' });
  const parked = await waitForRun(d.url, sub.body.run_id, (r) => r.status === 'waiting_for_approval');
  const requests = fixture.requests.length;
  assert.equal((await call('POST', '/v1/runtime/auth/slots/prov.prod/revoke')).status, 200);
  const resolutions = parked.pending_approval_ids.map((id: string) => ({
    request_id: id,
    behavior: 'allow',
  }));
  assert.equal((await call('POST', `/v1/runs/${parked.run_id}/approvals`, { resolutions })).status, 202);
  const done = await waitForRun(d.url, parked.run_id);
  assert.equal(done.status, 'failed');
  assert.equal(done.error_code, 'credential_revoked');
  assert.equal(fixture.requests.length, requests, 'no request after the revocation');
  assert.equal((await putSlot('prov.prod', PROVIDER_KEY)).status, 200);
});

test('the daemon subject: a model hook on a revoked slot fails closed before any provider call', async () => {
  const hooks = (mode: string) => ({
    settings: {
      hooks: {
        session_start: [
          {
            name: 'guard',
            executor: { type: 'prompt', template: 'guard {{invocation_json}}', model: { provider: 'prov' } },
            failure_policy: { mode },
          },
        ],
      },
    },
  });
  assert.equal((await call('POST', '/v1/runtime/hooks', hooks('closed'))).status, 200);
  fixture.enqueue({ kind: 'text', deltas: ['{"continue_execution": true}'] });
  assert.equal((await call('POST', '/v1/sessions', { session_id: 'hooked-1' })).status, 201);
  const leases = (await subject('daemon')).active_route_lease_ids;
  assert.equal(leases.length, 1, 'the hook call resolved as the daemon subject');
  assert.equal((await call('POST', '/v1/runtime/auth/slots/prov.prod/revoke')).status, 200);
  const before = fixture.requests.length;
  const blocked = await call('POST', '/v1/sessions', { session_id: 'hooked-2' });
  assertProblem(blocked, 409, 'sessions', 'session_start_blocked');
  assert.match(blocked.body.detail, /secret slot prov\.prod is revoked/);
  assert.equal(fixture.requests.length, before);
  assert.equal((await call('POST', '/v1/runtime/hooks', { settings: { hooks: {} } })).status, 200);
  assert.equal((await putSlot('prov.prod', PROVIDER_KEY)).status, 200);
});

test('ops-runtime #27: revoke-subject session:X reports revoked: true and later resolutions for X fail', async () => {
  await session('s27');
  await session('s27-other');
  fixture.enqueue({ kind: 'text', deltas: ['for the other session'] });
  const fresh = await subject('session:s27');
  assert.deepEqual(fresh, {
    subject_id: 'session:s27',
    current_epoch: 0,
    revoked: false,
    active_connector_lease_ids: [],
    active_route_lease_ids: [],
    active_mcp_lease_ids: [],
  });
  const res = await call('POST', '/v1/runtime/auth/subjects/session:s27/revoke');
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.revoked, true);
  assert.equal(res.body.current_epoch, 1);
  assert.equal((await subject('session:s27')).revoked, true);
  const before = fixture.requests.length;
  const refused = await runOn('s27', 'hello', 'prov');
  assert.equal(refused.error_code, 'credential_revoked');
  assert.match(refused.error, /auth subject session:s27 is revoked/);
  assert.equal(fixture.requests.length, before);
  // Another subject is untouched.
  assert.equal((await runOn('s27-other', 'hello', 'prov')).status, 'completed');
  assertProblem(
    await call('GET', '/v1/runtime/auth/subjects/robot:1'),
    400,
    'runtime',
    'invalid_auth_subject',
  );
  assert.equal((await subject('daemon')).revoked, false);
});

test('leases expire: past the TTL a lease is inactive (not revoked) and the next call gets a new one', async () => {
  await session('ttl');
  fixture.enqueue({ kind: 'text', deltas: ['one'] });
  assert.equal((await runOn('ttl', 'hello', 'prov')).status, 'completed');
  const [first] = (await subject('session:ttl')).active_route_lease_ids;
  await sleep(TTL_MS + 200);
  const expired = (await call('GET', `/v1/runtime/auth/leases/${first}`)).body;
  assert.deepEqual([expired.active, expired.revoked], [false, false]);
  assert.deepEqual((await subject('session:ttl')).active_route_lease_ids, []);
  fixture.enqueue({ kind: 'text', deltas: ['two'] });
  assert.equal((await runOn('ttl', 'hello', 'prov')).status, 'completed');
  const [second] = (await subject('session:ttl')).active_route_lease_ids;
  assert.ok(second && second !== first);
  // A revoked lease is dead at once; the holder's next resolution gets a fresh lease.
  const rev = await call('POST', `/v1/runtime/auth/leases/${second}/revoke`);
  assert.deepEqual([rev.status, rev.body.revoked, rev.body.active], [200, true, false]);
  // /v1/status counts the broker's work: leases issued, reused from memory, refused.
  const status = (await call('GET', '/v1/status')).body.credentials;
  assert.equal(status.lease_ttl_ms, TTL_MS);
  assert.ok(
    status.issued >= 2 && status.refused >= 1 && status.revocation_epoch >= 1,
    JSON.stringify(status),
  );
});

test('CLI runtime auth: subject, lease, revoke-lease, revoke-subject, revoke-slot, accounts list/get', async () => {
  const cli = (...args: string[]) => {
    const r = spawnSync(BIN, ['--base-url', d.url, ...args], { encoding: 'utf8', timeout: 60_000 });
    texts.push(r.stdout, r.stderr);
    return r;
  };
  await session('cli-s');
  fixture.enqueue({ kind: 'text', deltas: ['cli'] });
  assert.equal((await runOn('cli-s', 'hello', 'prov')).status, 'completed');
  let r = cli('--output', 'json', 'runtime', 'auth', 'subject', 'session:cli-s');
  assert.equal(r.status, 0, r.stderr);
  const [leaseId] = JSON.parse(r.stdout).active_route_lease_ids;
  r = cli('runtime', 'auth', 'lease', leaseId);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /state:\s+active/);
  r = cli('runtime', 'auth', 'revoke-lease', leaseId);
  assert.match(r.stdout, /state:\s+revoked/);
  r = cli('runtime', 'auth', 'revoke-subject', 'agent:cli-nobody');
  assert.match(r.stdout, /revoked:\s+yes/);
  r = cli('runtime', 'auth', 'revoke-slot', 'prov.prod');
  assert.match(r.stdout, /^revoked slot prov\.prod/);
  assert.equal((await putSlot('prov.prod', PROVIDER_KEY)).status, 200);
  r = cli('runtime', 'auth', 'accounts', 'list');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /no accounts/);
  r = cli('runtime', 'auth', 'accounts', 'get', 'prov.prod');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /only oauth_account slots are accounts/);
  r = cli('runtime', 'auth', 'lease', 'lease_nope');
  assert.notEqual(r.status, 0);
});
