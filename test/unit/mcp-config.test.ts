// The pure parts of the MCP client: config rules (ops-runtime §8.2), discovery, catalog and
// profiles (§8.3), capability-scope visibility, qualified names and the output caps.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  CATALOG,
  CATALOG_PROFILES,
  catalogEntry,
  expandProfiles,
  normalizeProfiles,
} from '../../src/config/mcp-catalog.ts';
import { parseMcpConfigText, resolveMcpSources } from '../../src/config/mcp-config.ts';
import { capJson, renderToolResult, wrapInstructions } from '../../src/features/mcp/bounds.ts';
import { serverVisible, toolVisible } from '../../src/features/mcp/scope.ts';
import { maskSecrets } from '../../src/features/mcp/service.ts';
import { qualifiedName } from '../../src/features/mcp/tools.ts';
import { boundedFetch } from '../../src/features/mcp/transports.ts';
import { tempDir } from '../helpers/daemon.ts';

const parse = (toml: string) => parseMcpConfigText(toml, 'mcp.toml');
const refused = (toml: string, message: RegExp) => assert.throws(() => parse(toml), message);

test('a stdio and an HTTP entry parse with their defaults', () => {
  const [a, b] = parse(
    '[mcp_servers.a]\ncommand = "node"\nargs = ["x"]\n\n[mcp_servers.b]\nurl = "https://h.test/mcp"\ntool_timeout_sec = 2.5\nenabled_tools = ["t"]\n',
  );
  assert.equal(a!.transport, 'stdio');
  assert.equal(a!.inherit_env, true, 'custom stdio inherits the daemon env without secret refs');
  assert.equal(a!.startup_timeout_ms, 10_000);
  assert.equal(b!.transport, 'streamable_http');
  assert.equal(b!.tool_timeout_ms, 2500);
  assert.deepEqual(b!.enabled_tools, ['t']);
  const [c] = parse('[mcp_servers.c]\ncommand = "x"\nenv_secret_refs = { T = "mcp.custom.c.T" }\n');
  assert.equal(c!.inherit_env, false, 'secret refs force a restricted environment');
  assert.deepEqual(parse('model = "gpt"\n'), [], 'a Codex file without mcp_servers');
});

