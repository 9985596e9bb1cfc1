// A credential revocation given to one PostgreSQL replica stops the next provider call on the
// other (docs/credentials.md, decision 174): both replicas hold cached leases for the session's
// route when replica A revokes, and every later run fails with credential_revoked whichever
// replica accepted or executes it. Always on PostgreSQL (its own schema).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { FixtureServer } from '../fixtures/providers/harness.ts';
import { startOpenAiCompatibleServer } from '../fixtures/providers/openai-compatible-server.ts';
import {
  BIN,
  http,
  startDaemon,
  startReplica,
  type TestDaemon,
  tempDir,
  waitForRun,
} from '../helpers/daemon.ts';
import { type FreshSchema, freshSchema } from '../helpers/pg-schema.ts';

const KEY = spawnSync(BIN, ['secrets', 'generate'], { encoding: 'utf8' }).stdout.trim();
let fixture: FixtureServer | undefined;
let schema: FreshSchema | undefined;
const daemons: TestDaemon[] = [];
after(async () => {
  for (const d of daemons) {
    if (d.proc.exitCode === null && d.proc.signalCode === null) await d.stop().catch(() => undefined);
    await d.cleanup();
  }
  await schema?.drop();
  await fixture?.close();
});

async function runOn(d: TestDaemon, sid: string) {
  const sub = await http(d.url, 'POST', `/v1/sessions/${sid}/runs`, { content: 'hello', provider: 'prov' });
  assert.equal(sub.status, 202, sub.text);
  return waitForRun(d.url, sub.body.run_id);
}

test('replicas: a slot or subject revoked on replica A stops the next model call on replica B', async () => {
  fixture = await startOpenAiCompatibleServer();
  schema = await freshSchema();
  const env = { KHEISH_AUTH_STORE_MASTER_KEY: KEY };
  const first = await startDaemon({
    databaseUrl: schema.url,
    env,
    script: { default: { turns: [{ text: 'ok' }] } },
  });
  daemons.push(first);
  const slot = {
    slot_id: 'prov.prod',
    provider: 'generic',
    mode: 'opaque_secret',
    state: { value: 'replica-key' },
  };
  assert.equal((await http(first.url, 'POST', '/v1/runtime/secrets', slot)).status, 200);
  await first.stop();
  const dir = tempDir('kheish-replica-creds-');
  const routes = `version = 1\ndefault_route = "prov"\n\n[routes.prov]\ndriver = "openai_compatible"\ndefault_model = "llama-replica"\nbase_url = "${fixture.origin}"\nauth_ref = "prov.prod"\n`;
  writeFileSync(join(dir, 'routes.toml'), routes);
  const a = await first.restart({ args: ['--routes-file', join(dir, 'routes.toml')] });
  daemons.push(a);
  const b = await startReplica(a, { env, args: ['--routes-file', join(dir, 'routes.toml')] });
  daemons.push(b);

  await http(a.url, 'POST', '/v1/sessions', { session_id: 'rep' });
  // Warm both replicas' lease caches (each submit may execute on either replica).
  for (let k = 0; k < 4; k++) {
    fixture.enqueue({ kind: 'text', deltas: [`warm ${k}`] });
    assert.equal((await runOn(k % 2 ? b : a, 'rep')).status, 'completed');
  }
  const requests = fixture.requests.length;
  assert.equal((await http(a.url, 'POST', '/v1/runtime/auth/slots/prov.prod/revoke')).status, 200);
  for (const d of [b, a, b]) assert.equal((await runOn(d, 'rep')).error_code, 'credential_revoked');
  assert.equal(fixture.requests.length, requests, 'no replica called the provider after the revocation');

  // Rotation through B lifts it everywhere; a subject revoked through B binds A.
  assert.equal((await http(b.url, 'POST', '/v1/runtime/secrets', slot)).status, 200);
  for (let k = 0; k < 2; k++) {
    fixture.enqueue({ kind: 'text', deltas: [`again ${k}`] });
    assert.equal((await runOn(k % 2 ? b : a, 'rep')).status, 'completed');
  }
  assert.equal((await http(b.url, 'POST', '/v1/runtime/auth/subjects/session:rep/revoke')).status, 200);
  for (const d of [a, b]) assert.equal((await runOn(d, 'rep')).error_code, 'credential_revoked');
  assert.equal((await http(a.url, 'GET', '/v1/runtime/auth/subjects/session:rep')).body.revoked, true);
});
