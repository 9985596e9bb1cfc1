// Newer surfaces of the published docs: GET /v1/logs (admin only; the daemon's recent log records,
// no secret in them), GET /v1/docs (the documentation manifest and its pages) and
// GET /v1/sessions/{id}/approvals (the pending approvals of one session).
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, tempDir } from '../helpers/daemon.ts';

const ADMIN = 'admin-token-logs-0123456789';
const READONLY = 'readonly-token-logs-0123456789';
const admin = { authorization: `Bearer ${ADMIN}` };
const readonly = { authorization: `Bearer ${READONLY}` };
const pause = () => new Promise((r) => setTimeout(r, 20));
const SECRET = 'sk-env-logs-9f8e7d6c5b4a';

const dir = tempDir('kheish-logs-');
const script = join(dir, 'script.json');
writeFileSync(
  script,
  JSON.stringify({
    rules: [
      {
        match: '^risky',
        turns: [{ tool_calls: [{ name: 'bash', arguments: { command: 'echo hi' } }] }, { text: 'done' }],
      },
    ],
    default: { turns: [{ text: 'ok' }] },
  }),
);

let d: TestDaemon;
before(async () => {
  d = await startDaemon({
    routesToml: `version = 1
default_route = "local"

[routes.local]
driver = "scripted"
default_model = "scripted"
script_file = ${JSON.stringify(script)}

[routes.vendor]
driver = "openai_compatible"
default_model = "m"
base_url = "http://127.0.0.1:9/v1"
api_key_env = "LOGS_TEST_KEY"
`,
    args: ['--http-admin-token', ADMIN, '--http-readonly-token', READONLY, '--log-level', 'debug'],
    env: { LOGS_TEST_KEY: SECRET },
  });
});
after(async () => {
  await d.kill();
  await d.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test('GET /v1/logs: admin only; recent records oldest first with timestamp_ms, level, target, message, fields; a limit', async () => {
  assert.equal((await http(d.url, 'GET', '/v1/logs', undefined, readonly)).status, 403);
  assert.equal((await http(d.url, 'GET', '/v1/logs')).status, 401);
  const all = await http(d.url, 'GET', '/v1/logs', undefined, admin);
  assert.equal(all.status, 200, all.text);
  assert.ok(all.body.length > 0);
  for (const e of all.body) {
    assert.equal(typeof e.timestamp_ms, 'number');
    assert.ok(['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(e.level), e.level);
    assert.equal(typeof e.target, 'string');
    assert.equal(typeof e.message, 'string');
    assert.equal(typeof e.fields, 'object');
  }
  for (let i = 1; i < all.body.length; i++)
    assert.ok(all.body[i - 1].timestamp_ms <= all.body[i].timestamp_ms);
  assert.ok(
    all.body.some((e: { message: string }) => /ready/.test(e.message)),
    'the start-up lines are there',
  );
  const two = (await http(d.url, 'GET', '/v1/logs?limit=2', undefined, admin)).body;
  assert.equal(two.length, 2);
  const bad = await http(d.url, 'GET', '/v1/logs?limit=0', undefined, admin);
  assert.deepEqual([bad.status, bad.body.code], [400, 'invalid_limit']);
});

test('GET /v1/logs never shows a secret the daemon holds, even one a log line quoted', async () => {
  // The request log (debug) records the path, which here carries the provider key.
  assert.equal((await http(d.url, 'GET', `/v1/sessions/${SECRET}`, undefined, admin)).status, 404);
  // Stderr gets the line as written (this masking is the ring's, not the process log's).
  while (!d.logs().includes(SECRET)) await pause();
  let text = '';
  for (;;) {
    text = (await http(d.url, 'GET', '/v1/logs?limit=5000', undefined, admin)).text;
    if (/\/v1\/sessions\/\[redacted\]/.test(text)) break;
    await pause();
  }
  assert.doesNotMatch(text, new RegExp(SECRET));
});

test('GET /v1/docs lists the documentation pages; each page is served as markdown; read-only may read them', async () => {
  const manifest = await http(d.url, 'GET', '/v1/docs', undefined, readonly);
  assert.equal(manifest.status, 200, manifest.text);
  const ids = manifest.body.pages.map((p: { id: string }) => p.id);
  for (const id of ['configuration', 'http-api', 'status']) assert.ok(ids.includes(id), id);
  const page = manifest.body.pages.find((p: { id: string }) => p.id === 'status');
  assert.deepEqual(
    [page.title, page.path, page.url],
    ['Status and health', 'docs/status.md', '/v1/docs/status'],
  );
  const md = await http(d.url, 'GET', page.url, undefined, readonly);
  assert.equal(md.status, 200);
  assert.match(md.headers.get('content-type') ?? '', /^text\/markdown/);
  assert.equal(Buffer.byteLength(md.text), page.bytes);
  assert.match(md.text, /^# Status and health/);
  const missing = await http(d.url, 'GET', '/v1/docs/..%2Fpackage', undefined, readonly);
  assert.deepEqual([missing.status, missing.body.code], [404, 'doc_not_found']);
});

test('GET /v1/sessions/{id}/approvals lists the pending approvals of that session only', async () => {
  for (const sid of ['appr-a', 'appr-b'])
    assert.equal((await http(d.url, 'POST', '/v1/sessions', { session_id: sid }, admin)).status, 201);
  const run = await http(d.url, 'POST', '/v1/sessions/appr-a/runs', { content: 'risky' }, admin);
  const status = async () =>
    (await http(d.url, 'GET', `/v1/runs/${run.body.run_id}`, undefined, readonly)).body.status;
  while ((await status()) !== 'waiting_for_approval') await pause();
  const list = await http(d.url, 'GET', '/v1/sessions/appr-a/approvals', undefined, readonly);
  assert.equal(list.status, 200, list.text);
  assert.equal(list.body.length, 1);
  assert.equal(list.body[0].run_id, run.body.run_id);
  assert.equal(list.body[0].request.tool_name, 'bash');
  assert.deepEqual((await http(d.url, 'GET', '/v1/sessions/appr-b/approvals', undefined, readonly)).body, []);
  assert.equal((await http(d.url, 'GET', '/v1/sessions/none/approvals', undefined, readonly)).status, 404);
  const resolved = await http(
    d.url,
    'POST',
    '/v1/sessions/appr-a/approvals',
    {
      resolutions: [{ request_id: list.body[0].request.id, behavior: 'deny' }],
    },
    admin,
  );
  assert.equal(resolved.status, 200, resolved.text);
  assert.deepEqual((await http(d.url, 'GET', '/v1/sessions/appr-a/approvals', undefined, readonly)).body, []);
});
