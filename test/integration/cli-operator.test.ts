// The CLI against real daemons, as an operator types it: advice that runs as printed (cron), a port
// in use, run ordering, readable `runtime get`, the session commands of the published docs, bare
// `doctor`, and sandbox honesty (start-up warning, --require-sandbox).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sandboxStatus } from '../../src/tools/shell/sandbox.ts';
import { BIN, http, tempDir as newTempDir, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { unsandboxedPath } from '../helpers/unsandboxed-path.ts';

const bin = unsandboxedPath();
const scratch: string[] = [];
const tempDir = () => {
  const dir = newTempDir();
  scratch.push(dir);
  return dir;
};
const baseEnv = { ...process.env };
for (const name of ['KHEISH_DAEMON_TOKEN', 'KHEISH_DAEMON_TOKEN_FILE', 'KHEISH_REQUIRE_SANDBOX'])
  delete baseEnv[name];

let d: TestDaemon;
before(async () => {
  // Without bwrap on its PATH: the daemon must say at start-up that bash runs unsandboxed.
  d = await startDaemon({ script: { default: { turns: [{ text: 'ok' }] } }, env: { PATH: bin.dir } });
});
after(async () => {
  await d.stop();
  await d.cleanup();
  bin.remove();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(BIN, args, {
    encoding: 'utf8',
    env: { ...baseEnv, KHEISH_DAEMON_URL: d.url, ...env },
    timeout: 60_000,
  });

/** `serve` that is expected to exit: its code and output. */
function serveExit(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const p = spawn(BIN, ['serve', '--log-format', 'json', ...args], { env: { ...baseEnv, ...env } });
    let stderr = '';
    p.stderr.on('data', (c) => {
      stderr += c;
    });
    p.on('exit', (code) => resolve({ code, stderr }));
  });
}

test('the start-up log warns that bash runs unsandboxed when bwrap is missing', () => {
  const line = d
    .logs()
    .split('\n')
    .find((l) => l.includes('unsandboxed'));
  assert.ok(line, d.logs());
  const entry = JSON.parse(line) as { level: number; msg: string };
  assert.equal(entry.level, 40, 'a warning');
  assert.match(entry.msg, /install bubblewrap.*--require-sandbox/);
});

test('serve --require-sandbox (and KHEISH_REQUIRE_SANDBOX) refuses to start without bubblewrap', async () => {
  for (const [args, env] of [
    [['--require-sandbox'], {}],
    [[], { KHEISH_REQUIRE_SANDBOX: '1' }],
  ] as Array<[string[], Record<string, string>]>) {
    const root = tempDir();
    const r = await serveExit(['--bind', '127.0.0.1:0', '--state-root', root, ...args], {
      PATH: bin.dir,
      ...env,
    });
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^kheish-daemon: --require-sandbox: .*install bubblewrap/);
  }
});

test('serve --require-sandbox starts where bubblewrap works', {
  skip: !sandboxStatus().available,
}, async () => {
  const sandboxed = await startDaemon({ args: ['--require-sandbox'] });
  try {
    assert.ok(!sandboxed.logs().includes('unsandboxed'));
  } finally {
    await sandboxed.stop();
    await sandboxed.cleanup();
  }
});

test('a port in use is one line naming the address and the fix, without a stack trace', async () => {
  const port = new URL(d.url).port;
  const r = await serveExit(['--bind', `127.0.0.1:${port}`, '--state-root', tempDir()]);
  assert.equal(r.code, 2);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0]!,
    new RegExp(`127\\.0\\.0\\.1:${port}: the address is already in use.*--bind 127\\.0\\.0\\.1:<free port>`),
  );
});

test('runs list --order desc orders newest first without --page, with or without --limit', async () => {
  const ids: string[] = [];
  for (const text of ['one', 'two', 'three']) {
    const r = cli(['--output', 'json', 'runs', 'submit', 'order-s', text, '--wait']);
    assert.equal(r.status, 0, r.stderr);
    ids.push(JSON.parse(r.stdout).run_id);
  }
  const list = (...flags: string[]) => {
    const r = cli(['--output', 'json', 'runs', 'list', '--session-id', 'order-s', ...flags]);
    assert.equal(r.status, 0, r.stderr);
    return (JSON.parse(r.stdout) as Array<{ run_id: string }>).map((x) => x.run_id);
  };
  assert.deepEqual(list('--order', 'desc'), [...ids].reverse());
  assert.deepEqual(list('--order', 'desc', '--limit', '2'), [ids[2], ids[1]]);
  // The legacy array keeps its documented order: the last N, oldest first.
  assert.deepEqual(list('--limit', '2'), [ids[1], ids[2]]);
});

test('a five-field cron is refused with its six-field form, which is then accepted as printed', async () => {
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'cron-s' });
  const bad = cli(['schedules', 'create', 'weekdays', 'cron-s', 'report', '--cron', '0 9 * * 1-5']);
  assert.equal(bad.status, 2, bad.stderr);
  const suggested = /write "([^"]+)" for "0 9 \* \* 1-5"/.exec(bad.stderr);
  assert.ok(suggested, bad.stderr);
  assert.equal(suggested[1], '0 0 9 * * MON-FRI');
  const good = cli(['schedules', 'create', 'weekdays', 'cron-s', 'report', '--cron', suggested[1]!]);
  assert.equal(good.status, 0, good.stderr);
});

