// api-core §15 hook items 69, 70, 94 (spec §11), and the pre_tool_use points of the agent loop: a
// command hook blocks `bash`, another rewrites its input before the durable start record.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { journalPayloads, queryState } from '../helpers/state-query.ts';
import { commandHook, revision, script, setHooks } from '../hooks/hook-scripts.ts';
import { assertProblem } from './support.ts';

const workspace = tempDir('kheish-hooks-ws-');
const dir = tempDir('kheish-hooks-');
const runScript = {
  rules: [
    {
      match: 'shell please',
      turns: [
        { tool_calls: [{ name: 'bash', arguments: { command: 'echo original > out.txt' } }] },
        { text: 'done' },
      ],
    },
  ],
  default: { turns: [{ text: 'ok' }] },
};

let d: TestDaemon;
before(async () => {
  d = await startDaemon({ script: runScript, args: ['--workspace-root', workspace] });
  await http(d.url, 'POST', '/v1/runtime/permission-mode', { mode: 'bypassPermissions' });
});
after(async () => {
  await d.kill();
  await d.cleanup();
});

test('api-core #69: empty name, timeout 0 or > 30000, max_retries > 3 → 400 invalid_hook_settings, revision unchanged', async () => {
  const rev = await revision(d.url);
  const bad = [
    commandHook('', 'true'),
    commandHook('zero', 'true', {}, 0),
    commandHook('long', 'true', {}, 30_001),
    commandHook('retries', 'true', { failure_policy: { mode: 'open', max_retries: 4 } }),
  ];
  for (const hook of bad) {
    const res = await setHooks(d.url, { session_start: [hook] });
    assertProblem(res, 400, 'runtime', 'invalid_hook_settings', JSON.stringify(hook));
    // The bare form is checked the same way.
    const bare = await http(d.url, 'POST', '/v1/runtime/hooks', { hooks: { session_start: [hook] } });
    assertProblem(bare, 400, 'runtime', 'invalid_hook_settings');
  }
  assert.equal(await revision(d.url), rev);
  // The limits themselves are fine.
  const ok = await setHooks(d.url, {
    stop: [commandHook('edge', 'true', { failure_policy: { max_retries: 3 } }, 30_000)],
  });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.config.revision, rev + 1);
  await setHooks(d.url, {});
});

test('api-core #70: a body with only expected_revision (or skip_hooks) is 400', async () => {
  const rev = await revision(d.url);
  for (const body of [
    { expected_revision: 1 },
    { skip_hooks: true },
    { expected_revision: 1, skip_hooks: false },
  ]) {
    const res = await http(d.url, 'POST', '/v1/runtime/hooks', body);
    assertProblem(res, 400, 'runtime', 'invalid_hook_settings', JSON.stringify(body));
  }
  assert.equal(await revision(d.url), rev);
});

test('api-core #94: a session_start command hook gets contract_version 1 and an invocation_key; closed blocks, open does not', async () => {
  const seen = join(dir, 'session-start.json');
  const record = script(dir, 'record.sh', `cat > ${seen}`);
  const fail = script(dir, 'fail.sh', 'exit 1');
  let res = await setHooks(d.url, { session_start: [commandHook('record', record)] });
  assert.equal(res.status, 200, res.text);
  res = await http(d.url, 'POST', '/v1/sessions', { session_id: 'hooked-1' });
  assert.equal(res.status, 201, res.text);
  const wire = JSON.parse(readFileSync(seen, 'utf8'));
  assert.equal(wire.contract_version, 1);
  assert.match(wire.invocation_key, /^hk-[0-9a-f]{32}$/);
  assert.equal(wire.event, 'session_start');
  assert.equal(wire.session_id, 'hooked-1');

  // closed: the failure blocks the action (no session is created)
  await setHooks(d.url, {
    session_start: [commandHook('guard', fail, { failure_policy: { mode: 'closed', max_retries: 0 } })],
  });
  res = await http(d.url, 'POST', '/v1/sessions', { session_id: 'hooked-closed' });
  assertProblem(res, 409, 'sessions', 'session_start_blocked');
  assert.equal((await http(d.url, 'GET', '/v1/sessions/hooked-closed')).status, 404);

  // open: the failure is recorded, the session starts
  await setHooks(d.url, {
    session_start: [commandHook('guard', fail, { failure_policy: { mode: 'open', max_retries: 0 } })],
  });
  res = await http(d.url, 'POST', '/v1/sessions', { session_id: 'hooked-open' });
  assert.equal(res.status, 201, res.text);
  // The failure was dead-lettered (open policy: recorded, not blocking).
  const dl = (await http(d.url, 'GET', '/v1/runtime/hooks/dead-letter')).body;
  assert.ok(dl.some((r: any) => r.hook_name === 'guard' && r.failure_mode === 'open'));
  await setHooks(d.url, {});
});

