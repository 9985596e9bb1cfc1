// `kheish-daemon up` (ops-runtime §2.5, issue 21) on a fresh state root, as a user runs it: the
// master key file is created once (0600) and reused, the ready line is printed, zero routes are
// tolerated (submits answer routes/route_not_ready); a route added through the API serves a chat
// turn, survives a restart, and its key never lands in plain text in the state root, the revisions
// or the events; an MCP server added live (server-everything) brings its tools and survives too.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Kheish } from '../../src/sdk/index.ts';
import { type FixtureServer, pieces } from '../fixtures/providers/harness.ts';
import { startOpenAiServer } from '../fixtures/providers/openai-server.ts';
import { BIN, http, tempDir } from '../helpers/daemon.ts';
import { EVERYTHING, freePort, NODE } from '../helpers/mcp.ts';

const API_KEY = `sk-up-test-${Math.random().toString(36).slice(2)}-NEVER-PLAIN`;
const MCP_SECRET = `mcp-secret-${Math.random().toString(36).slice(2)}`;
const home = tempDir('kheish-up-');
const stateRoot = join(home, 'state');
let openai: FixtureServer;
const procs: ChildProcess[] = [];

after(async () => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  await openai?.close();
  rmSync(home, { recursive: true, force: true });
});

/** Starts `up` like an operator; resolves with the URL of the ready line and the process. */
async function up(port: number): Promise<{ url: string; proc: ChildProcess; out: () => string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  delete env.KHEISH_AUTH_STORE_MASTER_KEY;
  delete env.KHEISH_AUTH_STORE_MASTER_KEY_FILE;
  const proc = spawn(
    BIN,
    [
      'up',
      '--no-open',
      '--bind',
      `127.0.0.1:${port}`,
      '--state-root',
      stateRoot,
      '--mcp-discovery',
      'disabled',
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: home },
  );
  procs.push(proc);
  let stdout = '';
  let stderr = '';
  proc.stderr!.on('data', (d) => {
    stderr += d;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`up not ready in 20 s:\n${stdout}\n${stderr}`)), 20_000);
    proc.stdout!.on('data', (d) => {
      stdout += d;
      const m = /^Kheish console ready at (http:\/\/\S+)$/m.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.on('exit', (code) => reject(new Error(`up exited with ${code}:\n${stdout}\n${stderr}`)));
  });
  return { url, proc, out: () => stdout + stderr };
}

const stop = (proc: ChildProcess) =>
  new Promise<void>((resolve) => {
    proc.on('exit', () => resolve());
    proc.kill('SIGTERM');
  });

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

