// Crash during an MCP tool call: SIGKILL the daemon while a tool of a real MCP server (the fault
// fixture) is running. A side-effecting MCP tool whose outcome is unknown is never re-run blindly:
// after the restart the run parks in waiting_for_approval with reason
// outcome_unknown_after_restart. A read-only one (readOnlyHint) is simply run again.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { FAULT, stdioServer, waitForServer, writeMcpConfig } from '../helpers/mcp.ts';

const work = tempDir('kheish-crash-mcp-');
const ledger = join(work, 'ledger.txt');
const reads = join(work, 'reads.txt');
const script = {
  rules: [
    {
      match: '^write$',
      turns: [
        {
          tool_calls: [
            { name: 'mcp__fault__slow_write', arguments: { file: ledger, line: 'paid', ms: 1500 } },
          ],
        },
        { text: 'written' },
      ],
    },
    {
      match: '^read$',
      turns: [
        { tool_calls: [{ name: 'mcp__fault__slow_read', arguments: { ms: 1500, marker: reads } }] },
        { text: 'read' },
      ],
    },
  ],
};
const args = [
  '--mcp-discovery',
  'disabled',
  '--mcp-config',
  writeMcpConfig(work, stdioServer('fault', FAULT)),
];

const alive: TestDaemon[] = [];
after(async () => {
  for (const d of alive) await d.kill().catch(() => undefined);
  for (const d of alive) await d.cleanup().catch(() => undefined);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const traces = async (url: string, runId: string, kind: string) =>
  (await http(url, 'GET', `/v1/runs/${runId}/events`)).body
    .map((e: { event: { trace?: { kind: string } } }) => e.event.trace)
    .filter((t: { kind: string } | undefined) => t?.kind === kind);

async function submit(url: string, content: string, rules: unknown[] = []) {
  const session_id = `c-${content}`;
  await http(url, 'POST', '/v1/sessions', { session_id });
  for (const r of rules) await http(url, 'POST', `/v1/sessions/${session_id}/permission-rules`, r);
  return (await http(url, 'POST', `/v1/sessions/${session_id}/runs`, { content })).body.run_id as string;
}

test('crash: SIGKILL during a side-effecting MCP call parks the run with outcome_unknown_after_restart (no blind replay)', async () => {
  let d = await startDaemon({ script, args });
  alive.push(d);
  const runId = await submit(d.url, 'write');
  const waiting = await waitForRun(d.url, runId, (r) => r.status === 'waiting_for_approval');
  await http(d.url, 'POST', `/v1/runs/${runId}/approvals`, {
    resolutions: waiting.pending_approval_ids.map((id: string) => ({ request_id: id, behavior: 'allow' })),
  });
  // The start of a side-effecting call is durable before the call is made.
  for (let i = 0; (await traces(d.url, runId, 'tool_call_started')).length === 0; i++) {
    assert.ok(i < 400, 'the call started');
    await sleep(10);
  }
  await d.kill();
  d = await d.restart();
  alive.push(d);
  const parked = await waitForRun(d.url, runId, (r) => r.status === 'waiting_for_approval');
  assert.equal(parked.pending_approvals.length, 1);
  assert.equal(parked.pending_approvals[0].reason, 'outcome_unknown_after_restart');
  assert.equal(parked.pending_approvals[0].tool_name, 'mcp__fault__slow_write');
  // The orphaned server of the dead daemon may still finish its write; nobody starts a second one.
  await sleep(2500);
  const lines = existsSync(ledger) ? readFileSync(ledger, 'utf8').trim().split('\n').filter(Boolean) : [];
  assert.ok(lines.length <= 1, `written at most once: ${JSON.stringify(lines)}`);
  assert.equal((await http(d.url, 'GET', `/v1/runs/${runId}`)).body.status, 'waiting_for_approval');
  await http(d.url, 'POST', `/v1/runs/${runId}/approvals`, {
    resolutions: parked.pending_approval_ids.map((id: string) => ({
      request_id: id,
      behavior: 'deny',
      result: lines.length ? 'already written before the crash' : 'skipped',
    })),
  });
  const done = await waitForRun(d.url, runId);
  assert.equal(done.status, 'completed', done.error);
  const after = existsSync(ledger) ? readFileSync(ledger, 'utf8').trim().split('\n').filter(Boolean) : [];
  assert.deepEqual(after, lines, 'resolving the question ran nothing');
});

test('crash: SIGKILL during a read-only MCP call (readOnlyHint) re-runs it after the restart', async () => {
  let d = await startDaemon({ script, args });
  alive.push(d);
  await waitForServer(d.url, 'fault', (s) => s.connected);
  const runId = await submit(d.url, 'read', [{ pattern: 'mcp__fault__*', decision: 'allow' }]);
  for (let i = 0; !existsSync(reads); i++) {
    assert.ok(i < 400, 'the call reached the server');
    await sleep(10);
  }
  await d.kill();
  d = await d.restart();
  alive.push(d);
  const done = await waitForRun(d.url, runId, undefined, 20_000);
  assert.equal(done.status, 'completed', done.error);
  const lines = readFileSync(reads, 'utf8').trim().split('\n');
  assert.ok(lines.filter((l) => l === 'read').length >= 2, 'the read ran again');
  assert.equal(done.pending_approvals?.length ?? 0, 0);
});
