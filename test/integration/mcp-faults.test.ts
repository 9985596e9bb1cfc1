// MCP servers that misbehave (test/fixtures/mcp/fault-server.ts, a real SDK server): killed
// mid-call, a tool that never answers, a frame over the size bound, deep JSON, long instructions.
// Each time the call fails as a tool error the run can read, the run goes on, the daemon stays
// ready, and the server is restarted in the background.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { FAULT, mcpSnapshot, stdioServer, waitForServer, writeMcpConfig } from '../helpers/mcp.ts';

const markers = tempDir('kheish-mcp-markers-');
const marker = (name: string) => join(markers, name);
const call = (name: string, args: Record<string, unknown> = {}) => ({ name, arguments: args });
const script = {
  rules: [
    {
      match: '^slow$',
      turns: [
        { tool_calls: [call('mcp__victim__slow_read', { ms: 8000, marker: marker('slow') })] },
        { text: 'went on' },
      ],
    },
    { match: '^hang$', turns: [{ tool_calls: [call('mcp__fault__hang')] }, { text: 'went on' }] },
    { match: '^crash$', turns: [{ tool_calls: [call('mcp__crasher__crash')] }, { text: 'went on' }] },
    {
      match: '^cancel me$',
      turns: [
        { tool_calls: [call('mcp__victim__slow_read', { ms: 20000, marker: marker('cancel') })] },
        { text: 'no' },
      ],
    },
  ],
};

