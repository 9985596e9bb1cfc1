// ops-runtime §7 hook items: #33 (validation before persistence), the failure policy with retries
// and dead letters over a real local HTTP server (reached through the test-only target override),
// a hanging command hook killed with its whole process group at its timeout, config_change
// blocking a runtime change (and skip_hooks passing it), permission_request session rules
// (origin hook_update in the audit), user_prompt_submit, and invalid persisted settings at boot.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { journalPayloads, queryState } from '../helpers/state-query.ts';
import { commandHook, revision, script, setHooks } from '../hooks/hook-scripts.ts';
import { assertProblem, sleep } from './support.ts';

const dir = tempDir('kheish-hooks-ops-');
const workspace = tempDir('kheish-hooks-ops-ws-');
const runScript = {
  rules: [
    {
      match: 'write please',
      turns: [
        { tool_calls: [{ name: 'write_file', arguments: { path: 'w.txt', content: 'x' } }] },
        { text: 'written' },
      ],
    },
    { match: 'echo contexts', turns: [{ text: 'fine' }] },
  ],
  default: { turns: [{ text: 'ok' }] },
};

interface Seen {
  headers: IncomingMessage['headers'];
  body: any;
}
let server: Server;
let port = 0;
const seen: Seen[] = [];
/** What the server answers next: a status (with optional Retry-After) or an outcome. */
let answer: { status: number; body?: unknown; retryAfter?: string } = { status: 200, body: {} };

let d: TestDaemon;
before(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      seen.push({ headers: req.headers, body: JSON.parse(raw) });
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (answer.retryAfter) headers['retry-after'] = answer.retryAfter;
      res.writeHead(answer.status, headers);
      res.end(JSON.stringify(answer.body ?? {}));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  d = await startDaemon({
    script: runScript,
    args: ['--workspace-root', workspace],
    env: { KHEISH_TEST_HOOK_ALLOW_TARGETS: `127.0.0.1:${port}` },
  });
});
after(async () => {
  await d.kill();
  await d.cleanup();
  server.close();
});

const httpHook = (name: string, extra: Record<string, unknown> = {}, timeout_ms = 3000) => ({
  name,
  executor: { type: 'http', url: `http://127.0.0.1:${port}/hook?token=secret-query`, timeout_ms },
  ...extra,
});

test('ops-runtime #33: empty name, timeout_ms 0, or an http hook on http://127.0.0.1/ → 400 invalid_hook_settings, revision unchanged', async () => {
  const rev = await revision(d.url);
  const cases: Array<Record<string, unknown[]>> = [
    { session_start: [commandHook('', 'true')] },
    { session_start: [commandHook('t0', 'true', {}, 0)] },
    { session_start: [{ name: 'local', executor: { type: 'http', url: 'http://127.0.0.1/' } }] },
    { session_start: [{ name: 'localhost', executor: { type: 'http', url: 'http://localhost:8080/x' } }] },
    { session_start: [{ name: 'creds', executor: { type: 'http', url: 'https://user:pw@example.com/' } }] },
    { session_start: [{ name: 'meta', executor: { type: 'http', url: 'http://169.254.169.254/' } }] },
    { session_start: [{ name: 'p', executor: { type: 'prompt', template: ' ' } }] },
    { session_start: [{ name: 'a', executor: { type: 'agent', template: 'x', max_turns: 0 } }] },
    {
      session_start: [
        { name: 'a', executor: { type: 'agent', template: 'x', tool_surface: { deny: ['bash'] } } },
      ],
    },
    { session_start: [{ name: 'c', executor: { type: 'callback', name: '' } }] },
    { session_start: [{ name: 'c', executor: { type: 'command', command: '' } }] },
    { not_an_event: [commandHook('x', 'true')] },
  ];
  for (const hooks of cases)
    assertProblem(
      await setHooks(d.url, hooks),
      400,
      'runtime',
      'invalid_hook_settings',
      JSON.stringify(hooks),
    );
  assert.equal(await revision(d.url), rev);
});

