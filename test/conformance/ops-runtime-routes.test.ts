// ops-runtime §20 checklist items on routes, selectors, control-plane auth and the state-root lock.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BIN, http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';

const dir = tempDir('kheish-routes-');
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
writeFileSync(
  join(dir, 'slow.json'),
  JSON.stringify({ default: { turns: [{ delay_ms: 600, text: 'slow' }] } }),
);
const twoRoutes = `version = 1
default_route = "openrouter"

[routes.openrouter]
driver = "scripted"
default_model = "openai/gpt-5.4-mini"
script_file = "slow.json"
api_key = "sk-inline-secret-bytes"

[routes.other]
driver = "scripted"
default_model = "other-model"
`;
const routesFile = file('two.toml', twoRoutes);

/** Runs `serve` expecting it to refuse to start; returns stderr. */
function refusedStart(args: string[]): string {
  const r = spawnSync(BIN, ['serve', '--state-root', tempDir(), '--bind', '127.0.0.1:0', ...args], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 2, `expected a refused start, got ${r.status}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /ready/);
  return r.stderr;
}

const doctor = (f: string, extra: string[] = []) =>
  spawnSync(BIN, ['doctor', 'routes', '--routes-file', f, ...extra], { encoding: 'utf8', timeout: 20_000 });

test('ops-runtime #2: a routes file whose version is not 1 fails before binding', () => {
  assert.match(
    refusedStart([
      '--routes-file',
      file('v2.toml', 'version = 2\n[routes.a]\ndriver = "scripted"\ndefault_model = "m"\n'),
    ]),
    /`version` must be 1/,
  );
});

test('ops-runtime #3: unknown top-level or per-route keys are rejected at startup and by doctor routes', () => {
  const top = file(
    'top.toml',
    'version = 1\ncolour = "red"\n[routes.a]\ndriver = "scripted"\ndefault_model = "m"\n',
  );
  const per = file(
    'per.toml',
    'version = 1\n[routes.a]\ndriver = "scripted"\ndefault_model = "m"\nflavour = 1\n',
  );
  assert.match(refusedStart(['--routes-file', top]), /unknown top-level field `colour`/);
  assert.match(refusedStart(['--routes-file', per]), /unknown field `flavour`/);
  for (const f of [top, per]) assert.equal(doctor(f).status, 2);
});

test('ops-runtime #4: route ids with "/" or whitespace, or empty, are rejected', () => {
  for (const id of ['"a/b"', '"a b"', '""'])
    assert.match(
      doctor(file('id.toml', `version = 1\n[routes.${id}]\ndriver = "scripted"\ndefault_model = "m"\n`))
        .stderr,
      /route id must be non-empty/,
    );
});

test('ops-runtime #5: two routes without default_route fail even with --default-route', () => {
  const f = file('nodefault.toml', twoRoutes.replace('default_route = "openrouter"\n', ''));
  assert.match(refusedStart(['--routes-file', f, '--default-route', 'other']), /`default_route` is required/);
});

test('ops-runtime #6: --default-route X makes X the default; an unknown X is rejected', async () => {
  assert.match(
    refusedStart(['--routes-file', routesFile, '--default-route', 'nope']),
    /--default-route `nope` names no route/,
  );
  const d = await startDaemon({ args: ['--routes-file', routesFile, '--default-route', 'other'] });
  try {
    assert.equal((await http(d.url, 'GET', '/v1/runtime')).body.default_route, 'other');
  } finally {
    await d.kill();
    await d.cleanup();
  }
});

test('ops-runtime #7: base_url with userinfo, query, fragment or a non-http scheme is rejected', () => {
  for (const url of ['http://u:p@host/v1', 'http://host/v1?x=1', 'http://host/v1#f', 'ftp://host/v1'])
    assert.match(
      doctor(
        file(
          'url.toml',
          `version = 1\n[routes.a]\ndriver = "openai_compatible"\ndefault_model = "m"\nbase_url = "${url}"\n`,
        ),
      ).stderr,
      /base_url/,
    );
});

test('ops-runtime #15: auto auth mode on a non-loopback bind without an admin token refuses to start', () => {
  const r = spawnSync(BIN, ['serve', '--state-root', tempDir(), '--bind', '0.0.0.0:0'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--http-admin-token-file/);
});

test('ops-runtime #16: identical admin and read-only tokens (inline or the same file) fail startup', () => {
  assert.match(refusedStart(['--http-admin-token', 'same', '--http-readonly-token', 'same']), /must differ/);
  const f = file('token', 'tok\n');
  assert.match(refusedStart(['--http-admin-token-file', f, '--http-readonly-token-file', f]), /must differ/);
});

test('ops-runtime #16: token files that come to hold the same token reject every bearer request until they differ', async () => {
  const tokens = tempDir('kheish-same-tokens-');
  const [adminFile, readerFile] = [join(tokens, 'admin'), join(tokens, 'reader')];
  writeFileSync(adminFile, 'admin-16\n');
  writeFileSync(readerFile, 'reader-16\n');
  const td = await startDaemon({
    args: ['--http-admin-token-file', adminFile, '--http-readonly-token-file', readerFile],
  });
  const get = (token: string) =>
    http(td.url, 'GET', '/v1/sessions', undefined, { authorization: `Bearer ${token}` });
  try {
    assert.equal((await get('admin-16')).status, 200);
    assert.equal((await get('reader-16')).status, 200);
    // Replaced atomically, so the daemon never reads a half-written file.
    writeFileSync(join(tokens, 'reader.new'), 'admin-16\n');
    renameSync(join(tokens, 'reader.new'), readerFile);
    assert.equal((await get('admin-16')).status, 401, 'the shared token is refused');
    assert.equal((await get('reader-16')).status, 401, 'the old read-only token is gone');
    writeFileSync(join(tokens, 'reader.new'), 'reader-16b\n');
    renameSync(join(tokens, 'reader.new'), readerFile);
    assert.equal((await get('admin-16')).status, 200, 'different again: the admin token works');
    assert.equal((await get('reader-16b')).status, 200);
  } finally {
    await td.kill();
    await td.cleanup();
  }
});

test('ops-runtime #43: a second serve on a state root held by a running daemon refuses to proceed', async () => {
  const d = await startDaemon();
  try {
    const r = spawnSync(BIN, ['serve', '--state-root', d.stateRoot, '--bind', '127.0.0.1:0'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /already in use by another kheish-daemon process/);
  } finally {
    await d.kill();
    await d.cleanup();
  }
});

let d: TestDaemon;
before(async () => {
  d = await startDaemon({ args: ['--routes-file', routesFile] });
});
after(async () => {
  await d.kill();
  await d.cleanup();
});

test('ops-runtime #9: GET /v1/runtime lists every route with its capability flags and no secret bytes', async () => {
  const r = await http(d.url, 'GET', '/v1/runtime');
  assert.deepEqual(
    r.body.routes.map((x: { route_id: string }) => x.route_id),
    ['openrouter', 'other'],
  );
  for (const route of r.body.routes) {
    assert.equal(route.matrix_version, 2);
    for (const flag of [
      'multimodal_input',
      'native_web_search',
      'image_generation',
      'image_edit',
      'audio_generation',
      'transcription',
    ])
      assert.equal(typeof route[flag], 'boolean', flag);
  }
  for (const path of ['/v1/runtime', '/v1/runtime/routes', '/v1/status']) {
    const text = (await http(d.url, 'GET', path)).text;
    assert.doesNotMatch(text, /sk-inline-secret-bytes/, path);
  }
  assert.doesNotMatch(d.logs(), /sk-inline-secret-bytes/);
});

test('ops-runtime #10: the CLI selector grammar picks routes by known prefix only; the API keeps model as given', async () => {
  const cli = (args: string[]) =>
    spawnSync(BIN, ['--base-url', d.url, '--output', 'json', ...args], { encoding: 'utf8', timeout: 20_000 });
  const a = cli(['runs', 'submit', 'sel', 'x', '--model', 'openrouter/openai/gpt-5.4-mini']);
  assert.equal(a.status, 0, a.stderr);
  const ra = JSON.parse(a.stdout);
  assert.deepEqual([ra.request.provider, ra.request.model], ['openrouter', 'openai/gpt-5.4-mini']);
  const b = cli(['runs', 'submit', 'sel', 'x', '--model', 'vendor/some-model']);
  assert.equal(b.status, 0, b.stderr);
  const rb = JSON.parse(b.stdout);
  assert.deepEqual([rb.request.provider, rb.request.model], ['openrouter', 'vendor/some-model']);
  const c = cli(['runs', 'submit', 'sel', 'x', '--model', 'openrouter/']);
  assert.equal(c.status, 2);
  assert.match(c.stderr, /names route `openrouter` but no model/);
  const e = cli(['runs', 'submit', 'sel', 'x', '--provider', 'other', '--model', 'openrouter/m']);
  assert.equal(e.status, 2);
  assert.match(e.stderr, /--model names route `openrouter` but --provider is `other`/);
  const set = cli(['runtime', 'set-model', 'other/new-model']);
  assert.equal(set.status, 0, set.stderr);
  assert.deepEqual(
    [JSON.parse(set.stdout).default_route, JSON.parse(set.stdout).model],
    ['other', 'new-model'],
  );
  // The API itself never splits: the same string is a model name on the route it runs on.
  const raw = await http(d.url, 'POST', '/v1/sessions/sel/runs', {
    content: 'x',
    provider: 'other',
    generation: { model: 'openrouter/openai/gpt-5.4-mini' },
  });
  assert.equal(raw.status, 202, raw.text);
  assert.deepEqual(
    [raw.body.request.provider, raw.body.request.model],
    ['other', 'openrouter/openai/gpt-5.4-mini'],
  );
  await http(d.url, 'POST', '/v1/runtime/model', { provider: 'openrouter', model: 'openai/gpt-5.4-mini' });
});

test('ops-runtime #11: run override beats session route_policy beats the daemon default', async () => {
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'prec' });
  const dflt = await http(d.url, 'POST', '/v1/sessions/prec/runs', { content: 'x' });
  assert.deepEqual(
    [dflt.body.request.provider, dflt.body.request.model],
    ['openrouter', 'openai/gpt-5.4-mini'],
  );
  await http(d.url, 'PUT', '/v1/sessions/prec/route-policy', {
    route_policy: { provider: 'other', generation: { model: 'policy-model' } },
  });
  const policy = await http(d.url, 'POST', '/v1/sessions/prec/runs', { content: 'x' });
  assert.deepEqual([policy.body.request.provider, policy.body.request.model], ['other', 'policy-model']);
  const override = await http(d.url, 'POST', '/v1/sessions/prec/runs', {
    content: 'x',
    provider: 'openrouter',
  });
  assert.deepEqual(
    [override.body.request.provider, override.body.request.model],
    ['openrouter', 'openai/gpt-5.4-mini'],
  );
  const got = await http(d.url, 'GET', `/v1/runs/${override.body.run_id}`);
  assert.equal(got.body.request.provider, 'openrouter');
});

test('ops-runtime #12: changing the default model does not alter queued runs or session route policies', async () => {
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'pin' });
  await http(d.url, 'PUT', '/v1/sessions/pin/route-policy', { route_policy: { provider: 'openrouter' } });
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'pin2' });
  const first = await http(d.url, 'POST', '/v1/sessions/pin2/runs', { content: 'busy' });
  const queued = await http(d.url, 'POST', '/v1/sessions/pin2/runs', { content: 'queued' });
  assert.equal(queued.body.status, 'queued');
  const before = (await http(d.url, 'GET', '/v1/runtime')).body.config.revision;
  const set = await http(d.url, 'POST', '/v1/runtime/model', {
    provider: 'other',
    model: 'new-model',
    expected_revision: before,
  });
  assert.equal(set.status, 200, set.text);
  assert.equal(set.body.default_route, 'other');
  assert.equal(set.body.config.revision, before + 1);
  const stale = await http(d.url, 'POST', '/v1/runtime/model', { model: 'x', expected_revision: before });
  assert.equal(stale.status, 409);
  assert.equal(stale.body.code, 'runtime_revision_conflict');
  const q = await waitForRun(d.url, queued.body.run_id);
  assert.deepEqual([q.request.provider, q.request.model], ['openrouter', 'openai/gpt-5.4-mini']);
  await waitForRun(d.url, first.body.run_id);
  assert.deepEqual((await http(d.url, 'GET', '/v1/sessions/pin')).body.route_policy, {
    provider: 'openrouter',
  });
  const fresh = await http(d.url, 'POST', '/v1/sessions/pin2/runs', { content: 'new' });
  assert.deepEqual([fresh.body.request.provider, fresh.body.request.model], ['other', 'new-model']);
  await http(d.url, 'POST', '/v1/runtime/model', { provider: 'openrouter', model: 'openai/gpt-5.4-mini' });
});

test('ops-runtime #13: a submit against a route in readiness error is refused and persists no run', async () => {
  const f = file(
    'notready.toml',
    'version = 1\ndefault_route = "ant"\n[routes.ant]\ndriver = "anthropic"\ndefault_model = "claude"\n[routes.ok]\ndriver = "scripted"\ndefault_model = "m"\n',
  );
  const nd = await startDaemon({ args: ['--routes-file', f] });
  try {
    await http(nd.url, 'POST', '/v1/sessions', { session_id: 'nr' });
    const r = await http(nd.url, 'POST', '/v1/sessions/nr/runs', { content: 'x' });
    assert.equal(r.status, 409);
    assert.equal(r.headers.get('content-type'), 'application/problem+json');
    assert.deepEqual([r.body.domain, r.body.code], ['routes', 'route_not_ready']);
    assert.match(r.body.detail, /Action:/);
    assert.deepEqual((await http(nd.url, 'GET', '/v1/runs?session_id=nr')).body, []);
  } finally {
    await nd.kill();
    await nd.cleanup();
  }
});

test('ops-runtime #14/#17/#18/#19/#20: probes without tokens, read-only limits, allow-listed reads, rotation, audit', async () => {
  const tokens = tempDir('kheish-tokens-');
  const adminFile = join(tokens, 'admin');
  writeFileSync(adminFile, 'admin-1\n');
  const bd = await startDaemon({
    args: [
      '--http-auth-mode',
      'bearer',
      '--http-admin-token-file',
      adminFile,
      '--http-readonly-token',
      'reader',
    ],
  });
  const as = (t: string) => ({ authorization: `Bearer ${t}` });
  try {
    // #14
    assert.equal((await http(bd.url, 'GET', '/healthz')).status, 200);
    assert.equal((await http(bd.url, 'GET', '/readyz')).status, 200);
    // #17
    assert.equal((await http(bd.url, 'GET', '/v1/status', undefined, as('reader'))).status, 200);
    assert.equal((await http(bd.url, 'POST', '/v1/sessions', {}, as('reader'))).status, 403);
    await http(bd.url, 'POST', '/v1/sessions', { session_id: 'ro-17' }, as('admin-1'));
    for (const method of ['PUT', 'DELETE'])
      assert.equal(
        (await http(bd.url, method, '/v1/sessions/ro-17/route-policy', { route_policy: null }, as('reader')))
          .status,
        403,
        `${method} with the read-only token`,
      );
    for (const p of [
      '/v1/runtime/hooks',
      '/v1/runtime/secrets',
      '/v1/runtime/revisions',
      '/v1/runtime/auth/subjects/x',
      '/v1/runs/r/debug/artifacts/a',
    ])
      assert.equal((await http(bd.url, 'GET', p, undefined, as('reader'))).status, 403, p);
    // #18: an unrecognised GET path is admin-only for read-only tokens
    assert.equal((await http(bd.url, 'GET', '/v1/some/future/thing', undefined, as('reader'))).status, 403);
    assert.equal((await http(bd.url, 'GET', '/v1/some/future/thing', undefined, as('admin-1'))).status, 404);
    // #19: atomic replacement of the admin token file
    writeFileSync(join(tokens, 'admin.new'), 'admin-2\n');
    renameSync(join(tokens, 'admin.new'), adminFile);
    assert.equal((await http(bd.url, 'GET', '/v1/sessions', undefined, as('admin-1'))).status, 401);
    assert.equal((await http(bd.url, 'GET', '/v1/sessions', undefined, as('admin-2'))).status, 200);
    // #20: audit lines, no token bytes, one rate-limit transition, owner-only file
    for (let i = 0; i < 62; i++)
      await http(bd.url, 'GET', '/v1/sessions', undefined, as('wrong-token-bytes'));
    const audit = join(bd.stateRoot, 'control-plane-auth', 'audit.jsonl');
    assert.ok(existsSync(audit));
    const lines = readFileSync(audit, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(lines.some((l) => l.event === 'auth_failure' && l.reason === 'invalid_token'));
    assert.equal(lines.filter((l) => l.event === 'auth_rate_limited').length, 1);
    assert.doesNotMatch(readFileSync(audit, 'utf8'), /wrong-token-bytes|admin-1|reader/);
    assert.equal(statSync(audit).mode & 0o077, 0, 'owner-only');
  } finally {
    await bd.kill();
    await bd.cleanup();
  }
});
