// api-core §3.13 "Run debug" (items 47, 48) and the debug-level rules of §5.6: the bundle index,
// raw artifact text, prune (dry run and real), the 404s, and the levels a configuration cannot
// protect refused with 400. Runs on SQLite and, with KHEISH_TEST_STORE=postgres, on PostgreSQL.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { assertProblem } from './support.ts';

let d: TestDaemon;

const SCRIPT = {
  rules: [
    {
      match: 'use a tool',
      turns: [{ tool_calls: [{ name: 'list_files', arguments: { path: '.' } }] }, { text: 'listed' }],
    },
  ],
  default: { turns: [{ text: 'ok' }] },
};

async function runTo(session: string, content: string) {
  await http(d.url, 'POST', '/v1/sessions', { session_id: session });
  const sub = await http(d.url, 'POST', `/v1/sessions/${session}/runs`, { content });
  assert.equal(sub.status, 202, sub.text);
  const run = await waitForRun(d.url, sub.body.run_id);
  assert.equal(run.status, 'completed', run.error);
  return run;
}

async function setLevel(level: string) {
  const res = await http(d.url, 'POST', '/v1/runtime/debug-level', { level });
  assert.equal(res.status, 200, res.text);
}

before(async () => {
  d = await startDaemon({ script: SCRIPT });
});

after(async () => {
  await d?.stop();
  await d?.cleanup();
});

test('debug: with level off a run has no bundle (404 runs/run_debug_not_found); unknown runs are run_not_found', async () => {
  await setLevel('off');
  const run = await runTo('dbg-off', 'nothing captured');
  assertProblem(await http(d.url, 'GET', `/v1/runs/${run.run_id}/debug`), 404, 'runs', 'run_debug_not_found');
  assertProblem(await http(d.url, 'GET', '/v1/runs/run-nope/debug'), 404, 'runs', 'run_not_found');
  assertProblem(
    await http(d.url, 'GET', '/v1/runs/run-nope/debug/artifacts/turn-0001-attempt-0001-model-request'),
    404,
    'runs',
    'run_not_found',
  );
  const status = await http(d.url, 'GET', '/v1/status');
  assert.equal(status.body.debug.level, 'off');
});

