// Credential revocations are durable (docs/credentials.md): a subject, lease or slot revoked just
// before a SIGKILL stays revoked after the restart, and a run parked before the crash that resumes
// afterwards cannot reach the provider with the revoked slot.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { FixtureServer } from '../fixtures/providers/harness.ts';
import { startOpenAiCompatibleServer } from '../fixtures/providers/openai-compatible-server.ts';
import { BIN, http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';

const KEY = spawnSync(BIN, ['secrets', 'generate'], { encoding: 'utf8' }).stdout.trim();
const PROVIDER_KEY = `crash-${Math.random().toString(36).slice(2)}-key`;

let fixture: FixtureServer | undefined;
let d: TestDaemon | undefined;
after(async () => {
  await d?.kill();
  await d?.cleanup();
  await fixture?.close();
});

async function runOn(sid: string, content: string) {
  const sub = await http(d!.url, 'POST', `/v1/sessions/${sid}/runs`, { content, provider: 'prov' });
  assert.equal(sub.status, 202, sub.text);
  return waitForRun(d!.url, sub.body.run_id);
}

test('crash: revoked subject, lease and slot survive SIGKILL; a parked run resumed after the crash is refused', async () => {
  fixture = await startOpenAiCompatibleServer();
  const env = { KHEISH_AUTH_STORE_MASTER_KEY: KEY };
  d = await startDaemon({ script: { default: { turns: [{ text: 'ok' }] } }, env });
  const put = await http(d.url, 'POST', '/v1/runtime/secrets', {
    slot_id: 'prov.prod',
    provider: 'generic',
    mode: 'opaque_secret',
    state: { value: PROVIDER_KEY },
  });
  assert.equal(put.status, 200, put.text);
  await d.stop();
  const dir = tempDir('kheish-crash-creds-');
  writeFileSync(
    join(dir, 'routes.toml'),
    `version = 1\ndefault_route = "prov"\n\n[routes.prov]\ndriver = "openai_compatible"\ndefault_model = "llama-crash"\nbase_url = "${fixture.origin}"\nauth_ref = "prov.prod"\n`,
  );
  d = await d.restart({ args: ['--routes-file', join(dir, 'routes.toml')] });

  for (const sid of ['c1', 'c2']) await http(d.url, 'POST', '/v1/sessions', { session_id: sid });
  fixture.enqueue({ kind: 'text', deltas: ['fine'] });
  assert.equal((await runOn('c1', 'hello')).status, 'completed');
  const status = (await http(d.url, 'GET', '/v1/runtime/auth/subjects/session:c1')).body;
  const [leaseId] = status.active_route_lease_ids;
  assert.ok(leaseId);
  // c2 parks on an approval before the crash.
  fixture.enqueue({
    kind: 'tool_call',
    id: 'w1',
    name: 'write_file',
    args: { path: 'c2.txt', content: 'x' },
  });
  const sub = await http(d.url, 'POST', '/v1/sessions/c2/runs', { content: 'write', provider: 'prov' });
  const parked = await waitForRun(d.url, sub.body.run_id, (r) => r.status === 'waiting_for_approval');

  // Revocations acknowledged, then SIGKILL at once.
  assert.equal((await http(d.url, 'POST', `/v1/runtime/auth/leases/${leaseId}/revoke`)).status, 200);
  assert.equal((await http(d.url, 'POST', '/v1/runtime/auth/subjects/session:c1/revoke')).status, 200);
  await d.kill();
  d = await d.restart();
  assert.equal((await http(d.url, 'GET', `/v1/runtime/auth/leases/${leaseId}`)).body.revoked, true);
  const after1 = (await http(d.url, 'GET', '/v1/runtime/auth/subjects/session:c1')).body;
  assert.deepEqual([after1.revoked, after1.current_epoch], [true, 1]);
  const requests = fixture.requests.length;
  const refused = await runOn('c1', 'again');
  assert.equal(refused.error_code, 'credential_revoked');

  // The slot revoked, SIGKILL, restart: c2's approved continuation fails typed, nothing sent.
  assert.equal((await http(d.url, 'POST', '/v1/runtime/auth/slots/prov.prod/revoke')).status, 200);
  await d.kill();
  d = await d.restart();
  const still = await waitForRun(d.url, parked.run_id, (r) => r.status === 'waiting_for_approval');
  const resolutions = still.pending_approval_ids.map((id: string) => ({ request_id: id, behavior: 'allow' }));
  assert.equal(
    (await http(d.url, 'POST', `/v1/runs/${parked.run_id}/approvals`, { resolutions })).status,
    202,
  );
  const done = await waitForRun(d.url, parked.run_id);
  assert.equal(done.status, 'failed');
  assert.equal(done.error_code, 'credential_revoked');
  assert.equal(fixture.requests.length, requests, 'the provider got nothing after the revocations');
  assert.ok(!d.logs().includes(PROVIDER_KEY));
});
