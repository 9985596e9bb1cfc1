// `mcp oauth login|status|logout` against a loopback OAuth authorization server written here
// (protected-resource metadata, authorization-server metadata, dynamic registration, an
// authorize endpoint that redirects at once, a token endpoint that checks PKCE S256 and
// `resource`). The test plays the browser with the URL `--no-open` prints.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BIN, http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { freePort, writeMcpConfig } from '../helpers/mcp.ts';

const BEARER = join(import.meta.dirname, '../fixtures/mcp/bearer-http-server.ts');

interface Issued {
  challenge: string;
  resource: string | null;
  scope: string | null;
  client_id: string;
}

let base = '';
let dynamicRegistration = true;
const codes = new Map<string, Issued>();
const seen: string[] = [];
const readBody = (req: IncomingMessage) =>
  new Promise<string>((r) => {
    let b = '';
    req.on('data', (c) => (b += c)).on('end', () => r(b));
  });

const as: Server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', base);
  const json = (status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  seen.push(`${req.method} ${url.pathname}`);
  if (url.pathname.startsWith('/.well-known/oauth-protected-resource'))
    return json(200, {
      resource: `${base}/mcp`,
      authorization_servers: [base],
      scopes_supported: ['read', 'search'],
    });
  if (url.pathname === '/.well-known/oauth-authorization-server')
    return json(200, {
      issuer: base,
      authorization_endpoint: `${base}/authorize`,
      token_endpoint: `${base}/token`,
      ...(dynamicRegistration ? { registration_endpoint: `${base}/register` } : {}),
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
    });
  if (url.pathname === '/register' && req.method === 'POST') {
    const meta = JSON.parse(await readBody(req));
    return json(201, {
      ...meta,
      client_id: 'dyn-client-1',
      client_id_issued_at: Math.floor(Date.now() / 1000),
    });
  }
  if (url.pathname === '/authorize') {
    const p = url.searchParams;
    assert.equal(p.get('code_challenge_method'), 'S256');
    const code = `code-${codes.size + 1}`;
    codes.set(code, {
      challenge: p.get('code_challenge')!,
      resource: p.get('resource'),
      scope: p.get('scope'),
      client_id: p.get('client_id')!,
    });
    const back = new URL(p.get('redirect_uri')!);
    back.searchParams.set('code', code);
    back.searchParams.set('state', p.get('state')!);
    return res.writeHead(302, { location: back.toString() }).end();
  }
  if (url.pathname === '/token' && req.method === 'POST') {
    const form = new URLSearchParams(await readBody(req));
    const issued = codes.get(form.get('code') ?? '');
    const verifier = form.get('code_verifier') ?? '';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    if (!issued || issued.challenge !== challenge || form.get('resource') !== issued.resource)
      return json(400, { error: 'invalid_grant' });
    return json(200, {
      access_token: 'access-token-secret-1',
      refresh_token: 'refresh-token-secret-1',
      token_type: 'Bearer',
      expires_in: 3600,
      scope: issued.scope ?? '',
    });
  }
  res.writeHead(404).end();
});

