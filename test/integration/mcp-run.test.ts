// MCP tools inside runs, end to end: a scripted model calls tools of real MCP servers over stdio
// (server-everything, server-filesystem) and Streamable HTTP (server-everything's HTTP mode); the
// default `ask` rule parks the run, an approval resumes it, the result reaches the journal.
// Resources are read through the helpers; capability scope hides tools; rule specificity holds.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import {
  EVERYTHING,
  FILESYSTEM,
  type HttpMcpServer,
  mcpSnapshot,
  startEverythingHttp,
  stdioServer,
  writeMcpConfig,
} from '../helpers/mcp.ts';

const root = tempDir('kheish-mcp-files-');
const outside = tempDir('kheish-mcp-outside-');
const call = (name: string, args: Record<string, unknown>) => ({ name, arguments: args });
const rule = (match: string, calls: unknown[][]) => ({
  match,
  turns: [...calls.map((c) => ({ tool_calls: c })), { text: `finished ${match}` }],
});
const script = {
  rules: [
    rule('^stdio echo$', [[call('mcp__everything__echo', { message: 'hello over stdio' })]]),
    rule('^http echo$', [[call('mcp__web__echo', { message: 'hello over http' })]]),
    rule('^read resource$', [
      [call('list_mcp_resource_templates', { server: 'everything' })],
      [call('read_mcp_resource', { server: 'web', uri: 'demo://resource/dynamic/text/7' })],
    ]),
    rule('^write files$', [
      [call('mcp__files__write_file', { path: join(root, 'note.txt'), content: 'written through MCP' })],
      [call('mcp__files__write_file', { path: join(outside, 'escape.txt'), content: 'should not exist' })],
    ]),
    rule('^scoped$', [
      [call('mcp__everything__echo', { message: 'hidden' }), call('mcp__web__echo', { message: 'seen' })],
    ]),
    rule('^specific$', [
      [call('mcp__everything__get-sum', { a: 20, b: 22 }), call('mcp__web__echo', { message: 'denied' })],
    ]),
  ],
};

let web: HttpMcpServer;
let d: TestDaemon;
let n = 0;
before(async () => {
  web = await startEverythingHttp();
  const toml =
    stdioServer('everything', EVERYTHING, ['stdio']) +
    `[mcp_servers.web]\nurl = ${JSON.stringify(web.url)}\n\n` +
    stdioServer('files', FILESYSTEM, [root]);
  const dir = tempDir('kheish-mcp-run-');
  d = await startDaemon({
    script,
    args: ['--mcp-discovery', 'disabled', '--mcp-config', writeMcpConfig(dir, toml)],
  });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
  await web?.stop();
});

async function submit(content: string, session: Record<string, unknown> = {}) {
  const session_id = `m${++n}`;
  await http(d.url, 'POST', '/v1/sessions', { session_id, ...session });
  const run = (await http(d.url, 'POST', `/v1/sessions/${session_id}/runs`, { content })).body;
  return { session_id, run_id: run.run_id as string };
}

const traces = async (runId: string, kind: string) =>
  (await http(d.url, 'GET', `/v1/runs/${runId}/events`)).body
    .map((e: { event: { type: string; trace?: { kind: string } } }) => e.event.trace)
    .filter((t: { kind: string } | undefined) => t?.kind === kind);

/** Waits for the approval, checks the tool it asks about, allows it. */
async function approveNext(runId: string, tool: string) {
  const waiting = await waitForRun(
    d.url,
    runId,
    (r) => r.status === 'waiting_for_approval' || r.status === 'completed',
  );
  assert.equal(waiting.status, 'waiting_for_approval', `${tool} asks first (mcp__* → ask)`);
  assert.equal(waiting.pending_approvals[0].tool_name, tool);
  const res = await http(d.url, 'POST', `/v1/runs/${runId}/approvals`, {
    resolutions: waiting.pending_approval_ids.map((id: string) => ({ request_id: id, behavior: 'allow' })),
  });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return waiting;
}

test('runtime snapshot: three connected servers, their tools and the helpers in tool_names', async () => {
  const mcp = await mcpSnapshot(d.url);
  const byName = Object.fromEntries(mcp.servers.map((s: { server: string }) => [s.server, s]));
  assert.equal(byName.everything.transport, 'stdio');
  assert.equal(byName.web.transport, 'streamable_http');
  for (const s of ['everything', 'web', 'files']) assert.equal(byName[s].connected, true, `${s} connected`);
  assert.match(byName.everything.instructions, /untrusted/);
  for (const name of ['list_mcp_resources', 'read_mcp_resource', 'mcp__web__echo', 'mcp__files__write_file'])
    assert.ok(mcp.tool_names.includes(name), name);
});