test('runtime get prints key/value lines and tables, not JSON', () => {
  const r = cli(['runtime', 'get']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!r.stdout.trimStart().startsWith('{'), r.stdout);
  assert.match(r.stdout, /^default route:\s+local$/m);
  assert.match(r.stdout, /^ROUTE\s+DRIVER\s+MODEL\s+STATE\s+DEFAULT$/m);
  assert.match(r.stdout, /^tool limits:$/m);
  assert.match(r.stdout, /max_input_bytes\s+16 MiB/);
  assert.match(r.stdout, /^debug level:\s+off$/m);
  assert.match(r.stdout, /^mcp servers:\s+none configured$/m);
  assert.match(r.stdout, /^skills:\s+0 loaded$/m);
  assert.match(r.stdout, /^hooks:\s+0 configured$/m);
  const json = cli(['--output', 'json', 'runtime', 'get']);
  assert.equal(JSON.parse(json.stdout).default_route, 'local');
});

test('sessions input (detached, and --model … --wait), set-route, set-credential-scope, set-capability-scope', async () => {
  assert.equal(cli(['sessions', 'create', 'docs-s']).status, 0);
  const detached = cli(['sessions', 'input', 'docs-s', 'hello']);
  assert.equal(detached.status, 0, detached.stderr);
  assert.match(detached.stdout, /^run run-\S+ (queued|running|completed)/);
  assert.match(detached.stdout, /kheish-daemon runs watch run-/);
  const waited = cli(['sessions', 'input', 'docs-s', '--model', 'local/scripted', '--wait', 'hi']);
  assert.equal(waited.status, 0, waited.stderr);
  assert.match(waited.stdout, /status:\s+completed/);
  assert.match(waited.stdout, /route:\s+local \/ scripted/);

  const route = cli(['sessions', 'set-route', 'docs-s', '--provider', 'local', '--model', 'scripted']);
  assert.equal(route.status, 0, route.stderr);
  let view = (await http(d.url, 'GET', '/v1/sessions/docs-s')).body;
  assert.deepEqual(view.route_policy, { provider: 'local', generation: { model: 'scripted' } });
  assert.equal(cli(['sessions', 'set-route', 'docs-s', '--clear']).status, 0);
  view = (await http(d.url, 'GET', '/v1/sessions/docs-s')).body;
  assert.ok(!view.route_policy, JSON.stringify(view.route_policy));

  const dir = tempDir();
  writeFileSync(join(dir, 'scope.json'), JSON.stringify({ route_allow: ['local'] }));
  const cred = cli([
    'sessions',
    'set-credential-scope',
    'docs-s',
    '--credential-scope-file',
    join(dir, 'scope.json'),
  ]);
  assert.equal(cred.status, 0, cred.stderr);
  const cap = cli([
    'sessions',
    'set-capability-scope',
    'docs-s',
    '--capability-scope-json',
    '{"mcp_server_deny":["github"]}',
  ]);
  assert.equal(cap.status, 0, cap.stderr);
  view = (await http(d.url, 'GET', '/v1/sessions/docs-s')).body;
  assert.deepEqual(view.credential_scope, { route_allow: ['local'] });
  assert.deepEqual(view.capability_scope, { mcp_server_deny: ['github'] });
  assert.equal(cli(['sessions', 'set-credential-scope', 'docs-s', '--clear']).status, 0);
  view = (await http(d.url, 'GET', '/v1/sessions/docs-s')).body;
  assert.ok(!view.credential_scope);
  assert.equal(cli(['sessions', 'set-credential-scope', 'docs-s']).status, 2, 'a scope or --clear is needed');
});

test('bare doctor runs every check and exits 0 when none is at error level', () => {
  const r = cli(['--output', 'json', 'doctor']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const view = JSON.parse(r.stdout);
  assert.equal(view.ok, true);
  assert.equal(view.readyz_reachable, true);
  assert.equal(view.events_stream_reachable, true);
  const names = new Set(view.checks.map((c: { name: string }) => c.name));
  for (const name of ['status', 'storage', 'state_root_lock', 'route', 'readyz', 'events_stream'])
    assert.ok(names.has(name), `check ${name}`);
  // This daemon has no bwrap: a warning, with what to do, that does not fail the doctor.
  const sandbox = view.checks.find((c: { code: string }) => c.code === 'bash_unsandboxed');
  assert.equal(sandbox?.severity, 'warning');
  assert.match(sandbox?.action ?? '', /bubblewrap/);
  const pretty = cli(['doctor']);
  assert.match(pretty.stdout, /^doctor: ok \(1 warning\)/m);
});

test('bare doctor exits 1 when the default route cannot run', async () => {
  const broken = await startDaemon({
    routesToml:
      'version = 1\ndefault_route = "gpt"\n\n[routes.gpt]\ndriver = "openai"\ndefault_model = "gpt-5.4"\napi_key_env = "KHEISH_TEST_UNSET_KEY"\n',
  });
  try {
    const r = cli(['--output', 'json', 'doctor'], { KHEISH_DAEMON_URL: broken.url });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const view = JSON.parse(r.stdout);
    assert.equal(view.ok, false);
    const route = view.checks.find((c: { name: string; severity: string }) => c.name === 'route');
    assert.deepEqual([route.severity, route.code, route.related_id], ['error', 'route_not_ready', 'gpt']);
    assert.match(route.action, /export KHEISH_TEST_UNSET_KEY=/);
  } finally {
    await broken.stop();
    await broken.cleanup();
  }
});
