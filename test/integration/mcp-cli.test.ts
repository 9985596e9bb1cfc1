// MCP credentials and the `mcp` CLI, through the real binary and a real daemon: catalog slots
// written with `mcp auth set` (through the daemon, and --offline), `env_secret_refs` resolved from
// the secret store into a restricted child environment, missing refs skipped with their error,
// `required = true` refusing the start, `mcp tools call`, and secret values masked in traces.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { BIN, http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { EVERYTHING, FAULT, mcpSnapshot, stdioServer, writeMcpConfig } from '../helpers/mcp.ts';
import { testStoreIsPostgres } from '../helpers/pg-schema.ts';

const baseEnv = { ...process.env };
for (const name of ['KHEISH_STATE_ROOT', 'KHEISH_DATABASE_URL', 'KHEISH_AUTH_STORE_MASTER_KEY_FILE'])
  delete baseEnv[name];
const cli = (args: string[], env: Record<string, string> = {}, input?: string) =>
  spawnSync(BIN, args, { encoding: 'utf8', env: { ...baseEnv, ...env }, input, timeout: 60_000 });

const key = cli(['secrets', 'generate']).stdout.trim();
const keyEnv = { KHEISH_AUTH_STORE_MASTER_KEY: key, KHEISH_MCP_CATALOG_STARTUP_TIMEOUT_MS: '500' };
const dir = tempDir('kheish-mcp-cli-');
const SECRET = 'tok-5ecret-value-123';
const config = writeMcpConfig(
  dir,
  stdioServer(
    'everything',
    EVERYTHING,
    ['stdio'],
    'env_secret_refs = { DEMO_TOKEN = "mcp.custom.everything.DEMO_TOKEN" }',
  ) +
    stdioServer('orphan', EVERYTHING, ['stdio'], 'env_secret_refs = { T = "mcp.custom.orphan.T" }') +
    stdioServer(
      'leaky',
      FAULT,
      [],
      'env = { FAULT_STARTUP_LEAK = "1" }\nenv_secret_refs = { LEAK_TOKEN = "mcp.custom.everything.DEMO_TOKEN" }',
    ),
);
const script = {
  rules: [
    {
      match: '^env$',
      turns: [{ tool_calls: [{ name: 'mcp__everything__get-env', arguments: {} }] }, { text: 'ok' }],
    },
  ],
};

