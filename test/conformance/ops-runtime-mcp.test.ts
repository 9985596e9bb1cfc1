// ops-runtime §20 items 37–40: MCP loading through real daemon processes and real MCP servers
// (server-everything and the fault fixture from node_modules / test/fixtures). Network catalog
// entries cannot connect here: their start is bounded by a short catalog timeout.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BIN, startDaemon, type TestDaemon, tempDir } from '../helpers/daemon.ts';
import { EVERYTHING, FAULT, mcpSnapshot, stdioServer, writeMcpConfig } from '../helpers/mcp.ts';

const dir = tempDir('kheish-mcp-conf-');
const daemons: TestDaemon[] = [];
after(async () => {
  for (const d of daemons) {
    await d.kill();
    await d.cleanup();
  }
});

const FAST_CATALOG = { KHEISH_MCP_CATALOG_STARTUP_TIMEOUT_MS: '500' };

/** Runs `serve` expecting a refused start; returns stderr. */
function refusedStart(args: string[], env: Record<string, string> = {}): string {
  const r = spawnSync(
    BIN,
    ['serve', '--state-root', tempDir(), '--bind', '127.0.0.1:0', '--mcp-discovery', 'disabled', ...args],
    { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...FAST_CATALOG, ...env } },
  );
  assert.equal(r.status, 2, `expected a refused start, got ${r.status}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /kheish-daemon ready/);
  return r.stderr;
}

async function daemon(args: string[], env: Record<string, string> = {}): Promise<TestDaemon> {
  const d = await startDaemon({ args, env: { ...FAST_CATALOG, ...env } });
  daemons.push(d);
  return d;
}

test('ops-runtime #37: --mcp-profile knowledge (no supported entries) fails startup with a clear error', () => {
  const err = refusedStart(['--mcp-profile', 'knowledge']);
  assert.match(err, /profile `knowledge` has no supported entries/);
  assert.match(err, /notion, atlassian/);
  assert.match(refusedStart(['--mcp-profile', 'nonsense']), /unknown MCP catalog profile `nonsense`/);
});

test('ops-runtime #37: --mcp-profile docs yields built_in_catalog servers with catalog_entry_id and selected_profiles', async () => {
  const d = await daemon(['--mcp-discovery', 'disabled', '--mcp-profile', 'docs']);
  const mcp = await mcpSnapshot(d.url);
  assert.deepEqual(mcp.selected_profiles, ['docs']);
  assert.equal(mcp.config_path, null);
  const ids = mcp.servers.map((s: { catalog_entry_id: string }) => s.catalog_entry_id).sort();
  assert.deepEqual(ids, ['cloudflare-agents-docs', 'cloudflare-docs', 'microsoft-learn', 'openai-docs']);
  for (const s of mcp.servers) {
    assert.equal(s.source, 'built_in_catalog');
    assert.deepEqual(s.profiles, ['docs']);
    assert.equal(s.transport, 'streamable_http');
    assert.equal(s.uses_credentials, false);
    // No network on the test machine: each shows why instead of being dropped.
    if (!s.connected) assert.ok(s.error, `${s.server} has an error`);
  }
  const openai = mcp.servers.find((s: { catalog_entry_id: string }) => s.catalog_entry_id === 'openai-docs');
  assert.equal(openai.server, 'openaiDeveloperDocs');
  // KHEISH_MCP_PROFILES is the env fallback (comma list), here two profiles sharing entries.
  const e = await daemon(['--mcp-discovery', 'disabled'], { KHEISH_MCP_PROFILES: 'docs,deploy-infra' });
  const both = await mcpSnapshot(e.url);
  assert.deepEqual(both.selected_profiles, ['docs', 'deploy-infra']);
  const cf = both.servers.find((s: { catalog_entry_id: string }) => s.catalog_entry_id === 'cloudflare-docs');
  assert.deepEqual(cf.profiles, ['docs', 'deploy-infra']);
  assert.ok(both.servers.some((s: { catalog_entry_id: string }) => s.catalog_entry_id === 'cloudflare-api'));
});

const badConfigs: [string, string, RegExp][] = [
  [
    'both command and url',
    '[mcp_servers.x]\ncommand = "node"\nurl = "http://127.0.0.1:1/mcp"\n',
    /MCP server `x` .*has both `command` and `url`/,
  ],
  [
    'inherit_env = true plus env_secret_refs',
    '[mcp_servers.x]\ncommand = "node"\ninherit_env = true\nenv_secret_refs = { TOKEN = "mcp.custom.x.TOKEN" }\n',
    /MCP server `x` .*`inherit_env = true` is not allowed/,
  ],
  [
    'an Authorization header plus bearer_token_secret_ref',
    '[mcp_servers.x]\nurl = "http://127.0.0.1:1/mcp"\nheaders = { authorization = "Bearer a" }\nbearer_token_secret_ref = "mcp.custom.x.T"\n',
    /MCP server `x` .*`Authorization` header .* conflicts with `bearer_token_\*`/,
  ],
  [
    'oauth_slot_ref not starting mcp.oauth.',
    '[mcp_servers.x]\nurl = "https://mcp.example.test/mcp"\noauth_slot_ref = "acme"\n',
    /MCP server `x` .*`oauth_slot_ref` must start with `mcp\.oauth\.`/,
  ],
];

for (const [what, toml, message] of badConfigs)
  test(`ops-runtime #38: an MCP config with ${what} fails startup`, () => {
    const path = writeMcpConfig(dir, toml, `bad-${what.replace(/\W+/g, '-')}.toml`);
    const err = refusedStart(['--mcp-config', path]);
    assert.match(err, message);
    assert.match(err, new RegExp(path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'the file is named');
  });

