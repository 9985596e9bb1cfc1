// api-core §15 runtime items 66, 67, 72, 73 and the ToolRuntimeLimits enforcement behind #72
// (ops-runtime §10): limits are revisioned, survive a restart and bound the next tool batch.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import {
  BIN,
  collectSse,
  http,
  startDaemon,
  type TestDaemon,
  tempDir,
  waitForRun,
} from '../helpers/daemon.ts';
import { journalPayloads } from '../helpers/state-query.ts';
import { assertProblem } from './support.ts';

const workspace = tempDir('kheish-ws-');
const script = {
  rules: [
    {
      match: 'three calls',
      turns: [
        {
          tool_calls: [
            { name: 'list_files', arguments: {} },
            { name: 'list_files', arguments: {} },
            { name: 'list_files', arguments: {} },
          ],
        },
        { text: 'listed' },
      ],
    },
    {
      match: 'read big',
      turns: [{ tool_calls: [{ name: 'read_file', arguments: { path: 'big.txt' } }] }, { text: 'read' }],
    },
    {
      match: 'write it',
      turns: [
        { tool_calls: [{ name: 'write_file', arguments: { path: 'out.txt', content: 'x' } }] },
        { text: 'wrote' },
      ],
    },
  ],
  default: { turns: [{ text: 'ok' }] },
};

let d: TestDaemon;
let n = 0;
before(async () => {
  d = await startDaemon({ script, args: ['--workspace-root', workspace] });
});
after(async () => {
  await d.kill();
  await d.cleanup();
});

async function runIn(content: string, mode = 'default') {
  await http(d.url, 'POST', '/v1/runtime/permission-mode', { mode });
  const session = `rt${++n}`;
  await http(d.url, 'POST', '/v1/sessions', { session_id: session });
  const run = (await http(d.url, 'POST', `/v1/sessions/${session}/runs`, { content })).body;
  return { session, run: await waitForRun(d.url, run.run_id) };
}

const journal = (runId: string, kind: string) => journalPayloads(d, runId, kind);
const toolResults = (
  runId: string,
): Promise<Array<{ tool_call_id: string; content: string; is_error: boolean }>> =>
  journal(runId, 'tool_result');
const callIds = async (runId: string): Promise<string[]> =>
  (await journal(runId, 'assistant_message')).flatMap((m) =>
    (m.tool_calls ?? []).map((c: { id: string }) => c.id),
  );

const setLimits = (limits: unknown, expected_revision?: number) =>
  http(d.url, 'POST', '/v1/runtime/tool-limits', { limits, expected_revision });

test('api-core #66: each permission mode is accepted and reflected; an unknown mode is a 400 problem', async () => {
  for (const mode of ['default', 'acceptEdits', 'bypassPermissions', 'plan', 'dontAsk']) {
    const res = await http(d.url, 'POST', '/v1/runtime/permission-mode', { mode });
    assert.equal(res.status, 200, res.text);
    assert.equal((await http(d.url, 'GET', '/v1/runtime')).body.permission_mode, mode);
  }
  assertProblem(await http(d.url, 'POST', '/v1/runtime/permission-mode', { mode: 'yolo' }), 400);
  await http(d.url, 'POST', '/v1/runtime/permission-mode', { mode: 'default' });
});

test('api-core #67 / ops-runtime #34: a stale expected_revision is a 409; a change bumps the revision by one and emits runtime_updated', async () => {
  const before = (await http(d.url, 'GET', '/v1/runtime')).body.config.revision as number;
  assertProblem(await setLimits({}, before + 5), 409, 'runtime', 'runtime_revision_conflict');
  const ok = await setLimits({ max_parallel_tools: 4 }, before);
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.config.revision, before + 1);
  const updated = (f: { event: string; data: any }) =>
    f.event === 'runtime_updated' && f.data.runtime?.config?.revision === before + 1;
  const { frames } = await collectSse(`${d.url}/v1/events/stream?cursor=0`, {
    until: (fs) => fs.some(updated),
  });
  assert.ok(frames.some(updated), 'runtime_updated with the new revision is on the global stream');
  await setLimits({});
});

test('api-core #72: a numeric tool limit of 0 is refused with runtime/invalid_tool_runtime_limits', async () => {
  const revision = (await http(d.url, 'GET', '/v1/runtime')).body.config.revision;
  for (const bad of [
    { max_timeout_ms: 0 },
    { max_parallel_tools: 0 },
    { max_calls_per_turn: -1 },
    { max_output_bytes: 1.5 },
    { max_input_bytes: '10' },
    { max_sandbox: 'everything' },
    { unknown_limit: 1 },
  ]) {
    assertProblem(await setLimits(bad), 400, 'runtime', 'invalid_tool_runtime_limits');
  }
  assertProblem(
    await http(d.url, 'POST', '/v1/runtime/tool-limits', {}),
    400,
    'runtime',
    'invalid_tool_runtime_limits',
  );
  assert.equal(
    (await http(d.url, 'GET', '/v1/runtime')).body.config.revision,
    revision,
    'nothing was applied',
  );
});