let d: TestDaemon;
before(async () => {
  // First boot: no MCP; store the secrets through the API, then restart with the MCP config.
  d = await startDaemon({
    script,
    env: { ...keyEnv, KHEISH_PROBE_VAR: 'daemon-only' },
    args: ['--mcp-discovery', 'disabled'],
  });
  const put = await http(d.url, 'POST', '/v1/runtime/secrets', {
    slot_id: 'mcp.custom.everything.DEMO_TOKEN',
    provider: 'generic',
    mode: 'opaque_secret',
    state: { value: SECRET },
  });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  const set = cli(['--base-url', d.url, 'mcp', 'auth', 'set', 'linear', '--value', 'lin_api_key_1'], keyEnv);
  assert.equal(set.status, 0, set.stderr);
  assert.match(set.stdout, /stored mcp\.linear\.LINEAR_API_KEY/);
  await d.stop();
  d = await d.restart({ args: ['--mcp-config', config, '--mcp-profile', 'planning'] });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

test('env_secret_refs reach the stdio child from the secret store, in a restricted environment', async () => {
  const mcp = await mcpSnapshot(d.url);
  const everything = mcp.servers.find((s: { server: string }) => s.server === 'everything');
  assert.equal(everything.connected, true, everything.error);
  assert.equal(everything.uses_credentials, true);
  assert.deepEqual(everything.credential_secret_refs, ['mcp.custom.everything.DEMO_TOKEN']);
  const r = cli(['--base-url', d.url, 'mcp', 'tools', 'call', 'mcp__everything__get-env']);
  assert.equal(r.status, 0, r.stderr);
  // The child had exactly the slot's value: the answer shows it masked (docs/security.md).
  assert.match(r.stdout, /DEMO_TOKEN.{0,6}\[redacted\]/);
  assert.ok(!r.stdout.includes(SECRET));
  assert.doesNotMatch(r.stdout, /KHEISH_PROBE_VAR/, 'the daemon environment is not inherited');
  assert.ok(!JSON.stringify(mcp).includes(SECRET), 'the snapshot never shows the value');
});

test('ops-runtime #25 (MCP): a slot a loaded MCP server reads cannot be deleted (409 secret_in_use)', async () => {
  const res = await http(d.url, 'DELETE', '/v1/runtime/secrets/mcp.custom.everything.DEMO_TOKEN');
  assert.equal(res.status, 409);
  assert.equal(res.body.code, 'secret_in_use');
  assert.match(res.body.detail, /one or more MCP servers \(everything, leaky\)/);
});

test('a server that prints its credential while failing: the error shown has it masked', async () => {
  const leaky = (await mcpSnapshot(d.url)).servers.find((s: { server: string }) => s.server === 'leaky');
  assert.equal(leaky.connected, false);
  assert.match(leaky.error, /cannot start with token \[redacted\]/);
  assert.ok(!JSON.stringify(leaky).includes(SECRET));
  assert.ok(!d.logs().includes(SECRET));
});

test('a missing secret ref skips its server with the error shown; the daemon starts', async () => {
  const orphan = (await mcpSnapshot(d.url)).servers.find((s: { server: string }) => s.server === 'orphan');
  assert.equal(orphan.connected, false);
  assert.match(orphan.error, /secret slot mcp\.custom\.orphan\.T was not found/);
  assert.deepEqual(orphan.tools, []);
});

test('a catalog entry reads its mcp.* slot written by `mcp auth set`', async () => {
  const mcp = await mcpSnapshot(d.url);
  assert.deepEqual(mcp.selected_profiles, ['planning']);
  const linear = mcp.servers.find((s: { server: string }) => s.server === 'linear');
  assert.equal(linear.source, 'built_in_catalog');
  assert.equal(linear.catalog_entry_id, 'linear');
  assert.equal(linear.uses_credentials, true);
  assert.deepEqual(linear.credential_secret_refs, ['mcp.linear.LINEAR_API_KEY']);
  // No network here: it is listed as disconnected with its reason.
  assert.equal(linear.connected, false);
  assert.ok(linear.error);
});

test('secret values are masked in the traces of a run that prints them', async () => {
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'env' });
  await http(d.url, 'POST', '/v1/sessions/env/permission-rules', {
    pattern: 'mcp__everything__*',
    decision: 'allow',
  });
  const runId = (await http(d.url, 'POST', '/v1/sessions/env/runs', { content: 'env' })).body.run_id;
  const done = await waitForRun(d.url, runId);
  assert.equal(done.status, 'completed', done.error);
  const events = JSON.stringify((await http(d.url, 'GET', `/v1/runs/${runId}/events`)).body);
  assert.match(events, /DEMO_TOKEN/);
  assert.ok(!events.includes(SECRET), 'the token is masked');
  assert.ok(!d.logs().includes(SECRET), 'and never logged');
});

test('credential scope: a session whose credential_scope denies the server cannot use its credentials', async () => {
  await http(d.url, 'POST', '/v1/sessions', {
    session_id: 'nocreds',
    credential_scope: { mcp_server_deny: ['*'] },
  });
  await http(d.url, 'POST', '/v1/sessions/nocreds/permission-rules', {
    pattern: 'mcp__everything__*',
    decision: 'allow',
  });
  const runId = (await http(d.url, 'POST', '/v1/sessions/nocreds/runs', { content: 'env' })).body.run_id;
  const done = await waitForRun(d.url, runId);
  assert.equal(done.status, 'completed', done.error);
  const events = (await http(d.url, 'GET', `/v1/runs/${runId}/events`)).body;
  const finished = events
    .map((e: { event: { trace?: any } }) => e.event.trace)
    .find((t: any) => t?.kind === 'tool_call_finished');
  assert.equal(finished.outcome, 'error');
  assert.match(finished.output_preview, /credential_scope does not allow/);
});

