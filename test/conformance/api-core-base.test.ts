// api-core §15 "Base conventions" (items 1-7) plus problem+json for bad bodies and cursors.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { type HttpResult, http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { assertProblem, assertProblemShape, createSession, SCRIPT, sleep } from './support.ts';

let d: TestDaemon;
let base: string;
/** Every problem response seen in this file, re-checked by #2/#3. */
const problems: Array<{ where: string; res: HttpResult }> = [];

async function call(method: string, path: string, body?: unknown, headers?: Record<string, string>) {
  const res = await http(base, method, path, body, headers);
  if (res.status >= 400) problems.push({ where: `${method} ${path}`, res });
  return res;
}

before(async () => {
  d = await startDaemon({ script: SCRIPT });
  base = d.url;
});

after(async () => {
  await d?.stop();
  await d?.cleanup();
});

test('api-core #1: an unknown /v1 route is 404 Problem(api/route_not_found)', async () => {
  for (const [method, path] of [
    ['GET', '/v1/nope'],
    ['GET', '/v1/sessions/s1/nope/deeper'],
    ['POST', '/v1/not-a-route'],
    ['DELETE', '/v1/runs'],
    ['PATCH', '/v1/capabilities'],
  ] as const) {
    const res = await call(method, path, method === 'GET' ? undefined : {});
    assertProblem(res, 404, 'api', 'route_not_found', `${method} ${path}`);
  }
});

test('api-core #2/#3 (extra): malformed JSON, wrong types and unknown fields are 400 problems, never 500', async () => {
  const sid = await createSession(base);
  const cases: Array<[string, string, unknown, Record<string, string>?]> = [
    ['POST', '/v1/sessions', '{"session_id": '],
    ['POST', '/v1/sessions', '[1,2'],
    ['POST', `/v1/sessions/${sid}/runs`, '{not json}'],
    ['POST', `/v1/sessions/${sid}/runs`, { content: 5 }],
    ['POST', `/v1/sessions/${sid}/runs`, { content: 'x', input_items: 'nope' }],
    ['POST', `/v1/sessions/${sid}/runs`, { content: 'x', input_items: [{ type: 'bogus' }] }],
    ['POST', `/v1/sessions/${sid}/input`, { content: ['x'] }],
    ['POST', '/v1/sessions', { session_id: 42 }],
    ['POST', '/v1/sessions', { session_id: 'x', no_such_field: true }],
    ['POST', `/v1/sessions/${sid}/route-policy`, { route_policy: { generation: { temperature: 'hot' } } }],
    ['POST', `/v1/sessions/${sid}/credential-scope`, { credential_scope: { route_allow: 'a' } }],
    ['POST', `/v1/sessions/${sid}/end`, { reason: 7 }],
  ];
  for (const [method, path, body, headers] of cases) {
    const res = await call(method, path, body, headers);
    assertProblem(res, 400, undefined, undefined, `${method} ${path} ${JSON.stringify(body)}`);
  }
});

test('api-core #2/#3 (extra): a body without a JSON content type is 415 api/unsupported_media_type', async (t) => {
  // docs/decisions.md #10. curl -d sends form-urlencoded; fetch with a string body sends text/plain.
  const sid = await createSession(base);
  for (const type of ['application/x-www-form-urlencoded', 'text/plain;charset=UTF-8']) {
    await t.test(type, async () => {
      const res = await call('POST', `/v1/sessions/${sid}/runs`, '{"content":"hi"}', {
        'content-type': type,
      });
      assertProblem(res, 415, 'api', 'unsupported_media_type', `${type} body`);
    });
  }
});

/** Announces a body over the limit, sends its first bytes, and reads the daemon's early answer. */
function announceOversizedPost(url: string, path: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const sock = connect(Number(u.port), u.hostname);
    let data = '';
    sock.on('data', (c) => {
      data += c.toString('latin1');
    });
    sock.on('error', () => undefined);
    sock.on('close', () => resolve(data));
    sock.write(
      `POST ${path} HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/json\r\n` +
        `content-length: ${25 * 1024 * 1024}\r\nconnection: close\r\n\r\n{"content":"xxxx`,
    );
    setTimeout(() => sock.destroy(), 3000);
  });
}

