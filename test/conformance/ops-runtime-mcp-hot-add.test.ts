// MCP hot-add (ops-runtime §8.1 runtime source, §19 gap 11; docs/decisions.md #627-#628) with the
// real server-everything: POST/DELETE /v1/runtime/mcp/servers as revisions, the §8.2 rules, secrets
// stored as slots the revision only names, tools in the registry at once and gone after removal,
// durable across a crash, and on PostgreSQL connected by another replica too. Both stores.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { generateMasterKeyText } from '../../src/secrets/crypto.ts';
import { http, startDaemon, startReplica, type TestDaemon, tempDir } from '../helpers/daemon.ts';
import { EVERYTHING, NODE, stdioServer, writeMcpConfig } from '../helpers/mcp.ts';
import { testStoreIsPostgres } from '../helpers/pg-schema.ts';
import { assertProblem } from './support.ts';

const SECRET = `hot-${Math.random().toString(36).slice(2)}-SECRET`;
const env = { KHEISH_AUTH_STORE_MASTER_KEY: generateMasterKeyText() };
const dir = tempDir('kheish-mcp-hot-');
let d: TestDaemon;
const base = () => d.url;

before(async () => {
  d = await startDaemon({
    args: [
      '--mcp-discovery',
      'disabled',
      '--mcp-config',
      writeMcpConfig(dir, stdioServer('fixed', EVERYTHING, ['stdio'])),
    ],
    env,
  });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

const everything = {
  name: 'hot',
  config: { command: NODE, args: [EVERYTHING, 'stdio'] },
  secrets: { env: { HOT_TOKEN: SECRET } },
};
const toolNames = async (url = base()) =>
  (await http(url, 'GET', '/v1/runtime')).body.mcp.tool_names as string[];

test('ops-runtime §8.1: a server added at runtime connects and its tools are in the registry at once', async () => {
  const added = await http(base(), 'POST', '/v1/runtime/mcp/servers', everything);
  assert.equal(added.status, 201, added.text);
  assert.equal(added.body.connected, true);
  assert.equal(added.body.source, 'runtime_api');
  assert.deepEqual(added.body.credential_secret_refs, ['mcp.custom.hot.HOT_TOKEN']);
  assert.ok((await toolNames()).includes('mcp__hot__echo'));
  // The tool is callable, and the child got the secret (server-everything's get-env prints it masked).
  const call = await http(base(), 'POST', '/v1/runtime/mcp/tools/call', {
    name: 'mcp__hot__get-env',
    arguments: {},
  });
  assert.equal(call.status, 200, call.text);
  assert.match(call.body.content, /HOT_TOKEN/);
  assert.ok(!call.text.includes(SECRET), 'the secret is masked in the operator call');
  const revisions = await http(base(), 'GET', '/v1/runtime/revisions');
  assert.equal(revisions.body.revisions[0].setting, 'mcp_servers');
  assert.ok(!revisions.text.includes(SECRET));
  assertProblem(
    await http(base(), 'DELETE', '/v1/runtime/secrets/mcp.custom.hot.HOT_TOKEN'),
    409,
    'runtime',
    'secret_in_use',
  );
});

test('ops-runtime #38: hot-added servers follow the §8.2 rules; names are unique', async () => {
  const revision = (await http(base(), 'GET', '/v1/runtime')).body.config.revision;
  for (const config of [
    { command: NODE, url: 'http://127.0.0.1:1/mcp' },
    { command: NODE, headers: { A: 'b' } },
    { url: 'http://127.0.0.1:1/mcp', bearer_token_secret_ref: 'x', headers: { Authorization: 'y' } },
    { command: NODE, surprise: true },
  ])
    assertProblem(
      await http(base(), 'POST', '/v1/runtime/mcp/servers', { name: 'bad', config }),
      400,
      'mcp',
      'invalid_mcp_server',
    );
  assertProblem(
    await http(base(), 'POST', '/v1/runtime/mcp/servers', { ...everything, name: 'fixed' }),
    409,
    'mcp',
    'mcp_server_exists',
  );
  assertProblem(
    await http(base(), 'DELETE', '/v1/runtime/mcp/servers/fixed'),
    409,
    'mcp',
    'mcp_server_not_runtime_managed',
  );
  assertProblem(
    await http(base(), 'DELETE', '/v1/runtime/mcp/servers/nope'),
    404,
    'mcp',
    'mcp_server_not_found',
  );
  assert.equal((await http(base(), 'GET', '/v1/runtime')).body.config.revision, revision);
});

test('ops-runtime #35: a hot-added server comes back after a crash; removal drops its tools and slots', async () => {
  await d.kill();
  d = await d.restart({ env });
  assert.ok((await toolNames()).includes('mcp__hot__echo'));
  assert.ok((await toolNames()).includes('mcp__fixed__echo'));
  const removed = await http(base(), 'DELETE', '/v1/runtime/mcp/servers/hot');
  assert.equal(removed.status, 200, removed.text);
  const names = await toolNames();
  assert.ok(!names.some((n) => n.startsWith('mcp__hot__')));
  assert.ok(names.includes('mcp__fixed__echo'), 'the configured server is untouched');
  assert.equal((await http(base(), 'GET', '/v1/runtime/secrets/mcp.custom.hot.HOT_TOKEN')).status, 404);
});

test('ops-runtime §8.1: on PostgreSQL a server added through one replica is connected by another', {
  skip: !testStoreIsPostgres(),
}, async () => {
  const replica = await startReplica(d, { args: ['--mcp-discovery', 'disabled'], env });
  try {
    const added = await http(base(), 'POST', '/v1/runtime/mcp/servers', { ...everything, name: 'shared' });
    assert.equal(added.status, 201, added.text);
    let names: string[] = [];
    for (let i = 0; i < 150 && !names.includes('mcp__shared__echo'); i++) {
      names = await toolNames(replica.url);
      if (!names.includes('mcp__shared__echo')) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(names.includes('mcp__shared__echo'), JSON.stringify(names));
    assert.equal((await http(replica.url, 'DELETE', '/v1/runtime/mcp/servers/shared')).status, 200);
    for (let i = 0; i < 150; i++) {
      if (!(await toolNames()).includes('mcp__shared__echo')) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail('the removal through the replica did not reach the primary');
  } finally {
    await replica.kill();
    await replica.cleanup();
  }
});