test('ops-runtime #38: two servers whose qualified tool names collide fail startup', () => {
  // Server `a` offers a tool `b__pid`, server `a__b` a tool `pid`: both become mcp__a__b__pid.
  const toml =
    stdioServer('a', FAULT, [], 'env = { FAULT_EXTRA_TOOL = "b__pid" }') + stdioServer('a__b', FAULT);
  const err = refusedStart(['--mcp-config', writeMcpConfig(dir, toml, 'collide.toml')]);
  assert.match(err, /both become `mcp__a__b__pid`/);
});

test('ops-runtime #39: an OAuth-backed HTTP MCP server reports connected false with oauth_requires_scoped_runtime_initialization', async () => {
  const toml =
    '[mcp_servers.acme]\nurl = "https://mcp.acme.example/mcp"\noauth_slot_ref = "mcp.oauth.acme"\n' +
    'oauth_resource = "https://mcp.acme.example/mcp"\noauth_scopes = ["read", "search"]\n';
  const d = await daemon([
    '--mcp-discovery',
    'disabled',
    '--mcp-config',
    writeMcpConfig(dir, toml, 'oauth.toml'),
  ]);
  const [acme] = (await mcpSnapshot(d.url)).servers;
  assert.equal(acme.server, 'acme');
  assert.equal(acme.connected, false);
  assert.equal(acme.error, 'oauth_requires_scoped_runtime_initialization');
  assert.equal(acme.uses_credentials, true);
  assert.deepEqual(acme.credential_secret_refs, ['mcp.oauth.acme']);
  assert.equal(acme.source, 'codex_config');
});

test('ops-runtime #40: with --mcp-discovery disabled a valid $HOME/.codex/config.toml is not imported (auto imports it)', async () => {
  const home = tempDir('kheish-home-');
  mkdirSync(join(home, '.codex'));
  const config = join(home, '.codex', 'config.toml');
  writeFileSync(config, `model = "gpt-5.4"\n\n${stdioServer('everything', EVERYTHING, ['stdio'])}`);
  const off = await daemon(['--mcp-discovery', 'disabled'], { HOME: home });
  const offSnap = await mcpSnapshot(off.url);
  assert.deepEqual(offSnap.servers, []);
  assert.equal(offSnap.config_path, null);
  assert.deepEqual(offSnap.tool_names, []);
  const auto = await daemon([], { HOME: home, KHEISH_MCP_DISCOVERY: '' });
  const autoSnap = await mcpSnapshot(auto.url);
  assert.equal(autoSnap.config_path, config);
  assert.equal(autoSnap.servers[0].server, 'everything');
  assert.equal(autoSnap.servers[0].source, 'codex_config');
  assert.equal(autoSnap.servers[0].connected, true);
  assert.ok(autoSnap.tool_names.includes('mcp__everything__echo'));
  // An explicit --mcp-config replaces the ambient file even in auto mode.
  const explicit = writeMcpConfig(dir, stdioServer('fault', FAULT), 'explicit.toml');
  const chosen = await daemon(['--mcp-config', explicit], { HOME: home });
  const chosenSnap = await mcpSnapshot(chosen.url);
  assert.equal(chosenSnap.config_path, explicit);
  assert.deepEqual(
    chosenSnap.servers.map((s: { server: string }) => s.server),
    ['fault'],
  );
});
