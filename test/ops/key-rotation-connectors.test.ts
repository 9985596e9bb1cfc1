// Key rotation, the connector and MCP rows (issue 20, ops-runtime §16.3, decisions #562-#563):
// - an external (HTTP) connector's shared token named by `shared_token.secret_ref` rotates on the
//   running daemon with `secrets set`: the old token is refused at once, the new one accepted;
// - an MCP server's bearer token (configured with `bearer_token_secret_ref`, and hot-added with
//   `secrets.bearer_token`) rotates with `secrets set` + a daemon restart, because the daemon reads
//   an MCP server's credentials when it plans the connection. Until the restart `doctor` names the
//   server; after it, the next connection carries the new token and the tool works.
// The MCP server is a real Streamable HTTP server (the SDK's transport) that checks the bearer.
// Runs on SQLite, and on PostgreSQL with KHEISH_TEST_STORE=postgres.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { generateMasterKeyText } from '../../src/secrets/crypto.ts';
import { BIN, http, startDaemon, type TestDaemon, tempDir } from '../helpers/daemon.ts';
import { writeMcpConfig } from '../helpers/mcp.ts';

const env = { KHEISH_AUTH_STORE_MASTER_KEY: generateMasterKeyText() };
const baseEnv = { ...process.env };
for (const name of ['KHEISH_STATE_ROOT', 'KHEISH_DATABASE_URL', 'KHEISH_AUTH_STORE_MASTER_KEY_FILE'])
  delete baseEnv[name];
const OLD = `old-${Math.random().toString(36).slice(2)}-bearer`;
const NEW = `new-${Math.random().toString(36).slice(2)}-bearer`;

/** The bearer tokens the MCP server accepts now, and every Authorization header it was sent. */
const accepted = new Set<string>([OLD]);
const seen: string[] = [];
let mcp: Server;
let mcpUrl: string;
let d: TestDaemon;

before(async () => {
  mcp = createServer(async (req, res) => {
    const auth = req.headers.authorization ?? '';
    seen.push(auth);
    if (!accepted.has(auth.replace(/^Bearer /, ''))) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
      return;
    }
    const server = new McpServer({ name: 'vault', version: '1.0.0' });
    server.registerTool('whoami', { description: 'Says which token was presented' }, async () => ({
      content: [{ type: 'text', text: `token ${auth.slice(-12)}` }],
    }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((r) => mcp.listen(0, '127.0.0.1', r));
  mcpUrl = `http://127.0.0.1:${(mcp.address() as AddressInfo).port}/mcp`;
  const config = writeMcpConfig(
    tempDir('kheish-rotation-mcp-'),
    `[mcp_servers.vault]\nurl = ${JSON.stringify(mcpUrl)}\nbearer_token_secret_ref = "mcp.vault.bearer"\n`,
  );
  // The slot exists before the server is planned: first boot writes it, the second connects.
  d = await startDaemon({ env });
  assert.equal(secretsSet('mcp.vault.bearer', OLD).status, 0);
  await d.stop();
  d = await d.restart({ args: ['--mcp-discovery', 'disabled', '--mcp-config', config] });
});
after(async () => {
  await d?.stop();
  await d?.cleanup();
  mcp?.close();
});

/** `secrets set <slot>` with the value on stdin, against the running daemon. */
function secretsSet(slot: string, value: string) {
  return spawnSync(BIN, ['--base-url', d.url, 'secrets', 'set', slot, '--provider', 'generic'], {
    encoding: 'utf8',
    env: { ...baseEnv, ...env },
    input: `${value}\n`,
    timeout: 60_000,
  });
}

const servers = async () =>
  (await http(d.url, 'GET', '/v1/runtime')).body.mcp.servers as Array<{ server: string; connected: boolean }>;
const callWhoami = (server: string) =>
  http(d.url, 'POST', '/v1/runtime/mcp/tools/call', { name: `mcp__${server}__whoami`, arguments: {} });

test('connector shared token: `secrets set` on the running daemon; the old token is refused at once, the new one accepted', async () => {
  const slot = 'external.side.shared';
  assert.equal(secretsSet(slot, OLD).status, 0);
  const put = await http(d.url, 'PUT', '/v1/runtime/connectors/external/side', {
    mode: 'remote_http',
    base_url: 'http://127.0.0.1:9/',
    allow_private_network: true,
    shared_token: { secret_ref: slot },
    session_policy: { create_if_missing: true },
  });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.body.shared_token.secret_ref, slot);
  const send = (id: string, token: string) =>
    http(
      d.url,
      'POST',
      '/v1/connectors/external/side/events',
      { protocol_version: 2, event_id: id, routing_key: 'r', content: 'hello' },
      { authorization: `Bearer ${token}` },
    );
  assert.equal((await send('before', OLD)).body.status, 'accepted');
  const rotated = secretsSet(slot, NEW);
  assert.equal(rotated.status, 0, rotated.stderr);
  assert.equal((await send('after-old', OLD)).status, 401, 'the old token is refused without a restart');
  const fresh = await send('after-new', NEW);
  assert.equal(fresh.body.status, 'accepted', fresh.text);
  // The connector view names the slot, never its value.
  const view = await http(d.url, 'GET', '/v1/runtime/connectors/external/side');
  assert.ok(!view.text.includes(NEW) && !view.text.includes(OLD));
});

test('MCP bearer (configured and hot-added): `secrets set`, then restart; the next connection carries the new token', async () => {
  const added = await http(d.url, 'POST', '/v1/runtime/mcp/servers', {
    name: 'hot',
    config: { url: mcpUrl },
    secrets: { bearer_token: OLD },
  });
  assert.equal(added.status, 201, added.text);
  assert.deepEqual(added.body.credential_secret_refs, ['mcp.custom.hot.bearer_token']);
  for (const name of ['vault', 'hot']) {
    assert.ok((await servers()).find((s) => s.server === name)?.connected, name);
    assert.match((await callWhoami(name)).body.content, new RegExp(OLD.slice(-12)));
  }
  // The upstream switches to the new token; the daemon's slots are updated while it runs.
  accepted.clear();
  accepted.add(NEW);
  assert.equal(secretsSet('mcp.vault.bearer', NEW).status, 0);
  assert.equal(secretsSet('mcp.custom.hot.bearer_token', NEW).status, 0);
  // The connections planned with the old token fail; doctor names them with the fix.
  assert.notEqual((await callWhoami('vault')).status, 200);
  const doctor = spawnSync(BIN, ['--base-url', d.url, '--output', 'json', 'doctor', '--no-integrity'], {
    encoding: 'utf8',
    env: baseEnv,
  });
  const mcpChecks = JSON.parse(doctor.stdout).checks.filter((c: any) => c.name === 'mcp');
  const vault = mcpChecks.find((c: any) => c.related_id === 'vault');
  assert.equal(vault?.severity, 'warning', doctor.stdout);
  assert.match(vault.action, /restart the daemon/);

  await d.stop();
  const before = seen.length; // the stopped daemon's own retries, with the old token, end here
  d = await d.restart();
  for (const name of ['vault', 'hot']) {
    assert.ok((await servers()).find((s) => s.server === name)?.connected, `${name} reconnected`);
    const who = await callWhoami(name);
    assert.equal(who.status, 200, who.text);
    assert.match(who.body.content, new RegExp(NEW.slice(-12)));
  }
  const after = seen.slice(before);
  assert.ok(
    after.length > 0 && after.every((h) => h === `Bearer ${NEW}`),
    'only the new token after the restart',
  );
});
