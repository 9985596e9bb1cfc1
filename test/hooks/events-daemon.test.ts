// Hook executors and event points on a real daemon: `prompt` and `agent` hooks answered by the
// scripted model (the agent reading a file through its tool_surface allowlist), post_tool_use
// replacing a tool's output, stop after a run completes, task_created from the task tool, and a
// blocking subagent_start refusing a spawn.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { assertProblem, sleep } from '../conformance/support.ts';
import { http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { journalPayloads } from '../helpers/state-query.ts';
import { commandHook, script, setHooks } from './hook-scripts.ts';

const workspace = tempDir('kheish-hook-ev-ws-');
const dir = tempDir('kheish-hook-ev-');
writeFileSync(join(workspace, 'policy.txt'), 'no new sessions on fridays');
const runScript = {
  rules: [
    // The prompt hook's model call: its rendered template starts with this marker.
    {
      match: '^prompt-guard',
      turns: [{ text: '```json\n{"decision":"block","stop_reason":"the model said no"}\n```' }],
    },
    // The agent hook: reads the policy file through its allowlist, then answers.
    {
      match: '^agent-guard',
      turns: [
        { tool_calls: [{ name: 'read_file', arguments: { path: 'policy.txt' } }] },
        { text: '{"continue_execution": false, "stop_reason": "policy file read"}' },
      ],
    },
    {
      match: 'list it',
      turns: [{ tool_calls: [{ name: 'list_files', arguments: {} }] }, { text: 'listed' }],
    },
    {
      match: 'track it',
      turns: [
        { tool_calls: [{ name: 'task_create', arguments: { title: 'ship it' } }] },
        { text: 'tracked' },
      ],
    },
  ],
  default: { turns: [{ text: 'ok' }] },
};

let d: TestDaemon;
before(async () => {
  d = await startDaemon({ script: runScript, args: ['--workspace-root', workspace] });
});
after(async () => {
  await d.kill();
  await d.cleanup();
});

async function run(session: string, content: string) {
  await http(d.url, 'POST', '/v1/sessions', { session_id: session });
  const r = (await http(d.url, 'POST', `/v1/sessions/${session}/runs`, { content })).body;
  return waitForRun(d.url, r.run_id);
}

test('hooks: a prompt hook (one model call, {{invocation_json}} in its template) blocks session_start', async () => {
  const res = await setHooks(d.url, {
    session_start: [
      { name: 'llm-guard', executor: { type: 'prompt', template: 'prompt-guard: {{invocation_json}}' } },
    ],
  });
  assert.equal(res.status, 200, res.text);
  const created = await http(d.url, 'POST', '/v1/sessions', { session_id: 'prompted' });
  assertProblem(created, 409, 'sessions', 'session_start_blocked');
  assert.match(created.body.detail, /the model said no/);
  await setHooks(d.url, {});
});

test('hooks: an agent hook calls an allowlisted tool, then its JSON answer is the outcome', async () => {
  const res = await setHooks(d.url, {
    session_start: [
      {
        name: 'agent-guard',
        executor: {
          type: 'agent',
          template: 'agent-guard {{invocation_json}}',
          tool_surface: ['read_file'],
          max_turns: 3,
        },
      },
    ],
  });
  assert.equal(res.status, 200, res.text);
  const created = await http(d.url, 'POST', '/v1/sessions', { session_id: 'agented' });
  assertProblem(created, 409, 'sessions', 'session_start_blocked');
  assert.match(created.body.detail, /policy file read/);
  // One turn is not enough for it: no outcome within max_turns is a failure (open: the session starts).
  await setHooks(d.url, {
    session_start: [
      {
        name: 'agent-short',
        executor: { type: 'agent', template: 'agent-guard x', tool_surface: ['read_file'], max_turns: 1 },
      },
    ],
  });
  assert.equal((await http(d.url, 'POST', '/v1/sessions', { session_id: 'agented-2' })).status, 201);
  await setHooks(d.url, {});
});

test('hooks: post_tool_use replaces the output the model sees (journaled) and leaves a trace', async () => {
  const replace = script(
    dir,
    'replace.sh',
    `echo '{"updated_output":"[listing hidden by policy]","additional_contexts":["ask before listing"]}'`,
  );
  await setHooks(d.url, { post_tool_use: [commandHook('hide-listing', replace, { matcher: 'list_files' })] });
  const done = await run('post-1', 'list it');
  assert.equal(done.status, 'completed');
  const [result] = await journalPayloads(d, done.run_id, 'tool_result');
  assert.equal(result.content, '[listing hidden by policy]\n\n[hook context] ask before listing');
  const events = (await http(d.url, 'GET', `/v1/runs/${done.run_id}/events`)).body;
  const kinds = (events.items ?? events)
    .filter((e: any) => e.event?.type === 'trace')
    .map((e: any) => e.event.trace);
  const hook = kinds.find((t: any) => t.kind === 'hook_evaluated');
  assert.equal(hook.event, 'post_tool_use');
  assert.equal(hook.updated_output, true);
  await setHooks(d.url, {});
});

test('hooks: stop fires after a run completes; task_created after the task tool commits', async () => {
  const log = join(dir, 'events.log');
  const note = script(
    dir,
    'note.sh',
    `line=$(sed -n 's/.*"event":"\\([a-z_]*\\)".*"run_id":"\\([^"]*\\)".*/\\1 \\2/p')\necho "$line" >> ${log}`,
  );
  await setHooks(d.url, {
    stop: [commandHook('note-stop', note)],
    task_created: [commandHook('note-task', note)],
  });
  const done = await run('stop-1', 'track it');
  assert.equal(done.status, 'completed');
  for (let i = 0; i < 100 && !(existsSync(log) && readFileSync(log, 'utf8').includes('stop ')); i++)
    await sleep(50);
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  assert.ok(lines.includes(`task_created ${done.run_id}`), lines.join('|'));
  assert.ok(lines.includes(`stop ${done.run_id}`), lines.join('|'));
  await setHooks(d.url, {});
});

test('hooks: a blocking subagent_start hook refuses a spawn', async () => {
  const deny = script(dir, 'no-spawn.sh', `echo 'too many agents today' >&2; exit 2`);
  await setHooks(d.url, { subagent_start: [commandHook('no-spawn', deny)] });
  const parent = (await http(d.url, 'POST', '/v1/sessions', { session_id: 'spawner' })).body;
  const res = await http(d.url, 'POST', `/v1/agents/${parent.agent_id}/sidechains`, { nickname: 'helper' });
  assertProblem(res, 409, 'agents', 'subagent_start_blocked');
  assert.match(res.body.detail, /too many agents today/);
  await setHooks(d.url, {});
});

test('hooks: the SDK resource sets, reads, lists and resolves; session_end fires when a session ends', async () => {
  const { Kheish } = await import('../../src/sdk/index.ts');
  const kheish = new Kheish({ baseUrl: d.url });
  const log = join(dir, 'ended.log');
  const note = script(dir, 'ended.sh', `cat >> ${log}; echo >> ${log}`);
  const fail = script(dir, 'always-fails.sh', 'exit 1');
  const view = await kheish.hooks.set({
    hooks: {
      session_end: [{ name: 'note-end', executor: { type: 'command', command: note } }],
      session_start: [{ name: 'flaky', executor: { type: 'command', command: fail, timeout_ms: 500 } }],
    },
  });
  assert.equal((view.hooks as { configured_hooks: number }).configured_hooks, 2);
  assert.deepEqual(Object.keys((await kheish.hooks.get()).hooks).sort(), ['session_end', 'session_start']);
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'sdk-1' });
  await http(d.url, 'POST', '/v1/sessions/sdk-1/end', { reason: 'done for today' });
  // session_end observes after the commit: give it a moment.
  // The file appears before `cat` has written into it: wait for the whole line.
  for (let i = 0; i < 100 && !(existsSync(log) && readFileSync(log, 'utf8').includes('\n')); i++)
    await sleep(50);
  const ended = JSON.parse(readFileSync(log, 'utf8').trim().split('\n')[0]!);
  assert.equal(ended.event, 'session_end');
  assert.equal(ended.session_id, 'sdk-1');
  assert.equal(ended.payload.reason, 'done for today');
  const dead = (await kheish.hooks.deadLetters()).find((r) => r.hook_name === 'flaky');
  assert.ok(dead);
  const resolved = await kheish.hooks.resolveDeadLetter(dead.id, 'known flaky hook');
  assert.deepEqual(
    resolved.resolutions.map((r) => r.reason),
    ['known flaky hook'],
  );
  await kheish.hooks.reset();
  assert.deepEqual((await kheish.hooks.get()).hooks, {});
});
