// ops-runtime §2.6 / §4.6: `doctor` adds the daemon's own checks (disk, store integrity, master
// key, workspace, sandbox, routes file, hooks, MCP, connectors) to the status checks, each failing
// one with an action; `doctor routes` reports route_file_drift and, on request, slot problems,
// stale route references and a canary run. Runs on SQLite and (KHEISH_TEST_STORE=postgres) PostgreSQL.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BIN, http, startDaemon, type TestDaemon, tempDir } from '../helpers/daemon.ts';

const ADMIN = 'doctor-admin-token';
const READER = 'doctor-reader-token';
const KEY = Buffer.alloc(32, 3).toString('base64');
const dir = tempDir('kheish-doctor-');
const routesFile = join(dir, 'routes.toml');
writeFileSync(join(dir, 'echo.json'), JSON.stringify({ default: { turns: [{ text: 'ok' }] } }));
writeFileSync(join(dir, 'hang.json'), JSON.stringify({ default: { turns: [{ hang: true }] } }));
const scripted = (id: string, file: string) =>
  `[routes.${id}]\ndriver = "scripted"\ndefault_model = "scripted"\nscript_file = "${file}"\n`;
const FIRST = `version = 1\ndefault_route = "local"\n${scripted('local', 'echo.json')}${scripted('extra', 'echo.json')}${scripted('stuck', 'hang.json')}`;
writeFileSync(routesFile, FIRST);

let d: TestDaemon;
before(async () => {
  d = await startDaemon({
    args: [
      '--routes-file',
      routesFile,
      '--workspace-root',
      join(dir, 'ws'),
      '--http-admin-token',
      ADMIN,
      '--http-readonly-token',
      READER,
    ],
    env: { KHEISH_AUTH_STORE_MASTER_KEY: KEY },
  });
});
after(async () => {
  await d?.stop();
  await d?.cleanup();
});

function cli(args: string[], token = ADMIN) {
  const r = spawnSync(BIN, ['--base-url', d.url, '--token', token, '--output', 'json', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, json: r.stdout ? JSON.parse(r.stdout) : null, stderr: r.stderr };
}

const byName = (checks: any[], name: string) => checks.filter((c) => c.name === name);

test('ops-runtime §2.6: doctor --output json carries the daemon-side checks, each problem with an action', () => {
  const r = cli(['doctor']);
  assert.equal(r.code, 0, r.stderr);
  const names = new Set(r.json.checks.map((c: any) => c.name));
  for (const name of [
    'status',
    'storage',
    'readyz',
    'events_stream',
    'disk_space',
    'master_key',
    'workspace',
    'sandbox',
    'route_file',
    'hooks',
    'mcp',
    'connectors',
  ])
    assert.ok(names.has(name), `check ${name}`);
  const store = d.databaseUrl ? ['store_reachable', 'store_migrations'] : ['store_integrity'];
  for (const name of store) assert.equal(byName(r.json.checks, name)[0]?.severity, 'ok', name);
  assert.equal(byName(r.json.checks, 'master_key')[0].severity, 'ok');
  assert.match(byName(r.json.checks, 'master_key')[0].message, /opens the secret store/);
  assert.equal(byName(r.json.checks, 'route_file')[0].code, 'ok');
  for (const c of r.json.checks)
    if (c.severity === 'warning' || c.severity === 'error') assert.ok(c.action, `${c.code} has an action`);
  // --no-integrity skips the whole-file read.
  const quick = cli(['doctor', '--no-integrity']);
  assert.equal(byName(quick.json.checks, 'store_integrity').length, 0);
});

test('ops-runtime §2.6: with a read-only token doctor says the daemon-side checks need the admin token', () => {
  const r = cli(['doctor'], READER);
  const c = byName(r.json.checks, 'daemon_checks')[0];
  assert.equal(c.code, 'daemon_checks_need_admin');
  assert.equal(c.severity, 'info');
});

test('ops-runtime §4.6: doctor routes --canary passes on a working route and times out on a hanging one', () => {
  const ok = cli(['doctor', 'routes', '--canary']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.json.canary.status, 'passed');
  assert.equal(ok.json.canary.route_id, 'local');
  assert.match(ok.json.canary.run_id, /^run-/);
  const stuck = cli(['doctor', 'routes', '--route', 'stuck', '--canary', '--canary-timeout-ms', '800']);
  assert.equal(stuck.code, 1);
  assert.equal(stuck.json.canary.status, 'timeout');
  assert.deepEqual(
    stuck.json.routes.map((r: any) => r.route_id),
    ['stuck'],
  );
  const refused = spawnSync(BIN, ['doctor', 'routes', '--routes-file', routesFile, '--check-references'], {
    encoding: 'utf8',
  });
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /--check-references needs the running daemon/);
});

test('ops-runtime §4.6: route_file_drift, --check-auth and --check-references after the routes file changes', async () => {
  const admin = { authorization: `Bearer ${ADMIN}` };
  const session = (await http(d.url, 'POST', '/v1/sessions', {}, admin)).body.session_id;
  const policy = await http(
    d.url,
    'POST',
    `/v1/sessions/${session}/route-policy`,
    { route_policy: { provider: 'extra' } },
    admin,
  );
  assert.equal(policy.status, 200, policy.text);
  const slot = {
    slot_id: 'openai.prod',
    provider: 'anthropic',
    mode: 'api_key',
    state: { api_key: 'sk-ant-test' },
  };
  const put = await http(d.url, 'POST', '/v1/runtime/secrets', slot, admin);
  assert.equal(put.status, 200, put.text);

  writeFileSync(routesFile, `${FIRST}\n# edited\n`);
  const drift = cli(['doctor', 'routes']);
  assert.equal(drift.code, 0);
  assert.equal(drift.json.diagnostics[0].code, 'route_file_drift');
  assert.equal(drift.json.diagnostics[0].action, `kheish-daemon doctor routes --routes-file ${routesFile}`);

  // The file loses `extra` and gains a route whose slot holds another provider's credential.
  writeFileSync(
    routesFile,
    `version = 1\ndefault_route = "local"\n${scripted('local', 'echo.json')}${scripted('stuck', 'hang.json')}[routes.oa]\ndriver = "openai"\ndefault_model = "gpt-5.4-mini"\nauth_ref = "openai.prod"\n`,
  );
  await d.stop();
  d = await d.restart();
  const r = cli(['doctor', 'routes', '--check-auth', '--check-references']);
  assert.equal(r.code, 1, r.stderr);
  const codes = r.json.diagnostics.map((c: any) => c.code);
  assert.ok(codes.includes('auth_slot_provider_mismatch'), codes.join());
  const mismatch = r.json.diagnostics.find((c: any) => c.code === 'auth_slot_provider_mismatch');
  assert.equal(mismatch.action, 'kheish-daemon secrets set openai.prod --provider openai');
  const stale = r.json.diagnostics.find((c: any) => c.code === 'stale_session_route_policy');
  assert.equal(stale?.related_id, session);
  assert.equal(stale.action, `kheish-daemon sessions set-route ${session} --clear`);
  assert.equal(r.json.diagnostics.find((c: any) => c.name === 'route_file').code, 'ok');
  // The printed fix works as printed.
  const [, ...fix] = stale.action.split(' ');
  const ran = spawnSync(BIN, ['--base-url', d.url, '--token', ADMIN, ...fix], { encoding: 'utf8' });
  assert.equal(ran.status, 0, ran.stderr);
  const again = cli(['doctor', 'routes', '--check-references']);
  assert.ok(!again.json.diagnostics.some((c: any) => c.code === 'stale_session_route_policy'));
});