test('hooks: an http hook that keeps failing (500) is retried in its budget, dead-lettered redacted, counted, and resolved', async () => {
  answer = { status: 500, body: { error: 'down' } };
  seen.length = 0;
  const res = await setHooks(d.url, {
    session_start: [httpHook('audit-sink', { failure_policy: { mode: 'open', max_retries: 2 } })],
  });
  assert.equal(res.status, 200, res.text);
  const created = await http(d.url, 'POST', '/v1/sessions', { session_id: 'dl-1' });
  assert.equal(created.status, 201, created.text);
  assert.equal(seen.length, 3, 'one attempt and two retries');
  const keys = new Set(seen.map((s) => s.headers['idempotency-key']));
  assert.equal(keys.size, 1, 'every retry carries the same Idempotency-Key');
  assert.equal([...keys][0], seen[0]!.body.invocation_key);
  assert.equal(seen[0]!.body.contract_version, 1);

  const list = (await http(d.url, 'GET', '/v1/runtime/hooks/dead-letter')).body;
  const rec = list.find((r: any) => r.hook_name === 'audit-sink');
  assert.ok(rec, JSON.stringify(list));
  assert.equal(rec.attempts, 3);
  assert.equal(rec.failure_mode, 'open');
  assert.equal(rec.contract_version, 1);
  assert.equal(rec.target, `http://127.0.0.1:${port}`);
  assert.match(rec.error, /500/);
  assert.match(rec.invocation_digest, /^[0-9a-f]{64}$/);
  assert.match(rec.definition_digest, /^[0-9a-f]{64}$/);
  const text = JSON.stringify(list);
  assert.ok(!text.includes('secret-query') && !text.includes('/hook'), 'no full URL');
  assert.ok(!text.includes('"payload"'), 'no payload');

  let status = (await http(d.url, 'GET', '/v1/status')).body;
  assert.ok(status.hooks.dead_lettered_count >= 1);
  assert.ok(status.hooks.unresolved_dead_lettered_count >= 1);
  assert.ok(status.hooks.retries >= 2);
  assert.ok(status.hooks.failures >= 1);
  assert.equal(status.hooks.persistence_failures, 0);
  assert.equal(status.hooks.last_dead_letter.id, rec.id);
  assert.ok(status.health.warnings.some((w: any) => w.code === 'hook_dead_letters_unresolved'));
  // /v1/status and /v1/runtime never show executor bodies.
  assert.ok(!JSON.stringify(status).includes('secret-query'));
  assert.ok(!JSON.stringify((await http(d.url, 'GET', '/v1/runtime')).body).includes('secret-query'));
  assert.ok(
    !JSON.stringify((await http(d.url, 'GET', '/v1/runtime/revisions')).body).includes('secret-query'),
  );
  // The raw settings (admin) do.
  assert.ok(JSON.stringify((await http(d.url, 'GET', '/v1/runtime/hooks')).body).includes('secret-query'));

  const unknown = await http(d.url, 'POST', '/v1/runtime/hooks/dead-letter/hdl-nope/resolve', {
    reason: 'x',
  });
  assertProblem(unknown, 404, 'runtime', 'unknown_hook_dead_letter');
  for (const r of (await http(d.url, 'GET', '/v1/runtime/hooks/dead-letter')).body) {
    const done = await http(d.url, 'POST', `/v1/runtime/hooks/dead-letter/${r.id}/resolve`, {
      reason: 'sink fixed',
    });
    assert.equal(done.status, 200, done.text);
    assert.equal(done.body.resolutions.at(-1).reason, 'sink fixed');
    assert.equal(done.body.error, r.error, 'the evidence is kept');
  }
  status = (await http(d.url, 'GET', '/v1/status')).body;
  assert.equal(status.hooks.unresolved_dead_lettered_count, 0);
  assert.ok(status.hooks.dead_lettered_count >= 1);
  assert.ok(!status.health.warnings.some((w: any) => w.code === 'hook_dead_letters_unresolved'));
  await setHooks(d.url, {});
});