test('api-core #2/#3 (extra): a body over 24 MiB is 413 Problem(payload_too_large)', async (t) => {
  const sid = await createSession(base);
  await t.test('announced by Content-Length: answered before the body is read', async () => {
    const raw = await announceOversizedPost(base, `/v1/sessions/${sid}/runs`);
    const m = /^HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(raw);
    assert.ok(m, `an HTTP answer arrives: ${JSON.stringify(raw.slice(0, 200))}`);
    assert.equal(Number(m[1]), 413, raw);
    assert.match(m[2]!.toLowerCase(), /content-type: application\/problem\+json/);
    const body = JSON.parse(m[3]!);
    assert.equal(body.code, 'payload_too_large');
    assert.equal(body.status, 413);
    assert.equal(body.type, 'urn:kheish:problem:payload_too_large');
  });
  await t.test('sent in full by an ordinary client (fetch): the client receives the 413', async () => {
    // Several attempts: a daemon that closes without draining the upload loses its answer only
    // sometimes (TCP reset races the response), so one lucky attempt proves nothing.
    const big = JSON.stringify({ content: 'x'.repeat(24 * 1024 * 1024 + 64 * 1024) });
    for (let attempt = 1; attempt <= 3; attempt++) {
      let res: HttpResult;
      try {
        res = await call('POST', `/v1/sessions/${sid}/runs`, big);
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
        assert.fail(
          `attempt ${attempt}: the daemon closed the connection before the client read its 413 (${cause})`,
        );
      }
      assertProblem(res, 413, undefined, 'payload_too_large', `oversized body, attempt ${attempt}`);
    }
  });
  await t.test('a body just under the limit is parsed', async () => {
    const ok = await http(base, 'POST', `/v1/sessions/${sid}/runs`, { content: 'y'.repeat(1024 * 1024) });
    assert.equal(ok.status, 202, ok.text.slice(0, 300));
  });
});

test('api-core #2/#3 (extra): non-numeric or foreign cursors and limits are 400 problems, never 500', async () => {
  const cases: Array<[string, string, string]> = [
    ['/v1/sessions?cursor=abc!', 'pagination', 'invalid_cursor'],
    ['/v1/sessions?page=true&cursor=%25%25%25', 'pagination', 'invalid_cursor'],
    ['/v1/runs?cursor=abc!', 'pagination', 'invalid_cursor'],
    // A well-formed but foreign (non-numeric key) cursor on the runs list.
    [
      `/v1/runs?cursor=${Buffer.from(JSON.stringify({ k: 'zz' })).toString('base64url')}`,
      'pagination',
      'invalid_cursor',
    ],
    ['/v1/sessions?limit=abc', 'pagination', 'invalid_limit'],
    ['/v1/runs?limit=-3', 'pagination', 'invalid_limit'],
    ['/v1/runs?limit=1.5&page=true', 'pagination', 'invalid_limit'],
    ['/v1/events/stream?cursor=abc', 'events', 'invalid_event_cursor'],
    ['/v1/events/stream?cursor=-1', 'events', 'invalid_event_cursor'],
    ['/v1/events/stream?cursor=99999999999999999999999', 'events', 'invalid_event_cursor'],
  ];
  for (const [path, domain, code] of cases) {
    const res = await call('GET', path);
    assertProblem(res, 400, domain, code, path);
  }
});

test('api-core #2: every non-2xx control-plane response is application/problem+json with the required fields', async () => {
  // Add the typed 404s of the core resources to what the other tests of this file collected.
  for (const path of [
    '/v1/sessions/no-such-session',
    '/v1/runs/no-such-run',
    '/v1/runs/no-such-run/events',
  ]) {
    assertProblem(await call('GET', path), 404, undefined, undefined, path);
  }
  assertProblem(await call('POST', '/v1/runs/no-such-run/cancel'), 404, 'runs', 'run_not_found');
  assert.ok(problems.length >= 20, `collected ${problems.length} problem responses`);
  for (const { where, res } of problems) assertProblemShape(res, where);
});

test('api-core #3: every problem has type == "urn:kheish:problem:" + code', () => {
  assert.ok(problems.length > 0);
  for (const { where, res } of problems)
    assert.equal(res.body.type, `urn:kheish:problem:${res.body.code}`, where);
});