test('up: key file 0600 reused, ready line, onboarding, live route + MCP server across a restart, no plain key', async () => {
  openai = await startOpenAiServer();
  const port = await freePort();
  const first = await up(port);
  assert.equal(first.url, `http://127.0.0.1:${port}/`, 'the ready line names the bound address');

  const keyFile = join(stateRoot, 'auth-store-master.key');
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  const keyBytes = readFileSync(keyFile, 'utf8');
  assert.match(keyBytes.trim(), /^[A-Za-z0-9+/]{43}=$/);

  const base = first.url.replace(/\/$/, '');
  const k = new Kheish({ baseUrl: base });
  const status = await k.runtime.status();
  assert.equal(status.onboarding, true);
  assert.ok(
    ((status.health as { warnings: Array<{ code: string }> }).warnings ?? []).some(
      (w) => w.code === 'onboarding_no_routes',
    ),
  );
  assert.deepEqual(await k.runtime.routes(), []);

  // Zero routes: a submit is refused with a detail that says how to add one, and persists nothing.
  const session = await http(base, 'POST', '/v1/sessions', {});
  const sid = session.body.session_id as string;
  const refused = await http(base, 'POST', `/v1/sessions/${sid}/runs`, { content: 'hello' });
  assert.equal(refused.status, 409, refused.text);
  assert.equal(refused.body.domain, 'routes');
  assert.equal(refused.body.code, 'route_not_ready');
  assert.match(refused.body.detail, /add one/);

  // A route added live becomes the default and serves a chat turn through the OpenAI wire.
  const added = await k.runtime.addRoute({
    route_id: 'gpt',
    provider: 'openai',
    model: 'gpt-5.4',
    base_url: openai.origin,
    api_key: API_KEY,
  });
  assert.equal(added.default_route, 'gpt');
  assert.equal(added.route.readiness, 'ok');
  assert.equal(added.route.auth_ref, 'routes.gpt.api_key');
  assert.equal(added.route.source, 'runtime_api');
  openai.enqueue({ kind: 'text', deltas: pieces('hello from the live route') });
  const turn = await http(base, 'POST', `/v1/sessions/${sid}/input`, { content: 'hi' });
  assert.equal(turn.status, 200, turn.text);
  assert.match(JSON.stringify(turn.body), /hello from the live route/);
  assert.equal(openai.requests.at(-1)?.headers.authorization, `Bearer ${API_KEY}`);

  // An MCP server added live: its tools are in the registry at once.
  const server = await k.mcp.addServer({
    name: 'everything',
    config: { command: NODE, args: [EVERYTHING, 'stdio'] },
    secrets: { env: { EVERYTHING_TOKEN: MCP_SECRET } },
  });
  assert.equal(server.connected, true, JSON.stringify(server));
  assert.ok((server.tools as string[]).includes('mcp__everything__echo'));
  const echo = await k.mcp.callTool('mcp__everything__echo', { message: 'live' });
  assert.match(echo.content, /live/);

  const revisions = await http(base, 'GET', '/v1/runtime/revisions');
  assert.ok(!revisions.text.includes(API_KEY) && !revisions.text.includes(MCP_SECRET));
  const events = await http(base, 'GET', '/v1/runtime');
  assert.ok(!events.text.includes(API_KEY));
  await stop(first.proc);

  // Restart: the same key file is reused, the route and the MCP server come back.
  const second = await up(port);
  assert.equal(readFileSync(keyFile, 'utf8'), keyBytes, 'the key is generated once');
  const k2 = new Kheish({ baseUrl: second.url.replace(/\/$/, '') });
  const routes = await k2.runtime.routes();
  assert.deepEqual(
    routes.map((r) => [r.route_id, r.readiness, r.is_default]),
    [['gpt', 'ok', true]],
  );
  const mcp = await k2.mcp.inventory();
  assert.ok((mcp.tool_names as string[]).includes('mcp__everything__echo'), JSON.stringify(mcp));
  openai.enqueue({ kind: 'text', deltas: pieces('still here') });
  const again = await http(second.url.replace(/\/$/, ''), 'POST', `/v1/sessions/${sid}/input`, {
    content: 'again',
  });
  assert.equal(again.status, 200, again.text);

  // Removal: the route (and its stored key), then the MCP server and its tools.
  const removed = await k2.runtime.deleteRoute('gpt');
  assert.equal(removed.accepted, true);
  assert.equal(removed.default_route, null);
  assert.deepEqual(await k2.runtime.routes(), []);
  const slots = await http(second.url.replace(/\/$/, ''), 'GET', '/v1/runtime/secrets');
  assert.ok(!JSON.stringify(slots.body).includes('routes.gpt.api_key'), 'the route key slot goes with it');
  await k2.mcp.removeServer('everything');
  const after = await k2.mcp.inventory();
  assert.deepEqual(after.tool_names, []);
  await stop(second.proc);

  // Nowhere in the state root in plain text (SQLite, its WAL, every file), nor in the output.
  for (const file of filesUnder(stateRoot)) {
    const bytes = readFileSync(file);
    assert.equal(bytes.includes(API_KEY), false, `${file} holds the route key in plain text`);
    assert.equal(bytes.includes(MCP_SECRET), false, `${file} holds the MCP secret in plain text`);
  }
  assert.ok(!first.out().includes(API_KEY) && !second.out().includes(API_KEY));
});