test('hooks: 4xx is terminal (no retry), Retry-After on 429 is honoured inside the budget, a closed http hook blocks', async () => {
  answer = { status: 403 };
  seen.length = 0;
  await setHooks(d.url, {
    session_start: [httpHook('forbidden', { failure_policy: { mode: 'closed', max_retries: 3 } })],
  });
  const res = await http(d.url, 'POST', '/v1/sessions', { session_id: 'dl-403' });
  assertProblem(res, 409, 'sessions', 'session_start_blocked');
  assert.equal(seen.length, 1, 'a 403 is not retried');

  answer = { status: 429, retryAfter: '1' };
  seen.length = 0;
  await setHooks(d.url, {
    session_start: [httpHook('busy', { failure_policy: { mode: 'open', max_retries: 3 } }, 1500)],
  });
  const t0 = Date.now();
  assert.equal((await http(d.url, 'POST', '/v1/sessions', { session_id: 'dl-429' })).status, 201);
  // 1 s Retry-After: a second attempt fits in the 1.5 s budget, a third does not.
  assert.equal(seen.length, 2);
  assert.ok(Date.now() - t0 < 3000);

  answer = { status: 200, body: { decision: 'block', stop_reason: 'policy says no' } };
  await setHooks(d.url, { session_start: [httpHook('policy')] });
  const blocked = await http(d.url, 'POST', '/v1/sessions', { session_id: 'dl-policy' });
  assertProblem(blocked, 409, 'sessions', 'session_start_blocked');
  assert.match(blocked.body.detail, /policy says no/);
  answer = { status: 200, body: {} };
  await setHooks(d.url, {});
});

test('hooks: a hanging command hook is killed at its timeout with its whole process group', async () => {
  const pidFile = join(dir, 'child.pid');
  const hang = script(dir, 'hang.sh', `sleep 60 &\necho $! > ${pidFile}\nwait`);
  await setHooks(d.url, { session_start: [commandHook('hang', hang, {}, 500)] });
  const t0 = Date.now();
  const res = await http(d.url, 'POST', '/v1/sessions', { session_id: 'hang-1' });
  assert.equal(res.status, 201, 'open policy: the session starts once the hook is given up');
  assert.ok(Date.now() - t0 < 5000);
  const child = Number(readFileSync(pidFile, 'utf8'));
  let alive = true;
  for (let i = 0; i < 40 && alive; i++) {
    try {
      process.kill(child, 0);
      // A zombie still answers kill(0); it is dead once its state says so.
      alive = !/\) [ZX] /.test(readFileSync(`/proc/${child}/stat`, 'utf8'));
    } catch {
      alive = false;
    }
    if (alive) await sleep(50);
  }
  assert.equal(alive, false, `the forked child ${child} is gone`);
  const rec = (await http(d.url, 'GET', '/v1/runtime/hooks/dead-letter')).body.find(
    (r: any) => r.hook_name === 'hang',
  );
  assert.match(rec.error, /budget/);
  await setHooks(d.url, {});
});

test('hooks: a blocking config_change hook refuses a runtime change (409, no revision); skip_hooks passes it as runtime_api_force', async () => {
  const deny = script(
    dir,
    'deny-config.sh',
    `echo '{"continue_execution":false,"stop_reason":"change freeze"}'`,
  );
  assert.equal(
    (
      await setHooks(d.url, {
        config_change: [commandHook('freeze', deny, { matcher: 'debug_level|hooks' })],
      })
    ).status,
    200,
  );
  const rev = await revision(d.url);
  const blocked = await http(d.url, 'POST', '/v1/runtime/debug-level', { level: 'on' });
  assertProblem(blocked, 409, 'runtime', 'runtime_change_blocked');
  assert.match(blocked.body.detail, /change freeze/);
  assert.equal(await revision(d.url), rev);
  // A setting the matcher does not name passes.
  assert.equal((await http(d.url, 'POST', '/v1/runtime/permission-mode', { mode: 'default' })).status, 200);
  // Changing the hooks themselves is a config change too: the escape hatch is skip_hooks.
  assertProblem(await setHooks(d.url, {}), 409, 'runtime', 'runtime_change_blocked');
  const forced = await setHooks(d.url, {}, { skip_hooks: true });
  assert.equal(forced.status, 200, forced.text);
  const revisions = (await http(d.url, 'GET', '/v1/runtime/revisions')).body.revisions;
  assert.equal(revisions[0].setting, 'hooks');
  assert.equal(revisions[0].source, 'runtime_api_force');
  assert.equal((await http(d.url, 'POST', '/v1/runtime/debug-level', { level: 'off' })).status, 200);
});

