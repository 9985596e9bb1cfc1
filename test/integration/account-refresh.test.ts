// Forced refresh of MCP OAuth accounts (ops-runtime §5.5; docs/credentials.md "Accounts") against
// a real token endpoint on loopback: the refresh_token grant carries the stored client, resource
// and approved scopes; a rotated refresh token replaces the old one; a scope the server adds is
// refused; nothing secret reaches a response or a CLI line. Through the API, the SDK-backed
// `runtime auth accounts refresh` and `mcp oauth refresh`.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { BIN, http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { queryState } from '../helpers/state-query.ts';

const KEY = spawnSync(BIN, ['secrets', 'generate'], { encoding: 'utf8' }).stdout.trim();
const forms: URLSearchParams[] = [];
let reply: Record<string, unknown> = {};
let base = '';
let d: TestDaemon;
const texts: string[] = [];

const readBody = (req: IncomingMessage) =>
  new Promise<string>((r) => {
    let b = '';
    req.on('data', (c) => (b += c)).on('end', () => r(b));
  });

const tokenServer: Server = createServer(async (req, res) => {
  const form = new URLSearchParams(await readBody(req));
  forms.push(form);
  const status = form.get('grant_type') === 'refresh_token' && !reply.error ? 200 : 400;
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
});

async function call(method: string, path: string, body?: unknown) {
  const res = await http(d.url, method, path, body);
  texts.push(res.text);
  return res;
}

/** Asynchronous: the token endpoint lives in this process and must keep answering meanwhile. */
const cli = (...args: string[]) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(BIN, ['--base-url', d.url, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (status) => {
      texts.push(stdout, stderr);
      resolve({ status, stdout, stderr });
    });
  });

before(async () => {
  await new Promise<void>((r) => tokenServer.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}`;
  d = await startDaemon({
    env: { KHEISH_AUTH_STORE_MASTER_KEY: KEY },
    args: ['--mcp-discovery', 'disabled'],
    script: { default: { turns: [{ text: 'ok' }] } },
  });
  const imported = await call('POST', '/v1/runtime/auth/accounts/mcp-oauth', {
    slot_id: 'mcp.oauth.acme',
    server_name: 'acme',
    resource: 'https://mcp.example.com/mcp',
    token_endpoint: `${base}/token`,
    client_id: 'client-1',
    access_token: 'old-access-token-111',
    refresh_token: 'old-refresh-token-111',
    scopes: ['read', 'search'],
  });
  assert.equal(imported.status, 200, imported.text);
});
after(async () => {
  tokenServer.close();
  await d?.kill();
  texts.push(d?.logs() ?? '');
  await d?.cleanup();
  for (const t of texts)
    for (const secret of [
      'old-access-token-111',
      'old-refresh-token-111',
      'new-access-token-222',
      'new-refresh-token-222',
    ])
      assert.ok(!t.includes(secret), `a token leaked: ${secret}`);
});

test('POST /v1/runtime/auth/accounts/{slot}/refresh: refresh_token grant, rotation, metadata only in the answer', async () => {
  reply = {
    access_token: 'new-access-token-222',
    refresh_token: 'new-refresh-token-222',
    expires_in: 600,
    scope: 'read search',
  };
  const before = Date.now();
  const res = await call('POST', '/v1/runtime/auth/accounts/mcp.oauth.acme/refresh');
  assert.equal(res.status, 200, res.text);
  const form = forms.at(-1)!;
  assert.equal(form.get('grant_type'), 'refresh_token');
  assert.equal(form.get('refresh_token'), 'old-refresh-token-111');
  assert.equal(form.get('client_id'), 'client-1');
  assert.equal(form.get('resource'), 'https://mcp.example.com/mcp');
  assert.equal(form.get('scope'), 'read search');
  assert.equal(res.body.details.last_refresh_outcome, 'ok');
  assert.ok(res.body.details.expires_at_ms >= before + 600_000);
  // The rotated refresh token is the one the next refresh presents (CLI this time).
  reply = { access_token: 'new-access-token-222', expires_in: 600 };
  const r = await cli('runtime', 'auth', 'accounts', 'refresh', 'mcp.oauth.acme');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^refreshed mcp\.oauth\.acme/);
  assert.equal(forms.at(-1)!.get('refresh_token'), 'new-refresh-token-222');
  // No refresh token returned: the current one is kept.
  const m = await cli('mcp', 'oauth', 'refresh', 'acme');
  assert.equal(m.status, 0, m.stderr);
  assert.match(m.stdout, /refreshed MCP OAuth account mcp\.oauth\.acme/);
  assert.equal(forms.at(-1)!.get('refresh_token'), 'new-refresh-token-222');
  // Nothing of it is stored in clear.
  const rows = await queryState(d, 'SELECT details FROM auth_slots');
  assert.ok(!JSON.stringify(rows).includes('new-access-token-222'));
});

test('refresh refuses scope escalation, reports token endpoint errors by code, and needs a refresh token', async () => {
  reply = { access_token: 'new-access-token-222', scope: 'read search admin' };
  const escalated = await call('POST', '/v1/runtime/auth/accounts/mcp.oauth.acme/refresh');
  assert.equal(escalated.status, 502, escalated.text);
  assert.equal(escalated.body.code, 'account_refresh_failed');
  assert.match(escalated.body.detail, /attempted to add unapproved scope admin/);
  reply = { error: 'invalid_grant', error_description: 'new-refresh-token-222 is dead' };
  const bad = await call('POST', '/v1/runtime/auth/accounts/mcp.oauth.acme/refresh');
  assert.equal(bad.status, 502);
  assert.match(bad.body.detail, /the token endpoint answered 400 invalid_grant$/);
  const noRefresh = await call('POST', '/v1/runtime/auth/accounts/mcp-oauth', {
    slot_id: 'mcp.oauth.short',
    server_name: 'short',
    resource: 'https://mcp.example.com/mcp',
    access_token: 'old-access-token-111',
  });
  assert.equal(noRefresh.status, 200);
  const refused = await call('POST', '/v1/runtime/auth/accounts/mcp.oauth.short/refresh');
  assert.equal(refused.status, 409);
  assert.equal(refused.body.code, 'account_refresh_unavailable');
});