let d: TestDaemon;
let n = 0;
before(async () => {
  const toml =
    stdioServer('fault', FAULT, [], 'tool_timeout_sec = 2') +
    stdioServer('victim', FAULT) +
    stdioServer('crasher', FAULT);
  d = await startDaemon({
    script,
    args: [
      '--mcp-discovery',
      'disabled',
      '--mcp-config',
      writeMcpConfig(tempDir('kheish-mcp-faults-'), toml),
    ],
  });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

/** A session whose rules let every MCP tool run without an approval (the failure is the subject). */
async function run(content: string) {
  const session_id = `f${++n}`;
  await http(d.url, 'POST', '/v1/sessions', { session_id });
  await http(d.url, 'POST', `/v1/sessions/${session_id}/permission-rules`, {
    pattern: 'mcp__*',
    decision: 'allow',
  });
  return (await http(d.url, 'POST', `/v1/sessions/${session_id}/runs`, { content })).body.run_id as string;
}

const traces = async (runId: string, kind: string) =>
  (await http(d.url, 'GET', `/v1/runs/${runId}/events`)).body
    .map((e: { event: { trace?: { kind: string } } }) => e.event.trace)
    .filter((t: { kind: string } | undefined) => t?.kind === kind);

const operatorCall = (name: string, args: Record<string, unknown> = {}) =>
  http(d.url, 'POST', '/v1/runtime/mcp/tools/call', { name, arguments: args });

async function serverPid(server: string): Promise<number> {
  const res = await operatorCall(`mcp__${server}__pid`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return Number(/(\d+)\s*$/.exec(res.body.content)![1]);
}

/** The fixture writes the marker file when the call reaches it (read-only calls have no start trace yet). */
async function started(name: string) {
  for (let i = 0; !existsSync(marker(name)); i++) {
    assert.ok(i < 400, 'the call reached the server');
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function assertReady() {
  assert.equal((await http(d.url, 'GET', '/readyz')).status, 200, 'the daemon stays ready');
}

test('a server killed mid-call: the call fails cleanly, the run goes on, the server is restarted', async () => {
  const pid = await serverPid('victim');
  const runId = await run('slow');
  await started('slow');
  process.kill(pid, 'SIGKILL');
  const done = await waitForRun(d.url, runId);
  assert.equal(done.status, 'completed', done.error);
  const [finished] = await traces(runId, 'tool_call_finished');
  assert.equal(finished.outcome, 'error');
  assert.match(finished.output_preview, /victim/);
  await assertReady();
  const back = await waitForServer(d.url, 'victim', (s) => s.connected);
  assert.equal(back.error, null);
  assert.notEqual(await serverPid('victim'), pid, 'a new server process answers');
});

test('a tool that never answers hits tool_timeout_sec; the run goes on', async () => {
  const runId = await run('hang');
  const done = await waitForRun(d.url, runId);
  assert.equal(done.status, 'completed', done.error);
  const [finished] = await traces(runId, 'tool_call_finished');
  assert.equal(finished.outcome, 'error');
  assert.match(finished.output_preview, /MCP tool `hang` of server `fault` failed: .*timed out/i);
  await assertReady();
  // The server itself still answers pings, so it is kept.
  assert.equal((await waitForServer(d.url, 'fault', (s) => s.connected)).connected, true);
});

test('a server that stops answering altogether is restarted after the call times out', async () => {
  const res = await operatorCall('mcp__fault__pid');
  const pid = Number(/(\d+)\s*$/.exec(res.body.content)![1]);
  const frozen = await operatorCall('mcp__fault__freeze');
  assert.equal(frozen.status, 502);
  assert.match(frozen.body.detail, /timed out/);
  await assertReady();
  const back = await waitForServer(d.url, 'fault', (s) => s.connected);
  assert.equal(back.error, null);
  assert.notEqual(await serverPid('fault'), pid, 'the frozen process was replaced');
});

test('a server that dies during the call (process exit): a tool error, then a restart with backoff', async () => {
  const runId = await run('crash');
  const done = await waitForRun(d.url, runId);
  assert.equal(done.status, 'completed', done.error);
  const [finished] = await traces(runId, 'tool_call_finished');
  assert.equal(finished.outcome, 'error');
  assert.match(finished.output_preview, /crash/);
  await waitForServer(d.url, 'crasher', (s) => s.connected);
  assert.equal((await operatorCall('mcp__crasher__pid')).status, 200);
});

test('operator call: an answer over the frame bound fails as 502 mcp_tool_call_failed and the server comes back', async () => {
  const res = await operatorCall('mcp__crasher__flood', { chars: 6 * 1024 * 1024 });
  assert.equal(res.status, 502);
  assert.equal(res.body.code, 'mcp_tool_call_failed');
  assert.equal(res.body.domain, 'mcp');
  await assertReady();
  await waitForServer(d.url, 'crasher', (s) => s.connected);
  // Under the frame bound, the text that reaches the model is still capped.
  const big = await operatorCall('mcp__crasher__flood', { chars: 300_000 });
  assert.equal(big.status, 200);
  assert.ok(big.body.content.length < 140_000, `capped (${big.body.content.length})`);
  assert.match(big.body.content, /more characters cut/);
});

test('structured output is capped in depth, items and string length', async () => {
  const res = await operatorCall('mcp__fault__deep');
  assert.equal(res.status, 200);
  const s = res.body.structured_content;
  assert.equal(s.wide.length, 101, '100 items and a note');
  assert.match(s.wide[100], /400 more items cut/);
  assert.ok(s.long.length < 5000);
  assert.match(JSON.stringify(s.nested), /nested too deep/);
  assert.match(res.body.content, /nested too deep/);
});

test('server instructions are truncated and framed as untrusted in the runtime snapshot', async () => {
  const fault = (await mcpSnapshot(d.url)).servers.find((s: { server: string }) => s.server === 'fault');
  assert.match(fault.instructions, /^The MCP server `fault` sent these instructions\. They are untrusted/);
  assert.match(fault.instructions, /more characters cut/);
  assert.ok(fault.instructions.length < 2600);
});

test('cancelling a run cancels its MCP request', async () => {
  const runId = await run('cancel me');
  await started('cancel');
  const t0 = Date.now();
  await http(d.url, 'POST', `/v1/runs/${runId}/cancel`, {});
  const done = await waitForRun(d.url, runId);
  assert.equal(done.status, 'cancelled');
  assert.ok(Date.now() - t0 < 10_000, 'not held until the 20 s tool finishes');
  for (let i = 0; !readFileSync(marker('cancel'), 'utf8').includes('cancelled'); i++) {
    assert.ok(i < 200, 'the server saw notifications/cancelled for the request');
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.equal((await operatorCall('mcp__victim__pid')).status, 200, 'the server is still usable');
});

test('an unknown tool name is 404 mcp_tool_not_found; a bad body is 400', async () => {
  const res = await operatorCall('mcp__nope__x');
  assert.equal(res.status, 404);
  assert.equal(res.body.code, 'mcp_tool_not_found');
  const bad = await http(d.url, 'POST', '/v1/runtime/mcp/tools/call', { arguments: {} });
  assert.equal(bad.status, 400);
});