test('api-core #73: the permission dry run decides without creating anything; an unknown session is 404', async () => {
  const runsBefore = (await http(d.url, 'GET', '/v1/runs')).body.length;
  const res = await http(d.url, 'POST', '/v1/runtime/permissions/check', { tool_name: 'bash', input: {} });
  assert.equal(res.status, 200, res.text);
  assert.ok(['allow', 'ask', 'deny'].includes(res.body.decision));
  assert.equal(res.body.hooks_evaluated, false);
  assert.equal(res.body.hook_policy, 'not_executed_in_dry_run');
  assert.equal((await http(d.url, 'GET', '/v1/runs')).body.length, runsBefore);
  assert.deepEqual((await http(d.url, 'GET', '/v1/approvals')).body, []);
  const missing = await http(d.url, 'POST', '/v1/runtime/permissions/check', {
    tool_name: 'bash',
    session_id: 'nope',
    input: {},
  });
  assertProblem(missing, 404, undefined, 'session_not_found');
});

test('tool limits: GET returns the whole object with the spec defaults; GET /v1/runtime shows it', async () => {
  await setLimits({});
  const limits = (await http(d.url, 'GET', '/v1/runtime/tool-limits')).body;
  assert.deepEqual(limits, {
    max_input_bytes: 16777216,
    max_output_bytes: 16777216,
    max_result_envelope_bytes: 25165824,
    max_timeout_ms: 180000,
    max_parallel_tools: 16,
    max_calls_per_turn: 256,
    max_cumulative_output_bytes: 67108864,
    max_cumulative_result_envelope_bytes: 100663296,
    max_sandbox: 'network_enabled',
  });
  assert.deepEqual((await http(d.url, 'GET', '/v1/runtime')).body.tool_runtime_limits, limits);
});

test('tool limits: max_calls_per_turn refuses the calls past the cap, the run goes on', async () => {
  await setLimits({ max_calls_per_turn: 2 });
  const { run } = await runIn('three calls');
  assert.equal(run.status, 'completed', run.error);
  const results = await toolResults(run.run_id);
  assert.equal(results.length, 3);
  const refused = results.filter((r) => r.is_error);
  assert.equal(refused.length, 1);
  assert.equal(
    refused[0]!.tool_call_id,
    (await callIds(run.run_id))[2],
    'the call past the cap is the one refused',
  );
  assert.match(refused[0]!.content, /max_calls_per_turn \(2\)/);
  await setLimits({});
});

test('tool limits: max_output_bytes truncates a result and says so', async () => {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(workspace, 'big.txt'), 'y'.repeat(20_000));
  await setLimits({ max_output_bytes: 2000 });
  const { run } = await runIn('read big');
  const [result] = await toolResults(run.run_id);
  assert.ok(Buffer.byteLength(result!.content) < 2200, `bounded: ${result!.content.length}`);
  assert.match(result!.content, /truncated|bytes/);
  await setLimits({});
});

test('tool limits: max_sandbox read_only refuses file writes even where permissions allow them', async () => {
  await setLimits({ max_sandbox: 'read_only' });
  const { run } = await runIn('write it', 'bypassPermissions');
  assert.equal(run.status, 'completed', run.error);
  const [result] = await toolResults(run.run_id);
  assert.equal(result!.is_error, true);
  assert.match(result!.content, /read_only/);
  assert.equal(existsSync(join(workspace, 'out.txt')), false);
  await setLimits({});
  await http(d.url, 'POST', '/v1/runtime/permission-mode', { mode: 'default' });
});

test('tool limits: the revision persists across a restart', async () => {
  await setLimits({ max_parallel_tools: 3, max_calls_per_turn: 7 });
  await d.stop();
  d = await d.restart();
  const limits = (await http(d.url, 'GET', '/v1/runtime/tool-limits')).body;
  assert.equal(limits.max_parallel_tools, 3);
  assert.equal(limits.max_calls_per_turn, 7);
  await setLimits({});
});

test('ops-runtime #36: `runtime tool-limits set` with a limit of 0 fails with runtime/invalid_tool_runtime_limits', async () => {
  const file = join(workspace, 'limits.json');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(file, JSON.stringify({ max_timeout_ms: 0 }));
  const cli = (args: string[]) =>
    promisify(execFile)(BIN, ['--base-url', d.url, '--output', 'json', ...args], { encoding: 'utf8' }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
  const bad = await cli(['runtime', 'tool-limits', 'set', '--file', file]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr + bad.stdout, /invalid_tool_runtime_limits/);
  writeFileSync(file, JSON.stringify({ limits: { max_timeout_ms: 5000 } }));
  const good = await cli(['runtime', 'tool-limits', 'set', '--file', file]);
  assert.equal(good.code, 0, good.stderr);
  assert.equal(JSON.parse(good.stdout).tool_runtime_limits.max_timeout_ms, 5000);
  const reset = await cli(['runtime', 'tool-limits', 'set', '--reset']);
  assert.equal(JSON.parse(reset.stdout).tool_runtime_limits.max_timeout_ms, 180000);
});
