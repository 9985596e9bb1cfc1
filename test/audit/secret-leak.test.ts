// Secrets never leave their store: one unique value per way a secret enters the daemon (an
// encrypted slot behind a route's auth_ref, a routes-file api_key_env, an MCP env_secret_refs
// slot), then every feature that touches them runs — provider runs against a local fixture
// server, a bash call that tries to echo the key, an MCP tool that prints its environment, a
// provider error that quotes the key, a command hook, debug capture at `full` and `redacted`,
// problem documents — and the whole state root, the daemon's logs, every database row, every SSE
// event and every API response body are searched for each value.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { FixtureServer } from '../fixtures/providers/harness.ts';
import { startOpenAiCompatibleServer } from '../fixtures/providers/openai-compatible-server.ts';
import { collectSse, http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { EVERYTHING, NODE, waitForServer } from '../helpers/mcp.ts';
import { jsonColumn, queryState } from '../helpers/state-query.ts';
import { commandHook, script } from '../hooks/hook-scripts.ts';

const unique = (tag: string) => `${tag}-${randomBytes(12).toString('hex')}`;
const SLOT_SECRET = unique('slotkey');
const ENV_SECRET = unique('envkey');
const MCP_SECRET = unique('mcpkey');
const SECRETS = { SLOT_SECRET, ENV_SECRET, MCP_SECRET };
const MASTER_KEY = randomBytes(32).toString('base64');

let slotServer: FixtureServer;
let envServer: FixtureServer;
let d: TestDaemon;
const dir = tempDir('kheish-leak-');
const workspace = tempDir('kheish-leak-ws-');
const hookDir = tempDir('kheish-leak-hook-');
const routesFile = join(dir, 'routes.toml');
const bodies: Array<{ what: string; text: string }> = [];

/** Every response body is kept for the final search. */
async function call(method: string, path: string, body?: unknown) {
  const res = await http(d.url, method, path, body);
  bodies.push({ what: `${method} ${path} (${res.status})`, text: res.text });
  return res;
}

async function run(content: string, extra: Record<string, unknown> = {}) {
  const session = (await call('POST', '/v1/sessions', {})).body.session_id as string;
  const res = await call('POST', `/v1/sessions/${session}/runs`, { content, ...extra });
  assert.equal(res.status, 202, res.text);
  const done = await waitForRun(d.url, res.body.run_id);
  for (const path of ['', '/events', '/external-actions'])
    await call('GET', `/v1/runs/${done.run_id}${path}`);
  await call('GET', `/v1/sessions/${session}`);
  await call('GET', `/v1/sessions/${session}/events`);
  const debug = await call('GET', `/v1/runs/${done.run_id}/debug`);
  for (const a of debug.body?.artifacts ?? [])
    await call('GET', `/v1/runs/${done.run_id}/debug/artifacts/${a.artifact_id}`);
  return done;
}

before(async () => {
  slotServer = await startOpenAiCompatibleServer();
  envServer = await startOpenAiCompatibleServer();
  const envRoute = `[routes.envkey]\ndriver = "openai_compatible"\ndefault_model = "leak-env"\napi_key_env = "LEAK_TEST_ENV_KEY"\nbase_url = "${envServer.origin}/v1"\n`;
  writeFileSync(routesFile, `version = 1\ndefault_route = "envkey"\n\n${envRoute}`);
  writeFileSync(
    join(dir, 'mcp.toml'),
    `[mcp_servers.everything]\ncommand = ${JSON.stringify(NODE)}\nargs = [${JSON.stringify(EVERYTHING)}]\nstartup_timeout_sec = 20\n[mcp_servers.everything.env_secret_refs]\nDEMO_TOKEN = "mcp.custom.everything.DEMO_TOKEN"\n`,
  );
  const args = [
    '--routes-file',
    routesFile,
    '--workspace-root',
    workspace,
    '--mcp-discovery',
    'disabled',
    '--mcp-config',
    join(dir, 'mcp.toml'),
  ];
  const env = { KHEISH_AUTH_STORE_MASTER_KEY: MASTER_KEY, LEAK_TEST_ENV_KEY: ENV_SECRET };
  const first = await startDaemon({ args, env });
  d = first;
  // The slots go through the API (the route naming one must find it at start-up).
  for (const [slot, value] of [
    ['leak.provider.key', SLOT_SECRET],
    ['mcp.custom.everything.DEMO_TOKEN', MCP_SECRET],
  ]) {
    const put = await call('POST', '/v1/runtime/secrets', {
      slot_id: slot,
      provider: 'generic',
      mode: 'opaque_secret',
      state: { value },
    });
    assert.equal(put.status, 200, put.text);
  }
  writeFileSync(
    routesFile,
    `version = 1\ndefault_route = "slot"\n\n[routes.slot]\ndriver = "openai_compatible"\ndefault_model = "leak-slot"\nauth_ref = "leak.provider.key"\nbase_url = "${slotServer.origin}/v1"\n\n${envRoute}`,
  );
  await first.stop();
  d = await first.restart({ env });
  await waitForServer(d.url, 'everything', (s) => s.connected === true);
  await call('POST', '/v1/runtime/permission-mode', { mode: 'bypassPermissions' });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
  await slotServer?.close();
  await envServer?.close();
});

test('ops-runtime #45 and secrets: every boundary is audited, and no secret appears outside its store', {
  timeout: 120_000,
}, async () => {
  const stream = collectSse(`${d.url}/v1/events/stream`, {
    timeoutMs: 60_000,
    until: (f) => f.some((x) => JSON.stringify(x.data).includes('stream-end-marker')),
  });
  stream.catch(() => undefined);
  // A command hook on every tool call dumps its environment outside the state root.
  const envDump = join(hookDir, 'hook-env.txt');
  await call('POST', '/v1/runtime/hooks', {
    settings: {
      hooks: {
        pre_tool_use: [
          commandHook('env-dump', script(hookDir, 'env.sh', `env >> ${envDump}; cat > /dev/null; echo '{}'`)),
        ],
      },
    },
  });
  await call('POST', '/v1/runtime/debug-level', { level: 'full' });

  // A run on the slot route: bash tries the daemon's environment, the MCP server prints its own.
  slotServer.enqueue(
    {
      kind: 'tool_call',
      id: 'c1',
      name: 'bash',
      args: { command: 'echo "[$LEAK_TEST_ENV_KEY][$KHEISH_AUTH_STORE_MASTER_KEY]"; env' },
    },
    { kind: 'tool_call', id: 'c2', name: 'mcp__everything__get-env', args: {} },
    { kind: 'text', deltas: ['all', ' done'] },
  );
  const full = await run('inspect the environment');
  assert.equal(full.status, 'completed', JSON.stringify(full));
  assert.equal(
    slotServer.requests[0]!.headers.authorization,
    `Bearer ${SLOT_SECRET}`,
    'the slot reached the provider',
  );
  // The tools really ran: bash saw none of the daemon's keys; the MCP child had its credential
  // (exactly that value, hence masked) in its environment.
  const results = (
    await queryState<{ payload: unknown }>(
      d,
      "select payload from journal where run_id = ? and kind = 'tool_result' order by seq",
      [full.run_id],
    )
  ).map((r) => jsonColumn(r.payload).content as string);
  assert.match(results[0]!, /"stdout":"\[\]\[\]\\n/, results[0]);
  assert.match(results[1]!, /DEMO_TOKEN.{0,6}\[redacted\]/, results[1]);
  // ops-runtime #45: the MCP call (read-only) is in the signed ledger with the provider calls.
  const actions = (await http(d.url, 'GET', `/v1/runs/${full.run_id}/external-actions`)).body.map(
    (a: { kind: string; target: string }) => `${a.kind}:${a.target}`,
  );
  assert.ok(actions.includes('mcp_tool:mcp__everything__get-env'), actions.join());
  assert.ok(actions.includes('tool:bash'), actions.join());
  assert.equal(actions.filter((a: string) => a === 'provider_request:slot/leak-slot').length, 3);
  assert.equal(actions.filter((a: string) => a === 'hook_command:env-dump@command').length, 2);

  // A provider that quotes the key it refused, on the env-key route, with debug capture redacted.
  await call('POST', '/v1/runtime/debug-level', { level: 'redacted' });
  envServer.enqueue({ kind: 'error', status: 401, message: `Incorrect API key provided: ${ENV_SECRET}` });
  const refused = await run('hello', { route_id: 'envkey' });
  assert.equal(refused.status, 'failed');
  assert.equal(
    envServer.requests[0]!.headers.authorization,
    `Bearer ${ENV_SECRET}`,
    'the env key reached the provider',
  );

  // Problem documents: a secret pasted where it does not belong comes back masked or not at all.
  await call('POST', '/v1/runtime/secrets', {
    slot_id: 'x',
    provider: SLOT_SECRET,
    mode: 'opaque_secret',
    state: { value: 'v' },
  });
  await call('POST', `/v1/sessions/${SLOT_SECRET}/runs`, { content: 'x' });
  const quoted = await call('GET', `/v1/runs/${ENV_SECRET}`);
  assert.equal(quoted.status, 404);
  assert.match(quoted.body.detail, /\[redacted\]/);
  const direct = await call('POST', '/v1/runtime/mcp/tools/call', {
    name: 'mcp__everything__get-env',
    arguments: {},
  });
  assert.match(direct.body.content, /DEMO_TOKEN.{0,6}\[redacted\]/);
  await call('POST', '/v1/runtime/debug-level', { level: 'off' });
  // The last run's reply closes the stream collection once it was streamed.
  slotServer.enqueue({ kind: 'text', deltas: ['stream-end-marker'] });
  assert.equal((await run('last')).status, 'completed');
  for (const path of [
    '/v1/status',
    '/v1/runtime',
    '/v1/runtime/revisions',
    '/v1/runtime/secrets',
    '/v1/runtime/secrets/leak.provider.key',
    '/v1/runtime/routes',
    '/v1/runtime/hooks',
    '/v1/runtime/hooks/dead-letters',
    '/v1/logs',
    '/v1/sessions',
    '/v1/runs',
  ])
    await call('GET', path);
  const sse = await stream;

  const found: string[] = [];
  const search = (what: string, text: string) => {
    for (const [name, value] of Object.entries(SECRETS))
      if (text.includes(value)) found.push(`${name} in ${what}`);
  };
  for (const b of bodies) search(b.what, b.text);
  search('the daemon-wide SSE stream', sse.raw);
  search('the daemon logs', d.logs());
  search('the hook environment', readFileSync(envDump, 'utf8'));
  for (const file of walk(d.stateRoot))
    search(`state root file ${file.slice(d.stateRoot.length)}`, readFileSync(file).toString('latin1'));
  for (const [table, text] of await databaseRows(d)) search(`database table ${table}`, text);
  assert.deepEqual(found, []);
  // The searches saw the runs (not an empty daemon).
  assert.ok(sse.frames.length > 10);
  assert.ok(bodies.some((b) => b.what.includes('/debug/artifacts/')));
});

function walk(root: string): string[] {
  return readdirSync(root).flatMap((name) => {
    const path = join(root, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/** Every row of every table as text, on either store. */
async function databaseRows(daemon: TestDaemon): Promise<Array<[string, string]>> {
  if (daemon.databaseUrl) {
    const client = new pg.Client({ connectionString: daemon.databaseUrl });
    await client.connect();
    try {
      const tables = await client.query(
        "select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'",
      );
      const out: Array<[string, string]> = [];
      for (const { table_name } of tables.rows) {
        const rows = await client.query(`select row_to_json(t)::text as j from "${table_name}" t`);
        out.push([table_name, rows.rows.map((r) => r.j).join('\n')]);
      }
      return out;
    } finally {
      await client.end();
    }
  }
  const db = new Database(join(daemon.stateRoot, 'kheish.sqlite'), { readonly: true });
  try {
    const tables = db.prepare("select name from sqlite_master where type = 'table'").all() as Array<{
      name: string;
    }>;
    return tables.map(({ name }) => [
      name,
      JSON.stringify(db.prepare(`select * from "${name}"`).all(), (_k, v) =>
        Buffer.isBuffer(v) ? v.toString('latin1') : v,
      ),
    ]);
  } finally {
    db.close();
  }
}
