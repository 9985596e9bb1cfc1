// docs/mcp.md, followed as written against the real reference server: its stdio and HTTP TOML
// blocks (with `npx …` replaced by the copy in node_modules, and the HTTP port by a free one) start
// a daemon whose runtime snapshot says what the page says; its permission rules, capability
// scope and `mcp tools call` lines run through the CLI; its catalog lines exit 0.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { BIN, http, startDaemon, type TestDaemon, tempDir } from '../helpers/daemon.ts';
import {
  EVERYTHING,
  type HttpMcpServer,
  mcpSnapshot,
  NODE,
  startEverythingHttp,
  writeMcpConfig,
} from '../helpers/mcp.ts';
import { fencedBlocks } from './markdown.ts';

const PAGE = 'docs/mcp.md';
const text = readFileSync(resolve(import.meta.dirname, '../..', PAGE), 'utf8');
const blocks = fencedBlocks(PAGE, text);
const tomlWith = (needle: string) => {
  const b = blocks.find((x) => x.lang === 'toml' && x.body.includes(needle));
  assert.ok(b, `${PAGE} has a TOML block with ${needle}`);
  return b.body;
};
const shLines = blocks
  .filter((b) => b.lang === 'sh')
  .flatMap((b) => b.body.split('\n'))
  .map((l) => l.trim());
const shLine = (prefix: string) => {
  const line = shLines.find((l) => l.startsWith(prefix));
  assert.ok(line, `${PAGE} has a line starting with ${prefix}`);
  return line;
};
/** A shell line's words (single quotes only, as the page uses them). */
const words = (line: string) => [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!).slice(1);

let web: HttpMcpServer;
let d: TestDaemon;
const cli = (args: string[]) =>
  spawnSync(BIN, ['--base-url', d.url, ...args], { encoding: 'utf8', timeout: 60_000 });

before(async () => {
  web = await startEverythingHttp();
  const stdio = tomlWith('[mcp_servers.everything]')
    .replace(/^command = .*$/m, `command = ${JSON.stringify(NODE)}`)
    .replace(/^args = .*$/m, `args = [${JSON.stringify(EVERYTHING)}, "stdio"]`);
  const httpToml = tomlWith('[mcp_servers.web]').replace(/http:\/\/127\.0\.0\.1:3001\/mcp/, web.url);
  const config = writeMcpConfig(tempDir('kheish-mcp-doc-'), `${stdio}\n${httpToml}`);
  // The page's serve line, with the file the test wrote.
  const serve = words(shLine('kheish-daemon serve --mcp-discovery disabled --mcp-config')).slice(1);
  serve[serve.indexOf('--mcp-config') + 1] = config;
  d = await startDaemon({ args: serve });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
  await web?.stop();
});

test('docs/mcp.md: the stdio and HTTP examples connect, with their tool filters applied', async () => {
  const mcp = await mcpSnapshot(d.url);
  const byName = Object.fromEntries(mcp.servers.map((s: { server: string }) => [s.server, s]));
  assert.equal(byName.everything.connected, true, byName.everything.error);
  assert.equal(byName.everything.transport, 'stdio');
  assert.equal(byName.everything.source, 'codex_config');
  assert.ok(byName.everything.tools.includes('mcp__everything__echo'));
  assert.ok(
    !byName.everything.tools.includes('mcp__everything__trigger-long-running-operation'),
    'disabled_tools',
  );
  assert.equal(byName.web.connected, true, byName.web.error);
  assert.deepEqual(byName.web.tools.sort(), ['mcp__web__echo', 'mcp__web__get-sum'], 'enabled_tools');
  // The JSON example of the page has the same keys as the real snapshot.
  const example = JSON.parse(blocks.find((b) => b.lang === 'json' && b.body.includes('"servers"'))!.body);
  assert.deepEqual(Object.keys(mcp).sort(), Object.keys(example).sort());
  assert.deepEqual(Object.keys(byName.everything).sort(), Object.keys(example.servers[0]).sort());
  assert.match(
    byName.everything.instructions,
    /^The MCP server `everything` sent these instructions\. They are untrusted/,
  );
});

test('docs/mcp.md: `mcp tools call` answers with the echo', () => {
  const r = cli(words(shLine('kheish-daemon mcp tools call')));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Echo: hi/);
});

test('docs/mcp.md: the permission rules and the capability scope lines do what the page says', async () => {
  assert.equal(cli(['sessions', 'create', 'demo']).status, 0);
  for (const line of shLines.filter((l) => l.startsWith('kheish-daemon sessions add-permission-rule demo')))
    assert.equal(cli(words(line)).status, 0, line);
  const explain = async (tool: string) =>
    (await http(d.url, 'POST', '/v1/runtime/permissions/check', { session_id: 'demo', tool_name: tool }))
      .body;
  assert.equal((await explain('mcp__everything__echo')).decision, 'allow');
  assert.equal((await explain('mcp__web__echo')).decision, 'deny');
  const scoped = cli(words(shLine('kheish-daemon sessions set-capability-scope demo')));
  assert.equal(scoped.status, 0, scoped.stderr);
  const session = (await http(d.url, 'GET', '/v1/sessions/demo')).body;
  assert.deepEqual(session.capability_scope, { mcp_server_deny: ['web'] });
  const page = JSON.parse(blocks.find((b) => b.lang === 'json' && b.body.includes('mcp_server_deny'))!.body);
  assert.ok(Array.isArray(page.mcp_tool_deny));
});

test('docs/mcp.md: the catalog lines run without a daemon', () => {
  for (const line of shLines.filter((l) => /^kheish-daemon mcp (catalog|profiles|auth slots)/.test(l))) {
    const r = spawnSync(BIN, words(line), { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, `${line}: ${r.stderr}`);
  }
});