async function shellRun(session: string) {
  await http(d.url, 'POST', '/v1/sessions', { session_id: session });
  const run = (await http(d.url, 'POST', `/v1/sessions/${session}/runs`, { content: 'shell please' })).body;
  return waitForRun(d.url, run.run_id);
}

test('hooks: a pre_tool_use command hook blocks bash; the call gets an error result and a hook_evaluated trace', async () => {
  const block = script(
    dir,
    'block.sh',
    `echo '{"decision":"block","stop_reason":"no shell in this daemon"}'`,
  );
  await setHooks(d.url, { pre_tool_use: [commandHook('no-bash', block, { matcher: 'bash' })] });
  const out = join(workspace, 'out.txt');
  const run = await shellRun('pre-block');
  assert.equal(run.status, 'completed');
  assert.equal(existsSync(out), false, 'bash never ran');
  const [result] = await journalPayloads(d, run.run_id, 'tool_result');
  assert.equal(result.is_error, true);
  assert.match(result.content, /blocked by a pre_tool_use hook: no shell in this daemon/);
  const events = (await http(d.url, 'GET', `/v1/runs/${run.run_id}/events`)).body;
  const traces = (events.items ?? events)
    .filter((e: any) => e.event?.type === 'trace')
    .map((e: any) => e.event.trace);
  const hook = traces.find((t: any) => t.kind === 'hook_evaluated');
  assert.ok(hook, JSON.stringify(traces.map((t: any) => t.kind)));
  assert.equal(hook.event, 'pre_tool_use');
  assert.equal(hook.blocked, true);
  assert.deepEqual(
    hook.hooks.map((h: any) => [h.name, h.result]),
    [['no-bash', 'blocked']],
  );
  // The audit says hooks ran and the final decision.
  const audits = (await http(d.url, 'GET', '/v1/sessions/pre-block/permission-audits')).body;
  const audit = (audits.items ?? audits)[0];
  assert.equal(audit.hooks_evaluated, true);
  assert.equal(audit.decision, 'deny');
  await setHooks(d.url, {});
});

test('hooks: a pre_tool_use hook rewrites the bash input; the journal start record has the rewritten arguments', async () => {
  const rewrite = script(
    dir,
    'rewrite.sh',
    `echo '{"updated_input":{"command":"echo rewritten > out.txt"}}'`,
  );
  await setHooks(d.url, { pre_tool_use: [commandHook('rewrite', rewrite, { matcher: 'bash|write_*' })] });
  const run = await shellRun('pre-rewrite');
  assert.equal(run.status, 'completed');
  assert.equal(readFileSync(join(workspace, 'out.txt'), 'utf8').trim(), 'rewritten');
  const [started] = await journalPayloads(d, run.run_id, 'tool_call_started');
  assert.deepEqual(started.arguments, { command: 'echo rewritten > out.txt' });
  // The assistant turn keeps what the model asked for; the start record says what ran.
  const [turn] = await journalPayloads(d, run.run_id, 'assistant_message');
  assert.equal(turn.tool_calls[0].arguments.command, 'echo original > out.txt');
  const rows = await queryState(d, 'select count(*) as n from hook_dead_letters where hook_name = ?', [
    'rewrite',
  ]);
  assert.equal(Number(rows[0].n), 0);
  await setHooks(d.url, {});
});
