import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ToolRegistry } from '../../src/tools/registry.ts';
import { registerWebTools } from '../../src/tools/web/index.ts';
import type { Resolver } from '../../src/tools/web/target-policy.ts';
import { createWebFetchTool } from '../../src/tools/web/web-fetch.ts';
import type { Fixture } from './fixtures.ts';
import { ctx, redirect, startFixture, text } from './fixtures.ts';

let site: Fixture;
const PAGE = `<!doctype html><html><head><title>Fixture &amp; Co</title><style>body{color:red}</style>
<script>document.write('tracking')</script></head><body><nav><a href="/home">Home</a></nav>
<h1>Hello&nbsp;world</h1><p>First <b>bold</b> paragraph with a <a href="/docs?x=1">docs link</a>.</p>
<script type="text/javascript">var secret = "do not show";</script><ul><li>one</li><li>two</li></ul>
<pre>  indented
    code</pre><!-- hidden comment --><p>&lt;escaped&gt; &#169; &#x263A;</p></body></html>`;

before(async () => {
  site = await startFixture({
    '/page': text(PAGE, 'text/html; charset=utf-8'),
    '/json': text('{"ok":true}', 'application/json'),
    '/latin1': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; charset=iso-8859-1' });
      res.end(Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    },
    '/gzip': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
      res.end(gzipSync('compressed hello'));
    },
    '/gzip-bomb': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
      res.end(gzipSync(Buffer.alloc(20 * 1024 * 1024, 0x61)));
    },
    '/chunked-big': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      for (let i = 0; i < 40; i++) res.write('y'.repeat(4096));
      res.end();
    },
    '/hop1': redirect('/hop2', 301),
    '/hop2': redirect('/json', 307),
    '/loop': redirect('/loop'),
    '/missing': text('nope', 'text/plain', 404),
    '/slow': () => {
      // never answers
    },
    '/host': (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'set-cookie': 'sid=abc' });
      res.end(`host=${req.headers.host}`);
    },
    '/to-rebind-final': (req, res) => redirect(`http://rebind.test:${req.socket.localPort}/host`)(req, res),
  });
});

after(() => site.close());

const fetchTool = (extra: Parameters<typeof createWebFetchTool>[0] = {}) =>
  createWebFetchTool({ allowPrivateTargetsForTests: [site.socket], maxBodyBytes: 64 * 1024, ...extra });

async function ok(url: string, extra: Parameters<typeof createWebFetchTool>[0] = {}) {
  const r = await fetchTool(extra).execute({ url }, ctx());
  assert.equal(r.is_error, false, r.content);
  return JSON.parse(r.content) as Record<string, any>;
}