test('api-core #48: an artifact listed by GET /v1/runs/{id}/debug is served as raw text, not a JSON envelope', async () => {
  await setLevel('full');
  const run = await runTo('dbg-48', 'use a tool please');
  const view = await http(d.url, 'GET', `/v1/runs/${run.run_id}/debug`);
  assert.equal(view.status, 200, view.text);
  assert.equal(view.body.run_id, run.run_id);
  assert.equal(view.body.level, 'full');
  const ids = view.body.artifacts.map((a: { artifact_id: string }) => a.artifact_id);
  assert.deepEqual(ids, [
    'turn-0001-attempt-0001-model-request',
    'turn-0001-attempt-0001-model-response',
    'turn-0002-attempt-0001-model-request',
    'turn-0002-attempt-0001-model-response',
  ]);
  for (const a of view.body.artifacts) {
    assert.equal(a.format, 'json');
    assert.equal(a.encrypted, false);
    assert.equal(a.truncated, false);
    assert.equal(a.bytes, a.plaintext_bytes);
    assert.ok(!('original_bytes' in a));
    const body = await http(d.url, 'GET', `/v1/runs/${run.run_id}/debug/artifacts/${a.artifact_id}`);
    assert.equal(body.status, 200);
    assert.match(body.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(Buffer.byteLength(body.text), a.plaintext_bytes);
    const { createHash } = await import('node:crypto');
    assert.equal(createHash('sha256').update(body.text).digest('hex'), a.sha256);
  }
  const request = JSON.parse(
    (await http(d.url, 'GET', `/v1/runs/${run.run_id}/debug/artifacts/${ids[2]}`)).text,
  );
  // The second call carries the tool call and its result back to the model.
  assert.deepEqual(
    request.messages.map((m: { role: string }) => m.role),
    ['user', 'assistant', 'tool'],
  );
  assert.ok(request.tools.some((t: { name: string }) => t.name === 'list_files'));
  const response = JSON.parse(
    (await http(d.url, 'GET', `/v1/runs/${run.run_id}/debug/artifacts/${ids[1]}`)).text,
  );
  assert.equal(response.tool_calls[0].name, 'list_files');
  assertProblem(
    await http(d.url, 'GET', `/v1/runs/${run.run_id}/debug/artifacts/turn-0009-attempt-0001-model-request`),
    404,
    'runs',
    'run_debug_artifact_not_found',
  );
  const status = await http(d.url, 'GET', '/v1/status');
  assert.ok(status.body.debug.artifact_count >= 4);
  assert.equal(status.body.debug.capture_errors, 0);
});

test('api-core #47: prune rejects non-positive older_than_ms and limit; a dry run removes nothing and leaves the run readable', async () => {
  for (const body of [
    { older_than_ms: 0 },
    { older_than_ms: -5 },
    { older_than_ms: 1, limit: 0 },
    {},
    { older_than_ms: 'x' },
  ])
    assertProblem(
      await http(d.url, 'POST', '/v1/runs/prune', body),
      400,
      'runs',
      'run_retention_invalid_request',
    );
  await setLevel('on');
  const a = await runTo('dbg-47', 'first');
  const b = await runTo('dbg-47', 'second');
  await new Promise((r) => setTimeout(r, 20));
  const dry = await http(d.url, 'POST', '/v1/runs/prune', {
    older_than_ms: 1,
    session_id: 'dbg-47',
    dry_run: true,
  });
  assert.equal(dry.status, 200, dry.text);
  assert.equal(dry.body.dry_run, true);
  assert.equal(dry.body.matched_run_count, 2);
  assert.deepEqual(dry.body.candidate_run_ids, [a.run_id, b.run_id]);
  assert.ok(dry.body.candidate_debug_bytes > 0);
  assert.deepEqual(dry.body.pruned_debug_run_ids, []);
  assert.equal(dry.body.pruned_debug_bytes, 0);
  assert.equal(dry.body.cutoff_ms, dry.body.now_ms - 1);
  assert.ok(!('limit' in dry.body));
  assert.equal((await http(d.url, 'GET', `/v1/runs/${a.run_id}/debug`)).status, 200);
  assert.equal((await http(d.url, 'GET', `/v1/runs/${a.run_id}`)).status, 200);
  assert.equal((await http(d.url, 'GET', `/v1/runs/${a.run_id}/events`)).status, 200);

  const real = await http(d.url, 'POST', '/v1/runs/prune', {
    older_than_ms: 1,
    session_id: 'dbg-47',
    limit: 1,
  });
  assert.equal(real.status, 200, real.text);
  assert.equal(real.body.dry_run, false);
  assert.equal(real.body.limit, 1);
  assert.equal(real.body.matched_run_count, 2);
  assert.deepEqual(real.body.pruned_debug_run_ids, [a.run_id]);
  assert.equal(real.body.pruned_debug_bytes, real.body.candidate_debug_bytes);
  assertProblem(await http(d.url, 'GET', `/v1/runs/${a.run_id}/debug`), 404, 'runs', 'run_debug_not_found');
  assert.equal((await http(d.url, 'GET', `/v1/runs/${b.run_id}/debug`)).status, 200);
  // Only debug evidence goes: the run record and its events stay.
  assert.equal((await http(d.url, 'GET', `/v1/runs/${a.run_id}`)).body.status, 'completed');
  const events = await http(d.url, 'GET', `/v1/runs/${a.run_id}/events`);
  assert.ok(events.body.length > 0);
  // A session filter keeps other sessions' bundles out.
  const other = await http(d.url, 'POST', '/v1/runs/prune', {
    older_than_ms: 1,
    session_id: 'no-such',
    dry_run: true,
  });
  assert.equal(other.body.matched_run_count, 0);
});

test('debug: POST /v1/runtime/debug-level refuses levels the key or the token file cannot serve (400)', async () => {
  const dir = tempDir('kheish-debug-bad-');
  const bad = await startDaemon({
    script: SCRIPT,
    env: {
      KHEISH_DEBUG_CAPTURE_KEY: 'not-a-key',
      KHEISH_DEBUG_REDACT_TOKENS_FILE: join(dir, 'missing-tokens.txt'),
    },
  });
  try {
    for (const level of ['on', 'redacted', 'full']) {
      const res = await http(bad.url, 'POST', '/v1/runtime/debug-level', { level });
      assertProblem(res, 400, 'runtime', 'debug_capture_key_invalid', level);
      assert.ok(!res.text.includes('not-a-key'), 'the key text is never echoed');
    }
    assert.equal((await http(bad.url, 'POST', '/v1/runtime/debug-level', { level: 'off' })).status, 200);
    const runtime = await http(bad.url, 'GET', '/v1/runtime');
    assert.equal(runtime.body.debug_level, 'off');
    assert.equal(runtime.body.debug_capture.encryption.enabled, false);
    assert.match(runtime.body.debug_capture.encryption.key_error, /expected 32 bytes/);
    assert.match(runtime.body.debug_capture.redaction.token_file_error, /ENOENT/);
  } finally {
    await bad.stop();
    await bad.cleanup();
  }
  // A good key but no token file: `on` needs no tokens, `redacted` and `full` do.
  const tokensOnly = await startDaemon({
    script: SCRIPT,
    env: { KHEISH_DEBUG_REDACT_TOKENS_FILE: join(dir, 'missing-tokens.txt') },
  });
  try {
    for (const level of ['redacted', 'full'])
      assertProblem(
        await http(tokensOnly.url, 'POST', '/v1/runtime/debug-level', { level }),
        400,
        'runtime',
        'debug_redaction_config_invalid',
        level,
      );
    assert.equal(
      (await http(tokensOnly.url, 'POST', '/v1/runtime/debug-level', { level: 'on' })).status,
      200,
    );
    writeFileSync(join(dir, 'missing-tokens.txt'), 'tenant-canary-1\n');
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(
      (await http(tokensOnly.url, 'POST', '/v1/runtime/debug-level', { level: 'full' })).status,
      200,
      'readable again: allowed',
    );
  } finally {
    await tokensOnly.stop();
    await tokensOnly.cleanup();
  }
});

test('debug: a persisted level the restarted daemon cannot serve captures nothing, shows why, and cannot be rolled back to', async () => {
  let first = await startDaemon({ script: SCRIPT });
  try {
    assert.equal((await http(first.url, 'POST', '/v1/runtime/debug-level', { level: 'full' })).status, 200);
    const capturing = (await http(first.url, 'GET', '/v1/runtime')).body.config.revision;
    assert.equal((await http(first.url, 'POST', '/v1/runtime/debug-level', { level: 'off' })).status, 200);
    assert.equal((await http(first.url, 'POST', '/v1/runtime/debug-level', { level: 'on' })).status, 200);
    await first.stop();
    first = await first.restart({ env: { KHEISH_DEBUG_CAPTURE_KEY: 'short' } });
    // The daemon starts; the persisted `on` is not served and /v1/status says why.
    const status = await http(first.url, 'GET', '/v1/status');
    assert.equal(status.body.debug.level, 'on');
    assert.equal(status.body.debug.blocked.code, 'debug_capture_key_invalid');
    assert.match(first.logs(), /no debug artifact is written/);
    await http(first.url, 'POST', '/v1/sessions', { session_id: 'dbg-blocked' });
    const sub = await http(first.url, 'POST', '/v1/sessions/dbg-blocked/runs', { content: 'hi' });
    assert.equal((await waitForRun(first.url, sub.body.run_id)).status, 'completed');
    assertProblem(
      await http(first.url, 'GET', `/v1/runs/${sub.body.run_id}/debug`),
      404,
      'runs',
      'run_debug_not_found',
    );
    // A rollback to the revision that enabled `full` is refused like setting it.
    const before = (await http(first.url, 'GET', '/v1/runtime')).body.config.revision;
    assertProblem(
      await http(first.url, 'POST', '/v1/runtime/rollback', { target_revision: capturing }),
      400,
      'runtime',
      'debug_capture_key_invalid',
    );
    assert.equal((await http(first.url, 'GET', '/v1/runtime')).body.config.revision, before);
  } finally {
    await first.stop();
    await first.cleanup();
  }
});
