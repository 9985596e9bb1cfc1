// The completion boundary: output contracts with tool-free repair turns, completion
// requirements, and context compaction — all through a real daemon and the scripted driver.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { collectSse, http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['count'],
  properties: { count: { type: 'integer' }, note: { type: 'string' } },
};

const dir = tempDir('kheish-routes-');
writeFileSync(
  join(dir, 'script.json'),
  JSON.stringify({
    rules: [
      { match: 'fenced', turns: [{ text: '```json\n{ "note": "x", "count": 2 }\n```' }] },
      {
        match: 'repairable',
        turns: [{ text: 'about three' }, { text: '{"count":"3"}' }, { text: '{"count":3}' }],
      },
      { match: 'hopeless', turns: Array.from({ length: 12 }, (_, i) => ({ text: `not json ${i}` })) },
      { match: 'needs file', turns: [{ text: 'done' }, { text: 'done again' }, { text: 'still done' }] },
      { match: 'chatty', turns: [{ text: 'x'.repeat(400) }] },
    ],
    default: { turns: [{ text: 'ok' }] },
  }),
);
const routes = `version = 1
default_route = "small"

[routes.small]
driver = "scripted"
default_model = "scripted"
script_file = "script.json"
context_window_tokens = 300
`;
writeFileSync(join(dir, 'routes.toml'), routes);

let d: TestDaemon;
const workspace = tempDir('kheish-ws-');
before(async () => {
  d = await startDaemon({ args: ['--routes-file', join(dir, 'routes.toml'), '--workspace-root', workspace] });
});
after(async () => {
  await d.kill();
  d.cleanup();
});

let n = 0;
async function submit(content: string, extra: Record<string, unknown> = {}, session = `c${++n}`) {
  await http(d.url, 'POST', '/v1/sessions', { session_id: session });
  const r = await http(d.url, 'POST', `/v1/sessions/${session}/runs`, { content, ...extra });
  assert.equal(r.status, 202, r.text);
  return waitForRun(d.url, r.body.run_id);
}

test('output contract: a fenced conforming answer is delivered as canonical JSON with structured_output', async () => {
  const run = await submit('fenced', { output_contract: { schema } });
  assert.equal(run.status, 'completed');
  assert.equal(run.outputs.length, 1);
  assert.equal(run.outputs[0].content, '{"count":2,"note":"x"}');
  assert.deepEqual(run.outputs[0].metadata, {
    output_kind: 'structured_output',
    structured_output: { note: 'x', count: 2 },
  });
});

test('output contract: tool-free repair turns fix a non-conforming answer; only the valid one is an output', async () => {
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'contract' });
  const set = await http(d.url, 'PUT', '/v1/sessions/contract/output-contract', {
    output_contract: { schema },
  });
  assert.equal(set.status, 200);
  assert.equal(set.body.output_contract.max_repair_attempts, 3);
  const run = await submit('repairable', {}, 'contract');
  assert.equal(run.status, 'completed', run.error);
  assert.deepEqual(
    run.outputs.map((o: { content: string }) => o.content),
    ['{"count":3}'],
  );
  assert.equal(run.usage.model_calls, 3);
  const log = await http(d.url, 'GET', '/v1/sessions/contract/events');
  assert.ok(log.body.session.output_contract);
});

test('output contract: repairs stop at the cap of 5 even when 10 are asked, then the run fails clearly', async () => {
  const run = await submit('hopeless', { output_contract: { schema, max_repair_attempts: 10 } });
  assert.equal(run.status, 'failed');
  assert.equal(run.error_code, 'output_contract_unsatisfied');
  assert.match(
    run.error,
    /structured output contract unsatisfied after 5 repair attempts: \$: the reply is not exactly one JSON value/,
  );
  assert.equal(run.usage.model_calls, 6);
});

test('output contract: an unsupported schema is refused at submit and creates no run', async () => {
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'badschema' });
  const r = await http(d.url, 'POST', '/v1/sessions/badschema/runs', {
    content: 'x',
    output_contract: { schema: { type: 'object', properties: { a: { type: 'string', pattern: '^a' } } } },
  });
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'output_contract_schema_unsupported');
  assert.match(r.body.detail, /\$\.a: keyword `pattern` is not supported/);
  assert.match(r.body.detail, /additionalProperties: false/);
  assert.deepEqual((await http(d.url, 'GET', '/v1/runs?session_id=badschema')).body, []);
});

test('completion requirements: follow-up turns, then a clear failure when the file never appears', async () => {
  const run = await submit('needs file', {
    completion_requirements: [{ type: 'workspace_file', path: 'reports/final.md' }],
  });
  assert.equal(run.status, 'failed');
  assert.equal(run.error_code, 'completion_requirements_unmet');
  assert.match(run.error, /reports\/final\.md/);
  assert.equal(run.usage.model_calls, 3, 'one answer and two follow-ups');
  writeFileSync(join(workspace, 'present.md'), 'here');
  const ok = await submit('needs file', {
    completion_requirements: [{ type: 'workspace_file', path: 'present.md' }],
  });
  assert.equal(ok.status, 'completed');
  const outside = await submit('needs file', {
    completion_requirements: [{ type: 'workspace_file', path: '../outside.md' }],
  });
  assert.equal(outside.status, 'failed', 'a path outside the workspace never satisfies a requirement');
});

test('compaction: a long session is summarised into a checkpoint; recent entries stay verbatim', async () => {
  for (let i = 0; i < 4; i++) assert.equal((await submit('chatty', {}, 'long')).status, 'completed');
  const log = await http(d.url, 'GET', '/v1/sessions/long/events');
  const outputs = log.body.daemon_outputs.map((o: { content: string }) => o.content.length);
  assert.deepEqual(outputs, [400, 400, 400, 400], 'every answer is still an output');
  const stream = await collectSse(`${d.url}/v1/sessions/long/stream?cursor=0`, {
    until: (frames) => frames.some((f) => f.event === 'trace' && f.data.trace.kind === 'context_compacted'),
    timeoutMs: 3000,
  });
  const compacted = stream.frames.filter(
    (f) => f.event === 'trace' && f.data.trace.kind === 'context_compacted',
  );
  assert.ok(compacted.length >= 1, 'the compaction is announced as a durable trace event');
  assert.ok(compacted[0]!.data.trace.upto_seq > 0);
});
