// docs/credentials.md, followed as written: its session JSON is posted, its failure examples are
// compared with what the daemon really answers, and each of its `kheish-daemon runtime auth …`
// lines runs against a daemon whose `prov` route is a real provider (OpenAI-compatible server on
// loopback) keyed by the secret slot `prov.prod`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import type { FixtureServer } from '../fixtures/providers/harness.ts';
import { startOpenAiCompatibleServer } from '../fixtures/providers/openai-compatible-server.ts';
import { BIN, http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { fencedBlocks } from './markdown.ts';

const PAGE = 'docs/credentials.md';
const text = readFileSync(resolve(import.meta.dirname, '../..', PAGE), 'utf8');
const blocks = fencedBlocks(PAGE, text);
const json = blocks.filter((b) => b.lang === 'json').map((b) => JSON.parse(b.body));
const commands = blocks
  .filter((b) => b.lang === 'sh')
  .flatMap((b) => b.body.split('\n'))
  .filter((l) => l.startsWith('kheish-daemon '));
const line = (start: string) => {
  const found = commands.find((c) => c.startsWith(start));
  assert.ok(found, `${PAGE} has a line starting with ${start}`);
  return found;
};
const KEY = spawnSync(BIN, ['secrets', 'generate'], { encoding: 'utf8' }).stdout.trim();
const PLACEHOLDER_LEASE = 'lease_01JF2K3M4N5P6Q7R8S9T0V1W2X';

let fixture: FixtureServer;
let d: TestDaemon;

function cli(commandLine: string, replace: Record<string, string> = {}) {
  let l = commandLine;
  for (const [from, to] of Object.entries(replace)) l = l.replaceAll(from, to);
  const words = l.split(/\s+/).slice(1);
  return spawnSync(BIN, ['--base-url', d.url, ...words], { encoding: 'utf8', timeout: 30_000 });
}

async function runOn(sid: string, provider: string) {
  const sub = await http(d.url, 'POST', `/v1/sessions/${sid}/runs`, { content: 'hello', provider });
  assert.equal(sub.status, 202, sub.text);
  return waitForRun(d.url, sub.body.run_id);
}

before(async () => {
  fixture = await startOpenAiCompatibleServer();
  const env = { KHEISH_AUTH_STORE_MASTER_KEY: KEY };
  d = await startDaemon({ script: { default: { turns: [{ text: 'ok' }] } }, env });
  const slot = {
    slot_id: 'prov.prod',
    provider: 'generic',
    mode: 'opaque_secret',
    state: { value: 'doc-key-1' },
  };
  assert.equal((await http(d.url, 'POST', '/v1/runtime/secrets', slot)).status, 200);
  await d.stop();
  const dir = tempDir('kheish-creds-doc-');
  writeFileSync(join(dir, 'script.json'), JSON.stringify({ default: { turns: [{ text: 'ok' }] } }));
  writeFileSync(
    join(dir, 'routes.toml'),
    `version = 1\ndefault_route = "local"\n\n[routes.local]\ndriver = "scripted"\ndefault_model = "scripted"\nscript_file = "script.json"\n\n[routes.prov]\ndriver = "openai_compatible"\ndefault_model = "llama-doc"\nbase_url = "${fixture.origin}"\nauth_ref = "prov.prod"\n`,
  );
  d = await d.restart({ args: ['--routes-file', join(dir, 'routes.toml')] });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
  await fixture?.close();
});

test('docs/credentials.md: the reviewer session is held to its scope, with the failure the page shows', async () => {
  const body = json.find((j) => j.session_id === 'reviewer');
  assert.ok(body, 'the page has the reviewer session body');
  assert.equal((await http(d.url, 'POST', '/v1/sessions', body)).status, 201);
  const shown = json.find((j) => j.error_code === 'route_blocked_by_credential_scope');
  const refused = await runOn('reviewer', 'prov');
  assert.deepEqual({ status: refused.status, error_code: refused.error_code, error: refused.error }, shown);
  assert.equal((await runOn('reviewer', 'local')).status, 'completed');
  assert.equal(fixture.requests.length, 0);
});

test('docs/credentials.md: subject and lease lines, the default TTL, revocation lines and the run failure they cause', async () => {
  assert.equal((await http(d.url, 'POST', '/v1/sessions', { session_id: 'writer' })).status, 201);
  fixture.enqueue({ kind: 'text', deltas: ['written'] });
  assert.equal((await runOn('writer', 'prov')).status, 'completed');
  let r = cli(
    line('kheish-daemon runtime auth subject').replace('kheish-daemon', 'kheish-daemon --output json'),
  );
  assert.equal(r.status, 0, r.stderr);
  const status = JSON.parse(r.stdout);
  const example = json.find((j) => j.subject_id === 'session:writer');
  assert.deepEqual(Object.keys(status).sort(), Object.keys(example).sort());
  assert.equal(status.active_route_lease_ids.length, 1);
  const leaseId = status.active_route_lease_ids[0] as string;
  r = cli(line('kheish-daemon runtime auth lease'), { [PLACEHOLDER_LEASE]: leaseId });
  assert.equal(r.status, 0, r.stderr);
  const lease = (await http(d.url, 'GET', `/v1/runtime/auth/leases/${leaseId}`)).body;
  assert.match(text, /\(default 300000, minimum 100\)/);
  assert.equal(lease.lease.expires_at_ms - lease.lease.issued_at_ms, 300_000);
  assert.deepEqual(lease.lease.audience, { type: 'route', route_id: 'prov', slot_id: 'prov.prod' });

  r = cli(line('kheish-daemon runtime auth revoke-lease'), { [PLACEHOLDER_LEASE]: leaseId });
  assert.equal(r.status, 0, r.stderr);
  assert.equal((await http(d.url, 'GET', `/v1/runtime/auth/leases/${leaseId}`)).body.revoked, true);
  r = cli(line('kheish-daemon runtime auth revoke-slot'));
  assert.equal(r.status, 0, r.stderr);
  const failed = await runOn('writer', 'prov');
  assert.equal(failed.error_code, 'credential_revoked');
  assert.ok(text.includes(`\`${failed.error}\``), `the page shows ${failed.error}`);
  r = cli(line('kheish-daemon runtime auth revoke-subject'));
  assert.equal(r.status, 0, r.stderr);
  assert.equal((await http(d.url, 'GET', '/v1/runtime/auth/subjects/session:reviewer')).body.revoked, true);
  // Rewriting the slot lifts its revocation, as the page says.
  const slot = {
    slot_id: 'prov.prod',
    provider: 'generic',
    mode: 'opaque_secret',
    state: { value: 'doc-key-2' },
  };
  assert.equal((await http(d.url, 'POST', '/v1/runtime/secrets', slot)).status, 200);
  fixture.enqueue({ kind: 'text', deltas: ['again'] });
  assert.equal((await runOn('writer', 'prov')).status, 'completed');
  // A slot a route names cannot be deleted.
  const del = await http(d.url, 'DELETE', '/v1/runtime/secrets/prov.prod');
  assert.equal(del.status, 409);
  assert.equal(del.body.code, 'secret_in_use');
});

test('docs/credentials.md: the accounts lines, and the error table', async () => {
  const acme = {
    slot_id: 'mcp.oauth.acme',
    server_name: 'acme',
    resource: 'https://mcp.example.com/mcp',
    access_token: 'doc-access-token',
  };
  assert.equal((await http(d.url, 'POST', '/v1/runtime/auth/accounts/mcp-oauth', acme)).status, 200);
  let r = cli(line('kheish-daemon runtime auth accounts list'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /mcp\.oauth\.acme/);
  r = cli(line('kheish-daemon runtime auth accounts get'));
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!r.stdout.includes('doc-access-token'));
  r = cli(line('kheish-daemon runtime auth accounts revoke'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /revoked slot mcp\.oauth\.acme/);
  const codes = [
    [await http(d.url, 'GET', '/v1/runtime/auth/subjects/robot'), 400, 'invalid_auth_subject'],
    [await http(d.url, 'GET', '/v1/runtime/auth/leases/lease_none'), 404, 'lease_not_found'],
    [await http(d.url, 'POST', '/v1/runtime/auth/slots/none.here/revoke'), 404, 'secret_not_found'],
    [await http(d.url, 'GET', '/v1/runtime/auth/accounts/prov.prod'), 409, 'not_an_oauth_account'],
  ] as const;
  for (const [res, status, code] of codes) {
    assert.equal(res.status, status, res.text);
    assert.equal(res.body.code, code);
    assert.ok(text.includes(`\`runtime/${code}\``), `the page lists ${code}`);
  }
  const deleted = await http(d.url, 'DELETE', '/v1/runtime/auth/accounts/mcp.oauth.acme');
  assert.deepEqual([deleted.status, deleted.body], [200, { accepted: true }]);
});