test('hooks: permission_request allows an ask with a session rule (origin hook_update in the audit and the rules)', async () => {
  const allow = script(
    dir,
    'allow-writes.sh',
    `echo '{"permission":"allow","updated_permissions":[{"scope":"session","tool_name_pattern":"write_file","behavior":"allow"},{"scope":"user","tool_name_pattern":"bash","behavior":"allow"}]}'`,
  );
  await setHooks(d.url, { permission_request: [commandHook('writes-ok', allow, { matcher: 'write_file' })] });
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'perm-1' });
  const run = (await http(d.url, 'POST', '/v1/sessions/perm-1/runs', { content: 'write please' })).body;
  const done = await waitForRun(d.url, run.run_id);
  assert.equal(done.status, 'completed', 'no approval was needed');
  assert.equal(readFileSync(join(workspace, 'w.txt'), 'utf8'), 'x');
  const audit = (await http(d.url, 'GET', '/v1/sessions/perm-1/permission-audits')).body[0];
  assert.equal(audit.hooks_evaluated, true);
  assert.equal(audit.matched_rule_origin, 'hook_update');
  assert.equal(audit.decision, 'allow');
  const rules = (await http(d.url, 'GET', '/v1/sessions/perm-1/permission-rules')).body.rules;
  assert.deepEqual(
    rules.map((r: any) => [r.pattern, r.decision, r.origin]),
    [['write_file', 'allow', 'hook_update']],
    'only the session-scope update is kept',
  );
  await setHooks(d.url, {});
});

test('hooks: user_prompt_submit blocks a submit (nothing stored) or adds context to the prompt', async () => {
  const gate = script(
    dir,
    'prompt-gate.sh',
    `if grep -q forbidden; then echo '{"decision":"block","stop_reason":"no forbidden words"}'; else echo '{"additional_contexts":["ticket ABC-1 is open"]}'; fi`,
  );
  await setHooks(d.url, { user_prompt_submit: [commandHook('gate', gate)] });
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'prompt-1' });
  const refused = await http(d.url, 'POST', '/v1/sessions/prompt-1/runs', {
    content: 'say forbidden things',
  });
  assertProblem(refused, 409, 'runs', 'user_prompt_blocked');
  const runs = await queryState(d, 'select count(*) as n from runs where session_id = ?', ['prompt-1']);
  assert.equal(Number(runs[0].n), 0, 'nothing persisted');
  const run = (await http(d.url, 'POST', '/v1/sessions/prompt-1/runs', { content: 'echo contexts' })).body;
  assert.equal((await waitForRun(d.url, run.run_id)).status, 'completed');
  const [input] = await journalPayloads(d, run.run_id, 'input_received');
  assert.deepEqual(input.request.hook_contexts, ['ticket ABC-1 is open']);
  await setHooks(d.url, {});
});

test('hooks: settings this build rejects are not activated at boot (hooks off, health warning) and can be fixed through the API', async () => {
  const state = tempDir('kheish-hooks-boot-');
  const first = await startDaemon({
    stateRoot: state,
    env: { KHEISH_TEST_HOOK_ALLOW_TARGETS: `127.0.0.1:${port}` },
  });
  try {
    assert.equal((await setHooks(first.url, { session_start: [httpHook('sink')] })).status, 200);
    await first.stop();
    // Without the test override the stored target is unsafe for this daemon.
    const second = await first.restart({ env: { KHEISH_TEST_HOOK_ALLOW_TARGETS: '' } });
    try {
      const status = (await http(second.url, 'GET', '/v1/status')).body;
      assert.equal(status.hooks.enabled, false);
      assert.ok(status.health.warnings.some((w: any) => w.code === 'hook_settings_invalid'));
      seen.length = 0;
      assert.equal((await http(second.url, 'POST', '/v1/sessions', { session_id: 'boot-1' })).status, 201);
      assert.equal(seen.length, 0, 'the disabled hook did not run');
      const fixed = await http(second.url, 'POST', '/v1/runtime/hooks', { hooks: {} });
      assert.equal(fixed.status, 200, fixed.text);
      assert.equal((await http(second.url, 'GET', '/v1/status')).body.hooks.enabled, true);
      assert.deepEqual((await http(second.url, 'GET', '/v1/runtime/hooks')).body, {
        schema_version: 1,
        hooks: {},
      });
    } finally {
      await second.kill();
      await second.cleanup();
    }
  } finally {
    await first.kill().catch(() => undefined);
  }
});