test('a stdio MCP tool in a run: ask → approval → result in the journal', async () => {
  const { run_id } = await submit('stdio echo');
  await approveNext(run_id, 'mcp__everything__echo');
  const done = await waitForRun(d.url, run_id);
  assert.equal(done.status, 'completed', done.error);
  const [finished] = await traces(run_id, 'tool_call_finished');
  assert.equal(finished.outcome, 'ok');
  assert.match(finished.output_preview, /untrusted output of MCP server `everything`/);
  assert.match(finished.output_preview, /Echo: hello over stdio/);
  const [started] = await traces(run_id, 'tool_call_started');
  assert.equal(started.side_effects, false, 'echo is marked readOnlyHint by its server');
});

test('a Streamable HTTP MCP tool in a run: ask → approval → result', async () => {
  const { run_id } = await submit('http echo');
  await approveNext(run_id, 'mcp__web__echo');
  const done = await waitForRun(d.url, run_id);
  assert.equal(done.status, 'completed', done.error);
  const [finished] = await traces(run_id, 'tool_call_finished');
  assert.match(finished.output_preview, /Echo: hello over http/);
});

test('resource helpers: templates listed over stdio, a resource read over HTTP', async () => {
  const { run_id } = await submit('read resource');
  await approveNext(run_id, 'list_mcp_resource_templates');
  await approveNext(run_id, 'read_mcp_resource');
  const done = await waitForRun(d.url, run_id);
  assert.equal(done.status, 'completed', done.error);
  const [templates, read] = await traces(run_id, 'tool_call_finished');
  assert.match(templates.output_preview, /demo:\/\/resource\/dynamic\/text\/\{resourceId\}/);
  assert.match(read.output_preview, /Resource 7: This is a plaintext resource/);
});

test('server-filesystem stays confined to its directory; its write tool is a side effect', async () => {
  const { run_id } = await submit('write files');
  await approveNext(run_id, 'mcp__files__write_file');
  await approveNext(run_id, 'mcp__files__write_file');
  const done = await waitForRun(d.url, run_id);
  assert.equal(done.status, 'completed', done.error);
  assert.equal(readFileSync(join(root, 'note.txt'), 'utf8'), 'written through MCP');
  assert.equal(existsSync(join(outside, 'escape.txt')), false, 'nothing written outside the allowed root');
  const [inside, escaped] = await traces(run_id, 'tool_call_finished');
  assert.equal(inside.outcome, 'ok');
  assert.equal(escaped.outcome, 'error');
  assert.match(escaped.output_preview, /outside allowed directories|Access denied/i);
  const [started] = await traces(run_id, 'tool_call_started');
  assert.equal(started.side_effects, true);
});

test('capability scope: a denied server is neither offered nor callable; the rest still works', async () => {
  const { run_id } = await submit('scoped', { capability_scope: { mcp_server_deny: ['everything'] } });
  const waiting = await approveNext(run_id, 'mcp__web__echo');
  assert.equal(waiting.pending_approvals.length, 1, 'the hidden tool never reached the permission step');
  const done = await waitForRun(d.url, run_id);
  assert.equal(done.status, 'completed', done.error);
  const finished = await traces(run_id, 'tool_call_finished');
  const hidden = finished.find((t: { name: string }) => t.name === 'mcp__everything__echo');
  // Refused by the tool surface, the same set the model's tool list is built from (agent-loop).
  assert.equal(hidden.outcome, 'denied');
  assert.equal(hidden.ran, false);
  assert.match(hidden.output_preview, /not in this agent's tool surface/);
  const seen = finished.find((t: { name: string }) => t.name === 'mcp__web__echo');
  assert.match(seen.output_preview, /Echo: seen/);
});

test('ops-runtime #31 (MCP names): `mcp__everything__*` allow beats `mcp__*` deny in one scope, with real tools in a run', async () => {
  const session_id = `m${++n}`;
  await http(d.url, 'POST', '/v1/sessions', { session_id });
  for (const r of [
    { pattern: 'mcp__*', decision: 'deny' },
    { pattern: 'mcp__everything__*', decision: 'allow' },
  ])
    assert.equal((await http(d.url, 'POST', `/v1/sessions/${session_id}/permission-rules`, r)).status, 200);
  const run_id = (await http(d.url, 'POST', `/v1/sessions/${session_id}/runs`, { content: 'specific' })).body
    .run_id;
  const done = await waitForRun(d.url, run_id);
  assert.equal(done.status, 'completed', done.error);
  const decided = await traces(run_id, 'permission_decided');
  const decision = (name: string) => decided.find((t: { name: string }) => t.name === name);
  assert.equal(decision('mcp__everything__get-sum').decision, 'allow');
  assert.equal(decision('mcp__everything__get-sum').matched_rule, 'mcp__everything__*');
  assert.equal(decision('mcp__web__echo').decision, 'deny');
  assert.equal(decision('mcp__web__echo').matched_rule, 'mcp__*');
  const finished = await traces(run_id, 'tool_call_finished');
  assert.match(
    finished.find((t: { name: string }) => t.name === 'mcp__everything__get-sum').output_preview,
    /42/,
  );
});