test('mcp tools call: --input-json, --stdin, errors and exit codes', () => {
  const sum = cli([
    '--base-url',
    d.url,
    'mcp',
    'tools',
    'call',
    'mcp__everything__get-sum',
    '--input-json',
    '{"a":2,"b":3}',
  ]);
  assert.equal(sum.status, 0, sum.stderr);
  assert.match(sum.stdout, /5/);
  const piped = cli(
    ['--base-url', d.url, '--output', 'json', 'mcp', 'tools', 'call', 'mcp__everything__echo', '--stdin'],
    {},
    '{"message":"via stdin"}',
  );
  assert.equal(piped.status, 0, piped.stderr);
  assert.equal(JSON.parse(piped.stdout).is_error, false);
  assert.match(JSON.parse(piped.stdout).content, /via stdin/);
  const unknown = cli(['--base-url', d.url, 'mcp', 'tools', 'call', 'mcp__nope__x']);
  assert.notEqual(unknown.status, 0);
  assert.match(unknown.stderr, /no MCP tool `mcp__nope__x` is loaded/);
  const bad = cli([
    '--base-url',
    d.url,
    'mcp',
    'tools',
    'call',
    'mcp__everything__echo',
    '--input-json',
    '[1]',
  ]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /must be a JSON object/);
});

test('mcp auth set --offline writes the catalog slot into a stopped daemon state root', {
  skip: testStoreIsPostgres(),
}, () => {
  const root = tempDir('kheish-mcp-offline-');
  const r = cli(['mcp', 'auth', 'set', 'gitlab', '--from-env', 'GL', '--offline', '--state-root', root], {
    ...keyEnv,
    GL: 'glpat-1',
  });
  assert.equal(r.status, 0, r.stderr);
  const got = cli(['secrets', 'get', 'mcp.gitlab.GITLAB_TOKEN', '--offline', '--state-root', root], keyEnv);
  assert.equal(got.status, 0, got.stderr);
  assert.match(got.stdout, /opaque_secret/);
  const none = cli(
    ['mcp', 'auth', 'set', 'openai-docs', '--value', 'x', '--offline', '--state-root', root],
    keyEnv,
  );
  assert.equal(none.status, 2);
  assert.match(none.stderr, /takes no stored credential/);
});

test('a required server that cannot start refuses the daemon start, naming it', () => {
  const bad = writeMcpConfig(
    dir,
    '[mcp_servers.needed]\ncommand = "/nonexistent/mcp-server"\nrequired = true\n',
    'req.toml',
  );
  const r = spawnSync(
    BIN,
    [
      'serve',
      '--state-root',
      tempDir(),
      '--bind',
      '127.0.0.1:0',
      '--mcp-discovery',
      'disabled',
      '--mcp-config',
      bad,
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /required MCP server `needed` could not start: .*ENOENT/);
});

test('catalog commands need no daemon; unknown ids are usage errors', () => {
  const list = cli(['--output', 'json', 'mcp', 'catalog', 'list', '--profile', 'repo']);
  assert.equal(list.status, 0, list.stderr);
  assert.deepEqual(
    JSON.parse(list.stdout).map((e: { id: string }) => e.id),
    ['github', 'gitlab'],
  );
  const supported = JSON.parse(
    cli(['--output', 'json', 'mcp', 'catalog', 'list', '--supported-only']).stdout,
  );
  assert.ok(supported.every((e: { status: string }) => e.status === 'supported'));
  assert.equal(
    JSON.parse(cli(['--output', 'json', 'mcp', 'catalog', 'get', 'github']).stdout).status,
    'catalog_only',
  );
  const slots = JSON.parse(cli(['--output', 'json', 'mcp', 'auth', 'slots', 'linear']).stdout);
  assert.deepEqual(slots.slots, [
    { credential_env: 'LINEAR_API_KEY', secret_ref: 'mcp.linear.LINEAR_API_KEY' },
  ]);
  assert.equal(cli(['mcp', 'catalog', 'get', 'nope']).status, 2);
  assert.equal(cli(['mcp', 'profiles', 'get', 'nope']).status, 2);
  assert.match(cli(['mcp', 'profiles', 'get', 'knowledge']).stdout, /notion\s+catalog_only/);
});