let d: TestDaemon;
const key = spawnSync(BIN, ['secrets', 'generate'], { encoding: 'utf8' }).stdout.trim();
before(async () => {
  await new Promise<void>((r) => as.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(as.address() as AddressInfo).port}`;
  d = await startDaemon({
    env: { KHEISH_AUTH_STORE_MASTER_KEY: key },
    args: ['--mcp-discovery', 'disabled'],
  });
});
after(async () => {
  as.close();
  await d?.kill();
  await d?.cleanup();
});

function runCli(args: string[]): Promise<{ status: number | null; stderr: string }> {
  const proc = spawn(BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (c) => (stderr += c));
  return new Promise((r) => proc.on('exit', (status) => r({ status, stderr })));
}

/** Starts `mcp oauth login`; resolves with the JSON it prints, the process and its outcome. */
async function startLogin(args: string[]) {
  const proc: ChildProcess = spawn(BIN, ['--base-url', d.url, 'mcp', 'oauth', 'login', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (c) => (err += c));
  const done = new Promise<{ code: number | null; out: string; err: string }>((r) =>
    proc.on('exit', (code) => r({ code, out, err })),
  );
  const printed = await new Promise<any>((res, rej) => {
    proc.stdout!.on('data', (c) => {
      out += c;
      const line = out.split('\n')[0]!;
      if (out.includes('\n')) res(JSON.parse(line));
    });
    done.then((r) => rej(new Error(`login exited ${r.code} before printing: ${r.err}`)));
  });
  return { printed, done };
}

test('mcp oauth login: discovery, dynamic registration, PKCE and resource, loopback callback, write-only import', async () => {
  const { printed, done } = await startLogin([
    'acme',
    '--url',
    `${base}/mcp`,
    '--scopes',
    'read,search',
    '--no-open',
    '--allow-http-for-loopback',
  ]);
  assert.equal(printed.slot_id, 'mcp.oauth.acme');
  assert.match(printed.redirect_uri, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
  const authorize = new URL(printed.authorization_url);
  assert.equal(authorize.searchParams.get('resource'), `${base}/mcp`);
  assert.equal(authorize.searchParams.get('client_id'), 'dyn-client-1');
  // The browser: the authorization server redirects to the loopback callback.
  const redirect = await fetch(authorize, { redirect: 'manual' });
  assert.equal(redirect.status, 302);
  const landed = await fetch(redirect.headers.get('location')!);
  assert.equal(landed.status, 200);
  const result = await done;
  assert.equal(result.code, 0, result.err);
  assert.match(result.out, /stored MCP OAuth account mcp\.oauth\.acme \(oauth_account expires/);
  assert.ok(seen.includes('POST /register') && seen.includes('POST /token'));
  const slot = (await http(d.url, 'GET', '/v1/runtime/secrets/mcp.oauth.acme')).body;
  assert.equal(slot.mode, 'oauth_account');
  assert.equal(slot.details.issuer, base);
  assert.equal(slot.details.resource, `${base}/mcp`);
  assert.deepEqual(slot.details.scopes, ['read', 'search']);
  assert.equal(slot.details.server_name, 'acme');
  assert.ok(!JSON.stringify(slot).includes('token-secret'), 'tokens are never returned');
  const status = spawnSync(BIN, ['--base-url', d.url, 'mcp', 'oauth', 'status', 'acme'], {
    encoding: 'utf8',
  });
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stdout, /oauth_account/);
  assert.ok(!status.stdout.includes('token-secret'));
  const logout = spawnSync(BIN, ['--base-url', d.url, 'mcp', 'oauth', 'logout', 'acme'], {
    encoding: 'utf8',
  });
  assert.equal(logout.status, 0, logout.stderr);
  assert.equal((await http(d.url, 'GET', '/v1/runtime/secrets/mcp.oauth.acme')).status, 404);
});

test('mcp oauth login: a callback with another state is refused and nothing is stored', async () => {
  const { printed, done } = await startLogin([
    'evil',
    '--url',
    `${base}/mcp`,
    '--no-open',
    '--allow-http-for-loopback',
  ]);
  const forged = new URL(printed.redirect_uri);
  forged.searchParams.set('code', 'stolen');
  forged.searchParams.set('state', 'not-the-state');
  assert.equal((await fetch(forged)).status, 400);
  const result = await done;
  assert.equal(result.code, 2);
  assert.match(result.err, /callback state did not match/);
  assert.equal((await http(d.url, 'GET', '/v1/runtime/secrets/mcp.oauth.evil')).status, 404);
});

test('mcp oauth login: http needs --allow-http-for-loopback; no registration endpoint needs --client-id', async () => {
  const plain = spawnSync(
    BIN,
    ['--base-url', d.url, 'mcp', 'oauth', 'login', 'x', '--url', `${base}/mcp`, '--no-open'],
    {
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  assert.equal(plain.status, 2);
  assert.match(plain.stderr, /requires https resource URLs/);
  dynamicRegistration = false;
  try {
    // Not spawnSync: the authorization server runs in this process and must answer meanwhile.
    const r = await runCli([
      '--base-url',
      d.url,
      'mcp',
      'oauth',
      'login',
      'x',
      '--url',
      `${base}/mcp`,
      '--no-open',
      '--allow-http-for-loopback',
    ]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /authorization server does not advertise dynamic registration/);
  } finally {
    dynamicRegistration = true;
  }
});

test('the import endpoint refuses a slot outside mcp.*', async () => {
  const res = await http(d.url, 'POST', '/v1/runtime/auth/accounts/mcp-oauth', {
    slot_id: 'openai.prod',
    server_name: 'x',
    resource: 'https://x.example/mcp',
    access_token: 't',
  });
  assert.equal(res.status, 400);
});

test('an OAuth-backed server starts fail-closed, then a resource helper initializes it inside the session scope, re-authorizing every call', async () => {
  const port = await freePort();
  const acme = spawn(process.execPath, [BEARER], {
    env: { ...process.env, PORT: String(port), EXPECTED_TOKEN: 'acme-access-1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise<void>((res) =>
    acme.stderr!.on('data', (c) => /listening on port/.test(String(c)) && res()),
  );
  const resource = `http://127.0.0.1:${port}/mcp`;
  const cfg = writeMcpConfig(
    tempDir('kheish-mcp-oauth-cfg-'),
    `[mcp_servers.acme]\nurl = "${resource}"\noauth_slot_ref = "mcp.oauth.acme"\noauth_scopes = ["read"]\n\n` +
      `[mcp_servers.acmewide]\nurl = "${resource}"\noauth_slot_ref = "mcp.oauth.acme"\noauth_scopes = ["read", "admin"]\n`,
  );
  const read = (server: string) => ({
    tool_calls: [{ name: 'read_mcp_resource', arguments: { server, uri: 'note://hello' } }],
  });
  const o = await startDaemon({
    script: {
      rules: [
        { match: '^read acme$', turns: [read('acme'), { text: 'done' }] },
        { match: '^read wide$', turns: [read('acmewide'), { text: 'done' }] },
      ],
    },
    env: { KHEISH_AUTH_STORE_MASTER_KEY: key },
    args: ['--mcp-discovery', 'disabled', '--mcp-config', cfg],
  });
  try {
    const boot = (await http(o.url, 'GET', '/v1/runtime')).body.mcp.servers;
    for (const s of boot) {
      assert.equal(s.connected, false);
      assert.equal(s.error, 'oauth_requires_scoped_runtime_initialization');
    }
    const account = {
      slot_id: 'mcp.oauth.acme',
      server_name: 'acme',
      resource,
      access_token: 'acme-access-1',
      expires_at_ms: Date.now() + 3_600_000,
      scopes: ['read'],
    };
    assert.equal((await http(o.url, 'POST', '/v1/runtime/auth/accounts/mcp-oauth', account)).status, 200);
    const outcome = async (content: string, session: Record<string, unknown> = {}) => {
      const session_id = `o${Math.random().toString(36).slice(2, 8)}`;
      await http(o.url, 'POST', '/v1/sessions', { session_id, ...session });
      await http(o.url, 'POST', `/v1/sessions/${session_id}/permission-rules`, {
        pattern: 'read_mcp_resource',
        decision: 'allow',
      });
      const runId = (await http(o.url, 'POST', `/v1/sessions/${session_id}/runs`, { content })).body.run_id;
      const done = await waitForRun(o.url, runId);
      assert.equal(done.status, 'completed', done.error);
      const events = (await http(o.url, 'GET', `/v1/runs/${runId}/events`)).body;
      return events
        .map((e: { event: { trace?: any } }) => e.event.trace)
        .find((t: any) => t?.kind === 'tool_call_finished');
    };
    const ok = await outcome('read acme');
    assert.equal(ok.outcome, 'ok', ok.output_preview);
    assert.match(ok.output_preview, /hello from acme/);
    const after = (await http(o.url, 'GET', '/v1/runtime')).body.mcp.servers.find(
      (s: any) => s.server === 'acme',
    );
    assert.equal(after.connected, true);
    assert.deepEqual(after.tools, [], 'its tools are not registered: the helpers are the way in');
    const wide = await outcome('read wide');
    assert.equal(wide.outcome, 'error');
    assert.match(wide.output_preview, /attempted to add unapproved scope admin/);
    const scoped = await outcome('read acme', { credential_scope: { mcp_server_deny: ['acme'] } });
    assert.equal(scoped.outcome, 'error');
    assert.match(scoped.output_preview, /credential_scope does not allow/);
    // Re-authorized before every call: a rotated (here: revoked) token is used at once.
    await http(o.url, 'POST', '/v1/runtime/auth/accounts/mcp-oauth', { ...account, access_token: 'revoked' });
    const revoked = await outcome('read acme');
    assert.equal(revoked.outcome, 'error');
    const del = await http(o.url, 'DELETE', '/v1/runtime/secrets/mcp.oauth.acme');
    assert.equal(del.status, 409, 'still referenced by the loaded servers');
  } finally {
    acme.kill('SIGKILL');
    await o.kill();
    await o.cleanup();
  }
});