test('web_fetch: HTML becomes readable text without scripts, styles, tags or comments', async () => {
  const out = await ok(`${site.base}/page`);
  assert.equal(out.status, 200);
  assert.equal(out.content_type, 'text/html');
  assert.equal(out.body_format, 'html_as_text');
  const body = out.body as string;
  assert.match(body, /^Fixture & Co\n/);
  assert.match(body, /# Hello world/);
  assert.match(body, /First bold paragraph with a \[docs link\]\(http:\/\/127\.0\.0\.1:\d+\/docs\?x=1\)\./);
  assert.match(body, /- one\n- two/);
  assert.match(body, / {2}indented\n {4}code/);
  assert.match(body, /<escaped> © ☺/);
  for (const banned of ['tracking', 'do not show', 'color:red', 'hidden comment', '<p>', '<script']) {
    assert.ok(!body.includes(banned), `body must not contain ${banned}`);
  }
  for (const key of [
    'url',
    'final_url',
    'redirects',
    'status',
    'headers',
    'body',
    'bytes_read',
    'truncated',
  ]) {
    assert.ok(key in out, `output has ${key}`);
  }
  assert.equal(out.truncated, false);
  assert.equal(out.bytes_read, Buffer.byteLength(PAGE));
});

test('web_fetch: JSON and declared charsets are returned as text', async () => {
  const json = await ok(`${site.base}/json`);
  assert.equal(json.body, '{"ok":true}');
  assert.equal(json.body_format, 'text');
  assert.equal((await ok(`${site.base}/latin1`)).body, 'café');
  const missing = await ok(`${site.base}/missing`);
  assert.equal(missing.status, 404);
  assert.equal(missing.body, 'nope');
});

test('web_fetch: redirects are followed (each hop re-vetted) and counted; more than 5 are refused', async () => {
  const out = await ok(`${site.base}/hop1`);
  assert.equal(out.redirects, 2);
  assert.equal(out.final_url, `${site.base}/json`);
  assert.equal(out.url, `${site.base}/hop1`);
  const loop = await fetchTool().execute({ url: `${site.base}/loop` }, ctx());
  assert.equal(loop.is_error, true);
  assert.match(loop.content, /stopped after 5 redirects.*\[too_many_redirects\]/);
  assert.equal(site.seen.filter((s) => s.path === '/loop').length, 6, 'the first request plus 5 redirects');
});

test('web_fetch: bodies are capped, also after decompression, with truncated=true', async () => {
  const big = await ok(`${site.base}/chunked-big`);
  assert.equal(big.truncated, true);
  assert.equal(big.bytes_read, 64 * 1024);
  assert.match(big.body, /\[\.\.\. truncated: the body exceeded 65536 bytes\]$/);
  const gz = await ok(`${site.base}/gzip`);
  assert.equal(gz.body, 'compressed hello');
  const bomb = await ok(`${site.base}/gzip-bomb`);
  assert.equal(bomb.truncated, true);
  assert.equal(bomb.bytes_read, 64 * 1024);
});

test('web_fetch: live ToolRuntimeLimits lower the body cap and the timeout', async () => {
  const small = await ok(`${site.base}/chunked-big`, { limits: () => ({ max_output_bytes: 1000 }) });
  assert.equal(small.bytes_read, 1000);
  assert.equal(small.truncated, true);
  const slow = await fetchTool({ limits: () => ({ max_timeout_ms: 150 }) }).execute(
    { url: `${site.base}/slow` },
    ctx(),
  );
  assert.match(slow.content, /timed out after 150 ms/);
});

test('web_fetch: the connection goes to the vetted address, and DNS is asked once per hop (no rebinding)', async () => {
  const asked: string[] = [];
  // First answer: the exempted fixture. Any later answer: a different loopback address. If the
  // socket layer looked the name up again it would get 127.0.0.2 (nothing listens there).
  const resolve: Resolver = async (host) => {
    asked.push(host);
    return [{ address: asked.length === 1 ? '127.0.0.1' : '127.0.0.2', family: 4 }];
  };
  const before = site.seen.length;
  const out = await ok(`http://rebind.test:${site.port}/host`, { resolve });
  assert.deepEqual(asked, ['rebind.test'], 'one lookup, done by the policy, none by the socket layer');
  assert.equal(out.remote_address, '127.0.0.1');
  assert.equal(out.body, `host=rebind.test:${site.port}`, 'the server saw the real host name');
  assert.equal(site.seen.length, before + 1);
  assert.equal(site.seen.at(-1)!.local, '127.0.0.1');
  assert.ok(!('set-cookie' in out.headers), 'cookies are not passed back');
});

test('web_fetch: a redirect back to the same name is re-resolved and refused when the answer changed', async () => {
  {
    let calls = 0;
    const resolve: Resolver = async () => {
      calls++;
      return [{ address: calls === 1 ? '127.0.0.1' : '127.0.0.2', family: 4 }];
    };
    const tool = createWebFetchTool({ resolve, allowPrivateTargetsForTests: [`127.0.0.1:${site.port}`] });
    // First hop: rebind.test -> 127.0.0.1 on the exempted socket; it redirects to itself.
    const seen = site.seen.length;
    const first = await tool.execute({ url: `http://rebind.test:${site.port}/to-rebind-final` }, ctx());
    assert.equal(first.is_error, true);
    assert.equal(calls, 2);
    assert.match(first.content, /redirect 1 was refused: .*rebind\.test resolves to 127\.0\.0\.2/);
    assert.equal(site.seen.length, seen + 1, 'only the first hop reached the server');
  }
});

test('web_fetch: overall timeout and caller cancellation', async () => {
  const slow = await fetchTool({ timeoutMs: 200 }).execute({ url: `${site.base}/slow` }, ctx());
  assert.equal(slow.is_error, true);
  assert.match(slow.content, /timed out after 200 ms \[timeout\]/);
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error('run cancelled')), 100);
  await assert.rejects(fetchTool().execute({ url: `${site.base}/slow` }, ctx(ac.signal)), /run cancelled/);
});

test('web tools: shell metacharacters in arguments are plain data (no shell is involved)', async () => {
  const marker = path.join(tmpdir(), `kheish-injection-${process.pid}`);
  const payloads = [
    `/x;touch ${marker}`,
    `/$(touch ${marker})`,
    `/\`touch ${marker}\``,
    `/x|touch ${marker}`,
  ];
  for (const p of payloads) {
    const r = await fetchTool().execute({ url: `${site.base}${p}` }, ctx());
    assert.equal(r.is_error, false);
    assert.equal(JSON.parse(r.content).status, 404);
  }
  assert.equal(existsSync(marker), false);
  const paths = site.seen.slice(-payloads.length).map((s) => decodeURIComponent(s.path));
  assert.deepEqual(paths, payloads, 'the server received the characters literally');
});

const openssl = spawnSync('openssl', ['version']).status === 0;

test('web_fetch: https through a pinned address still verifies the certificate for the host name', {
  skip: openssl ? false : 'openssl not installed',
}, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kheish-tls-'));
  const key = path.join(dir, 'k.pem');
  const cert = path.join(dir, 'c.pem');
  const gen = spawnSync('openssl', [
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-keyout', key, '-out', cert],
    ...['-subj', '/CN=secure.test', '-addext', 'subjectAltName=DNS:secure.test'],
  ]);
  assert.equal(gen.status, 0, String(gen.stderr));
  const server = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('tls');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const tool = createWebFetchTool({
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
      allowPrivateTargetsForTests: [`127.0.0.1:${port}`],
    });
    // The socket reaches the pinned server (TLS handshake happens), and the untrusted
    // self-signed certificate is still rejected: pinning does not weaken verification.
    const r = await tool.execute({ url: `https://secure.test:${port}/` }, ctx());
    assert.equal(r.is_error, true);
    assert.match(r.content, /SELF_SIGNED_CERT.*\[network_error\]/);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('registerWebTools: registers web_fetch (read-only) and web_search (read-only)', () => {
  const registry = new ToolRegistry();
  registerWebTools(registry, { fetch: {}, search: {} });
  const names = registry.list().map((t) => [t.name, t.side_effects]);
  assert.deepEqual(names, [
    ['web_fetch', false],
    ['web_search', false],
  ]);
  const fetchTool = registry.get('web_fetch')!;
  assert.deepEqual((fetchTool.input_schema as { required: string[] }).required, ['url']);
});