test('api-core #4: /healthz is 200 "ok\\n" and /readyz is 200 "ready\\n" when ready', async () => {
  const h = await http(base, 'GET', '/healthz');
  assert.equal(h.status, 200);
  assert.equal(h.text, 'ok\n');
  const r = await http(base, 'GET', '/readyz');
  assert.equal(r.status, 200);
  assert.equal(r.text, 'ready\n');
});

// The deterministic draining check is test/integration/drain.test.ts (in-process, api-core #4).
test('SIGTERM drain seen from outside: readiness answers are well-formed and never return to ready', async (t) => {
  // The draining window is only as long as in-flight runs take to checkpoint; probe it as
  // tightly as a black box can: requests already on the wire when SIGTERM lands.
  const dd = await startDaemon({ script: { default: { turns: [{ hang: true }] } } });
  try {
    const sid = await createSession(dd.url);
    for (let i = 0; i < 3; i++)
      await http(dd.url, 'POST', `/v1/sessions/${sid}/runs`, { content: `hang ${i}` });
    const seen: HttpResult[] = [];
    let stop = false;
    const probe = (async () => {
      while (!stop) {
        try {
          seen.push(await http(dd.url, 'GET', '/readyz'));
        } catch {
          return; // the listener is closed: the drain is over
        }
      }
    })();
    await sleep(50);
    const exited = dd.stop();
    await exited;
    stop = true;
    await probe;
    const draining = seen.filter((r) => r.status !== 200);
    for (const r of draining) assertProblem(r, 503, 'readiness', 'daemon_draining', 'readyz while draining');
    for (const r of seen.filter((x) => x.status === 200)) assert.equal(r.text, 'ready\n');
    // Ready answers may only precede draining answers, never follow them.
    const firstDraining = seen.findIndex((r) => r.status !== 200);
    if (firstDraining >= 0) assert.ok(seen.slice(firstDraining).every((r) => r.status === 503));
    // The drain of a scripted run takes milliseconds, so the window is usually missed; this
    // test then only proves that no malformed or out-of-order answer was given.
    t.diagnostic(`readyz answers after SIGTERM: ${seen.length} total, ${draining.length} draining`);
  } finally {
    await dd.cleanup();
  }
});

test('api-core #5: /v1/capabilities advertises the core features, api_revision 3 and matrix version 2', async () => {
  const res = await http(base, 'GET', '/v1/capabilities');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  for (const flag of [
    'approvals',
    'sidechains',
    'mailboxes',
    'session_events',
    'restart_restore',
    'live_events',
    'sse_replay',
    'typed_sse_heartbeat',
    'openapi',
    'problem_details',
    'cursor_pagination',
    'paginated_lists',
    'domain_errors',
  ]) {
    assert.equal(res.body[flag], true, `capabilities.${flag}`);
  }
  assert.equal(res.body.api_revision, 3);
  assert.equal(res.body.route_capability_matrix_version, 2);
  assert.equal(typeof res.body.control_plane_version, 'string');
});

test('api-core #6: /v1/openapi.json is OpenAPI 3.1.0 with the ProblemDetails schema', async () => {
  const res = await http(base, 'GET', '/v1/openapi.json');
  assert.equal(res.status, 200);
  assert.equal(res.body.openapi, '3.1.0');
  const schema = res.body.components?.schemas?.ProblemDetails;
  assert.ok(schema, 'components.schemas.ProblemDetails exists');
  assert.deepEqual(schema.required, ['type', 'title', 'status', 'detail', 'code']);
  assert.equal(res.body.info?.['x-api-revision'], 3);
  for (const p of ['/v1/sessions', '/v1/sessions/{session_id}/runs', '/v1/runs/{run_id}']) {
    assert.ok(res.body.paths?.[p], `paths has ${p}`);
  }
});

test('api-core #7: /v1/status reports status, ready and the same capabilities', async () => {
  const [status, caps] = await Promise.all([
    http(base, 'GET', '/v1/status'),
    http(base, 'GET', '/v1/capabilities'),
  ]);
  assert.equal(status.status, 200);
  assert.ok(['ready', 'draining'].includes(status.body.status), status.text);
  assert.equal(typeof status.body.ready, 'boolean');
  assert.equal(status.body.status, 'ready');
  assert.equal(status.body.ready, true);
  assert.deepEqual(status.body.capabilities, caps.body);
});