test('every §8.2 rule is a clear error naming the server', () => {
  refused('[mcp_servers.x]\ncommand = "a"\nurl = "http://h/mcp"\n', /`x`.*both `command` and `url`/);
  refused('[mcp_servers.x]\nargs = []\n', /`x`.*needs `command`.*or `url`/);
  refused('[mcp_servers.x]\ncommand = "a"\nheaders = { a = "b" }\n', /stdio server but sets `headers`/);
  refused('[mcp_servers.x]\nurl = "http://h/mcp"\ncwd = "/"\n', /Streamable HTTP server but sets `cwd`/);
  refused(
    '[mcp_servers.x]\ncommand = "a"\ninherit_env = true\nenv_secret_refs = { K = "mcp.c.K" }\n',
    /`inherit_env = true` is not allowed/,
  );
  refused(
    '[mcp_servers.x]\ncommand = "a"\nenv = { K = "v" }\nenv_secret_refs = { K = "mcp.c.K" }\n',
    /`K` is set both in `env` and in `env_secret_refs`/,
  );
  refused(
    '[mcp_servers.x]\nurl = "http://h/mcp"\nenv_http_headers = { Authorization = "TOKEN" }\nbearer_token_env_var = "T"\n',
    /`Authorization` header \(in `env_http_headers`\) conflicts with `bearer_token_\*`/,
  );
  refused(
    '[mcp_servers.x]\nurl = "http://h/mcp"\nhttp_header_secret_refs = { AUTHORIZATION = "mcp.x.A" }\noauth_slot_ref = "mcp.oauth.x"\n',
    /conflicts with `oauth_slot_ref`/,
  );
  refused(
    '[mcp_servers.x]\nurl = "http://h/mcp"\nbearer_token_secret_ref = "mcp.x.T"\noauth_slot_ref = "mcp.oauth.x"\n',
    /bearer token and `oauth_slot_ref` cannot both/,
  );
  refused(
    '[mcp_servers.x]\nurl = "http://h/mcp"\nheaders = { "X-Key" = "a" }\nhttp_header_secret_refs = { "x-key" = "mcp.x.K" }\n',
    /header `x-key` comes from both `headers` and `http_header_secret_refs`/,
  );
  refused(
    '[mcp_servers.x]\nurl = "http://h/mcp"\noauth_slot_ref = "oauth.x"\n',
    /must start with `mcp\.oauth\.`/,
  );
  refused('[mcp_servers.x]\nurl = "ftp://h/mcp"\n', /http:\/\/ or https:\/\//);
  refused('[mcp_servers.x]\ncommand = "a"\ncomand = "typo"\n', /unknown key\(s\) `comand`/);
  refused('[mcp_servers."a.b"]\ncommand = "a"\n', /server name may only hold/);
  refused('[mcp_servers.x\n', /not valid TOML/);
});

test('discovery: auto imports $HOME/.codex only without an explicit config; disabled never', () => {
  const home = tempDir('kheish-home-unit-');
  mkdirSync(join(home, '.codex'));
  writeFileSync(join(home, '.codex', 'config.toml'), '');
  writeFileSync(join(home, '.codex', '.credentials.json'), '{}');
  const base = { configPath: null, credentialsPath: null };
  assert.deepEqual(resolveMcpSources({ ...base, discovery: 'auto' }, home), {
    configPath: join(home, '.codex', 'config.toml'),
    credentialsPath: join(home, '.codex', '.credentials.json'),
  });
  assert.deepEqual(resolveMcpSources({ ...base, discovery: 'disabled' }, home), base);
  assert.deepEqual(resolveMcpSources({ ...base, discovery: 'auto', configPath: '/x/m.toml' }, home), {
    configPath: '/x/m.toml',
    credentialsPath: null,
  });
});

test('the catalog holds every §8.3 entry and profile; slots are mcp.<entry>.<ENV>', () => {
  assert.equal(CATALOG.length, 17);
  assert.equal(CATALOG_PROFILES.length, 10);
  assert.deepEqual(catalogEntry('linear')!.credential_secret_refs, ['mcp.linear.LINEAR_API_KEY']);
  assert.equal(catalogEntry('github')!.status, 'catalog_only');
  assert.deepEqual(catalogEntry('stripe')!.enabled_tools, ['search_stripe_documentation']);
  const supported = CATALOG.filter((e) => e.status === 'supported').map((e) => e.id);
  assert.deepEqual(supported.sort(), [
    'cloudflare-agents-docs',
    'cloudflare-api',
    'cloudflare-docs',
    'gitlab',
    'linear',
    'microsoft-learn',
    'neon',
    'openai-docs',
    'stripe',
  ]);
  for (const empty of ['knowledge', 'communication', 'browser-ui', 'observability'])
    assert.throws(() => expandProfiles([empty]), /has no supported entries/);
  assert.deepEqual(normalizeProfiles(['Docs, repo', 'docs']), ['docs', 'repo']);
  assert.deepEqual(
    expandProfiles(['repo']).map((x) => x.entry.id),
    ['gitlab'],
    'catalog_only GitHub is not started by a profile',
  );
});

test('capability scope: server and tool lists, prefixes, deny wins', () => {
  const scope = { mcp_server_deny: ['fault'], mcp_tool_allow: ['mcp__everything__*', 'read_mcp_resource'] };
  assert.equal(serverVisible(scope, 'fault'), false);
  assert.equal(toolVisible(scope, 'mcp__everything__echo', 'everything'), true);
  assert.equal(toolVisible(scope, 'mcp__web__echo', 'web'), false, 'not in the allow list');
  assert.equal(toolVisible(scope, 'read_mcp_resource', null), true);
  assert.equal(toolVisible(scope, 'list_mcp_resources', null), false);
  assert.equal(toolVisible({ mcp_tool_deny: ['*'] }, 'mcp__a__b', 'a'), false);
  assert.equal(toolVisible(null, 'mcp__a__b', 'a'), true);
});

test('qualified names: sanitized, bounded to 64 characters, distinct when cut', () => {
  assert.equal(qualifiedName('everything', 'get-sum'), 'mcp__everything__get-sum');
  assert.equal(qualifiedName('s', 'a.b/c'), 'mcp__s__a_b_c');
  const long1 = qualifiedName('server', 'x'.repeat(80));
  const long2 = qualifiedName('server', `${'x'.repeat(79)}y`);
  assert.equal(long1.length, 64);
  assert.notEqual(long1, long2);
});

test('output caps: JSON depth/items/strings, media described, instructions wrapped', () => {
  const capped = capJson({ a: Array.from({ length: 150 }, () => 'z'.repeat(5000)) }) as { a: string[] };
  assert.equal(capped.a.length, 101);
  assert.ok(capped.a[0]!.length < 4200);
  const text = renderToolResult('s', {
    content: [
      { type: 'text', text: 'hello' },
      { type: 'image', mimeType: 'image/png', data: 'AAAA' },
    ],
  });
  assert.match(text, /^\[untrusted output of MCP server `s`/);
  assert.match(text, /\[image image\/png, 3 bytes, not shown\]/);
  assert.equal(wrapInstructions('s', '  '), null);
  assert.match(
    wrapInstructions('s', 'do things')!,
    /untrusted text from a third party[\s\S]*<<<\ndo things\n>>>/,
  );
});

test('HTTP bodies are cut at the byte bound while streaming, declared or not', async () => {
  const srv = createServer((req, res) => {
    if (req.url === '/declared') res.writeHead(200, { 'content-length': '5000' }).end('x'.repeat(5000));
    else if (req.url === '/small') res.end('fine');
    else {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 0; i < 10; i++) res.write(`data: ${'y'.repeat(1000)}\n\n`);
      res.end();
    }
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  try {
    const f = boundedFetch(4096);
    assert.equal(await (await f(`${base}/small`)).text(), 'fine');
    await assert.rejects(f(`${base}/declared`), /5000 bytes, over the 4096-byte limit/);
    const stream = await f(`${base}/sse`);
    await assert.rejects(stream.text(), /passed the 4096-byte limit/);
  } finally {
    srv.close();
  }
});

test('secret values are masked in messages, longest first', () => {
  assert.equal(
    maskSecrets('token abcd1234 and abcd', ['abcd', 'abcd1234', 'x']),
    'token [redacted] and [redacted]',
  );
});
