// ops-runtime §2.6 / §4.6, the failure paths of `doctor` (decisions #584, #590-#592): an MCP server
// that cannot be reached, HTTP hooks whose host resolves to a loopback address or not at all, a
// route whose secret slot is missing or expired, and a connector process that exits. Each shows
// the documented severity and an action; where the action is a command it is run exactly as
// printed (secret on stdin) and the check turns ok. Runs on SQLite and (KHEISH_TEST_STORE=postgres)
// PostgreSQL.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateMasterKeyText } from '../../src/secrets/crypto.ts';
import { BIN, http, startDaemon, type TestDaemon, tempDir } from '../helpers/daemon.ts';
import { NODE, writeMcpConfig } from '../helpers/mcp.ts';

const dir = tempDir('kheish-doctor-fail-');
const env = { KHEISH_AUTH_STORE_MASTER_KEY: generateMasterKeyText() };
let d: TestDaemon;
let deadPort: number;
let hookPort: number;

/** A port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

before(async () => {
  deadPort = await closedPort();
  hookPort = await closedPort();
  writeFileSync(join(dir, 'echo.json'), JSON.stringify({ default: { turns: [{ text: 'ok' }] } }));
  const routes = join(dir, 'routes.toml');
  writeFileSync(
    routes,
    [
      'version = 1',
      'default_route = "local"',
      '[routes.local]\ndriver = "scripted"\ndefault_model = "scripted"\nscript_file = "echo.json"',
      '[routes.oa]\ndriver = "openai"\ndefault_model = "gpt-5.4-mini"\nauth_ref = "openai.prod"',
      '[routes.ob]\ndriver = "openai"\ndefault_model = "gpt-5.4-mini"\nauth_ref = "openai.old"',
      '',
    ].join('\n'),
  );
  const mcp = writeMcpConfig(dir, `[mcp_servers.gone]\nurl = "http://127.0.0.1:${deadPort}/mcp"\n`);
  const connectors = join(dir, 'connectors.toml');
  writeFileSync(
    connectors,
    [
      '[[external_connectors]]',
      'name = "crashy"',
      'platform = "test"',
      'mode = "child_process"',
      `base_url = "http://127.0.0.1:${deadPort}"`,
      'shared_token_env = "DOCTOR_FAIL_SHARED"',
      '',
      '[external_connectors.child_process]',
      `command = ${JSON.stringify(NODE)}`,
      `args = ["-e", "console.error('crashy: cannot open its config'); process.exit(3)"]`,
    ].join('\n'),
  );
  // The daemon refuses to start with a route whose slot does not exist: the slots are written on a
  // first boot, then the routes come in; the test deletes one slot later on the running daemon.
  d = await startDaemon({ env });
  for (const slot of [
    { slot_id: 'openai.prod', provider: 'openai', mode: 'api_key', state: { api_key: 'sk-first-key' } },
    {
      slot_id: 'openai.old',
      provider: 'openai',
      mode: 'oauth_account',
      state: { access_token: 'old-access-token', expires_at_ms: Date.now() + 2_000 },
    },
  ])
    assert.equal((await http(d.url, 'POST', '/v1/runtime/secrets', slot)).status, 200);
  await d.stop();
  d = await d.restart({
    args: [
      '--routes-file',
      routes,
      '--mcp-discovery',
      'disabled',
      '--mcp-config',
      mcp,
      '--connectors-config',
      connectors,
    ],
    env: {
      ...env,
      DOCTOR_FAIL_SHARED: 'doctor-fail-shared-token',
      // Lets the hook below be saved; doctor still resolves the name and judges the answer.
      KHEISH_TEST_HOOK_ALLOW_TARGETS: `localhost:${hookPort}`,
    },
  });
});
after(async () => {
  await d?.stop();
  await d?.cleanup();
});

function cli(args: string[], input?: string) {
  const r = spawnSync(BIN, ['--base-url', d.url, '--output', 'json', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    input,
  });
  return { code: r.status, json: r.stdout ? JSON.parse(r.stdout) : null, stderr: r.stderr, stdout: r.stdout };
}

// `kheish-daemon` on the PATH, as an operator has it, so a printed line runs as printed in a shell.
const binDir = tempDir('kheish-doctor-bin-');
symlinkSync(BIN, join(binDir, 'kheish-daemon'));

/** Runs a printed line in `sh`, with the operator's environment (the daemon URL, the master key). */
function runAction(line: string, input?: string, extraEnv: Record<string, string> = {}) {
  assert.match(line, /^kheish-daemon /);
  return spawnSync('sh', ['-c', line], {
    encoding: 'utf8',
    timeout: 60_000,
    input,
    env: {
      ...process.env,
      ...env,
      ...extraEnv,
      PATH: `${binDir}:${process.env.PATH}`,
      KHEISH_DAEMON_URL: d.url,
    },
  });
}

const find = (checks: any[], name: string, related?: string) =>
  checks.find((c) => c.name === name && (related === undefined || c.related_id === related));

test('ops-runtime §2.6: an unreachable MCP server is a warning naming the server, with the fix', () => {
  const r = cli(['doctor', '--no-integrity']);
  const c = find(r.json.checks, 'mcp', 'gone');
  assert.equal(c?.code, 'mcp_server_disconnected', r.stdout);
  assert.equal(c.severity, 'warning');
  assert.equal(c.ok, false);
  assert.match(c.message, /MCP server gone is not connected: /);
  assert.match(c.action, /--mcp-config/);
});

test('ops-runtime §2.6: a connector process that exited is a warning with its last error and the fix', async () => {
  const deadline = Date.now() + 15_000;
  let c: any;
  for (;;) {
    c = find(cli(['doctor', '--no-integrity']).json.checks, 'connectors', 'crashy');
    if (c?.code === 'connector_unhealthy') break;
    assert.ok(Date.now() < deadline, `connector never reported unhealthy: ${JSON.stringify(c)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(c.severity, 'warning');
  assert.match(c.message, /^connector crashy is (backoff|exited|failed)/);
  assert.match(c.action, /kheish-daemon external-connectors status/);
  assert.match(c.action, /--connectors-config/);
  // The status command the action names shows the same child.
  const status = spawnSync(BIN, ['--base-url', d.url, 'external-connectors', 'status'], { encoding: 'utf8' });
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stdout, /crashy/);
});

test('ops-runtime §2.6: a hook host resolving to loopback is an error, one that does not resolve a warning', async () => {
  const set = await http(d.url, 'POST', '/v1/runtime/hooks', {
    settings: {
      hooks: {
        session_start: [
          { name: 'inside', executor: { type: 'http', url: `http://localhost:${hookPort}/hook` } },
          { name: 'nowhere', executor: { type: 'http', url: 'http://kheish-doctor-test.invalid/hook' } },
        ],
      },
    },
  });
  assert.equal(set.status, 200, set.text);
  const r = cli(['doctor', '--no-integrity']);
  assert.equal(r.code, 1, 'an error-level check makes doctor exit 1');
  const inside = find(r.json.checks, 'hooks', 'inside');
  assert.equal(inside?.code, 'hook_host_private', r.stdout);
  assert.equal(inside.severity, 'error');
  assert.match(inside.message, /localhost resolves to (127\.0\.0\.1|::1)/);
  assert.match(inside.action, /point hook inside at a public host name/);
  const nowhere = find(r.json.checks, 'hooks', 'nowhere');
  assert.equal(nowhere?.code, 'hook_host_unresolved');
  assert.equal(nowhere.severity, 'warning');
  assert.match(nowhere.action, /kheish-doctor-test\.invalid/);
  // The fix: hooks that no longer point there (removed here); the check turns ok.
  assert.equal((await http(d.url, 'POST', '/v1/runtime/hooks', { settings: { hooks: {} } })).status, 200);
  const again = cli(['doctor', '--no-integrity']);
  assert.equal(find(again.json.checks, 'hooks')?.severity, 'ok');
});

test('ops-runtime §4.6: an expired route slot is an error; the printed `secrets set` fixes it as printed', async () => {
  const expiry = (await http(d.url, 'GET', '/v1/runtime/secrets/openai.old')).body.details.expires_at_ms;
  await new Promise((r) => setTimeout(r, Math.max(0, expiry - Date.now() + 50)));
  const r = cli(['doctor', 'routes', '--check-auth']);
  assert.equal(r.code, 1, r.stderr);
  const old = r.json.diagnostics.find((c: any) => c.related_id === 'ob');
  assert.deepEqual(
    [old.code, old.severity, old.action],
    ['auth_slot_expired', 'error', 'kheish-daemon secrets set openai.old --provider openai'],
  );
  assert.ok(
    !r.json.diagnostics.some((c: any) => c.related_id === 'oa' && c.severity !== 'ok'),
    'the other route is fine',
  );
  // The action as printed; the secret comes on stdin (the command's default source).
  const ran = runAction(old.action, 'sk-doctor-fixed-key-0123456789\n');
  assert.equal(ran.status, 0, ran.stderr);
  const fixed = cli(['doctor', 'routes', '--check-auth']);
  assert.equal(fixed.code, 0, fixed.stdout);
  assert.ok(
    !fixed.json.diagnostics.some((c: any) => c.name === 'route_auth' && c.severity !== 'ok'),
    JSON.stringify(fixed.json.diagnostics),
  );
});

test('ops-runtime §4.6: a missing route slot is refused while running (409) and at start, whose printed command fixes it', async () => {
  const removed = await http(d.url, 'DELETE', '/v1/runtime/secrets/openai.prod');
  assert.equal(removed.status, 409, 'a slot a route names cannot be deleted under the daemon');
  assert.equal(removed.body.code, 'secret_in_use');
  // Offline, with the daemon stopped, nothing stops the deletion: the next start refuses and
  // prints the command that creates the slot.
  await d.stop();
  const store = d.databaseUrl ? { KHEISH_DATABASE_URL: d.databaseUrl } : {};
  const del = spawnSync(BIN, ['secrets', 'delete', 'openai.prod', '--offline', '--state-root', d.stateRoot], {
    encoding: 'utf8',
    env: { ...process.env, ...env, ...store },
  });
  assert.equal(del.status, 0, del.stderr);
  const refused = await d.restart().then(
    () => assert.fail('the daemon started without the slot'),
    (err: Error) => err.message,
  );
  assert.match(refused, /routes name secret slots that do not exist: openai\.prod\b/);
  const printed = [...refused.matchAll(/`(kheish-daemon secrets set [^`]+)`/g)].map((m) => m[1]!);
  assert.equal(printed.length, 1, refused);
  // As printed, in a shell (the line quotes its arguments), with the operator's master key.
  const ran = runAction(printed[0]!, 'sk-doctor-recreated-key-0123456789\n');
  assert.equal(ran.status, 0, ran.stderr);
  d = await d.restart();
  const ok = cli(['doctor', 'routes', '--check-auth']);
  assert.equal(ok.code, 0, ok.stdout);
  const oa = ok.json.diagnostics.find((c: any) => c.name === 'route_auth' && /route oa:/.test(c.message));
  assert.equal(oa?.severity, 'ok', ok.stdout);
});
