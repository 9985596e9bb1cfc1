// Hostile targets for web_fetch: every one must be refused with a clear, coded error, and no
// fixture server may see a request it should not have received.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Resolver } from '../../src/tools/web/target-policy.ts';
import { createWebFetchTool } from '../../src/tools/web/web-fetch.ts';
import type { Fixture } from './fixtures.ts';
import { ctx, redirect, startFixture, text } from './fixtures.ts';

let allowed: Fixture; // the only socket the test option exempts
let victim: Fixture; // a loopback service an attacker wants to reach

// Hostnames the stub resolver knows; anything else fails like NXDOMAIN.
const DNS: Record<string, string[]> = {
  'evil.test': ['127.0.0.1'],
  'meta.test': ['169.254.169.254'],
  'mixed.test': ['93.184.216.34', '10.0.0.7'],
  'mapped.test': ['::ffff:127.0.0.1'],
  'ula.test': ['fd00::1'],
};
const resolve: Resolver = async (host) => {
  const answers = DNS[host];
  if (!answers) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

before(async () => {
  victim = await startFixture({ '/': text('secret admin page') });
  allowed = await startFixture({
    '/to-victim': redirect(`${victim.base}/`),
    '/to-loopback-name': redirect(`http://localhost:${victim.port}/`),
    '/to-metadata': redirect('http://169.254.169.254/latest/meta-data/'),
    '/to-file': redirect('file:///etc/passwd'),
    '/to-creds': redirect(`http://user:pw@127.0.0.1:${victim.port}/`),
    '/to-evil-name': redirect(`http://evil.test:${victim.port}/`),
    '/image': text('\x89PNG\r\n\x1a\n', 'image/png'),
    '/octet': text('MZ\x90\x00', 'application/octet-stream'),
    '/pdf': text('%PDF-1.7', 'application/pdf'),
    '/undeclared-binary': (_req, res) => {
      res.writeHead(200, {});
      res.end(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0, 1]));
    },
    '/huge-declared': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(50 * 1024 * 1024) });
      res.write('x'.repeat(1024));
      // never finishes: the declared size alone must be refused
    },
  });
});

after(async () => {
  await allowed.close();
  await victim.close();
});

const tool = () =>
  createWebFetchTool({ resolve, allowPrivateTargetsForTests: [allowed.socket], maxBodyBytes: 64 * 1024 });

async function refusedWith(url: string, code: string): Promise<string> {
  const r = await tool().execute({ url }, ctx());
  assert.equal(r.is_error, true, `${url} must be refused, got ${r.content.slice(0, 200)}`);
  assert.match(r.content, new RegExp(`\\[${code}\\]$`), `${url}: ${r.content}`);
  assert.match(r.content, /^web_fetch: /);
  return r.content;
}

test('api-core #93: web_fetch refuses loopback, private, link-local, metadata and encoded-IP targets', async () => {
  const targets = [
    'http://127.0.0.1/',
    `http://127.0.0.1:${victim.port}/`,
    'http://localhost/',
    `http://localhost:${victim.port}/`,
    'http://sub.localhost/',
    'http://[::1]/',
    `http://[::1]:${victim.port}/`,
    'http://10.0.0.1/',
    'http://172.16.5.4/',
    'http://192.168.0.1/',
    'http://100.64.0.1/',
    'http://169.254.169.254/latest/meta-data/',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://0.0.0.0/',
    'http://2130706433/', // decimal 127.0.0.1
    'http://0x7f.1/', // hex + short form
    'http://0x7f000001/',
    'http://017700000001/', // octal
    'http://127.1/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:a9fe:a9fe]/', // mapped 169.254.169.254
    'http://[fe80::1]/',
    'http://[fd00::1]/',
    'http://[::]/',
    'http://224.0.0.1/',
    'http://evil.test/', // the resolver maps it to 127.0.0.1
    'http://meta.test/',
    'http://mapped.test/',
    'http://ula.test/',
    'http://mixed.test/', // one public and one private answer: refused as a whole
  ];
  assert.ok(targets.length >= 15);
  for (const url of targets) {
    const msg = await refusedWith(url, 'forbidden_target');
    assert.match(msg, /refused .*public internet addresses/);
  }
  assert.equal(victim.seen.length, 0, 'the loopback victim was never contacted');
});

test('web_fetch: the refusal names the normalized address of encoded IPs', async () => {
  const msg = await refusedWith('http://2130706433/', 'forbidden_target');
  assert.match(msg, /http:\/\/2130706433\/ \(host 127\.0\.0\.1\): 127\.0\.0\.1 is a loopback address/);
  const mapped = await refusedWith('http://[::ffff:127.0.0.1]/', 'forbidden_target');
  assert.match(mapped, /IPv4-mapped IPv6 form of 127\.0\.0\.1/);
});

test('api-core #93: web_fetch refuses URL credentials and non-http schemes', async () => {
  await refusedWith('http://user:pass@example.com/', 'url_credentials');
  await refusedWith('https://token@example.com/', 'url_credentials');
  await refusedWith(`http://user:pw@${allowed.socket}/`, 'url_credentials');
  for (const url of [
    'file:///etc/passwd',
    'gopher://127.0.0.1:70/_x',
    'ftp://example.com/',
    'data:text/plain,hi',
  ]) {
    await refusedWith(url, 'unsupported_scheme');
  }
  await refusedWith('javascript:alert(1)', 'unsupported_scheme');
  await refusedWith('not a url', 'invalid_url');
  const r = await tool().execute({ url: 42 }, ctx());
  assert.equal(r.is_error, true);
  assert.equal(allowed.seen.length, 0);
});

test('web_fetch: a redirect from an allowed server to a private or local target is refused at that hop', async () => {
  const cases: Array<[string, string, RegExp]> = [
    [
      '/to-victim',
      'forbidden_target',
      /redirect 1 was refused: refused http:\/\/127\.0\.0\.1:\d+\/: 127\.0\.0\.1 is a loopback/,
    ],
    ['/to-loopback-name', 'forbidden_target', /localhost is a local or metadata host name/],
    ['/to-metadata', 'forbidden_target', /cloud metadata/],
    ['/to-file', 'unsupported_scheme', /redirect 1 was refused: only http and https/],
    ['/to-creds', 'url_credentials', /redirect 1 was refused/],
    ['/to-evil-name', 'forbidden_target', /evil\.test resolves to 127\.0\.0\.1/],
  ];
  for (const [path, code, message] of cases) {
    const msg = await refusedWith(`${allowed.base}${path}`, code);
    assert.match(msg, message);
  }
  assert.equal(victim.seen.length, 0, 'no redirect reached the victim');
  assert.equal(allowed.seen.filter((s) => s.path.startsWith('/to-')).length, cases.length);
});

test('web_fetch: binary content types and undeclared binary bodies are refused', async () => {
  for (const path of ['/image', '/octet', '/pdf']) {
    const msg = await refusedWith(`${allowed.base}${path}`, 'binary_content');
    assert.match(msg, /binary or unsupported content type/);
  }
  await refusedWith(`${allowed.base}/undeclared-binary`, 'binary_content');
});

test('web_fetch: a body declared larger than the limit is refused without reading it', async () => {
  const msg = await refusedWith(`${allowed.base}/huge-declared`, 'body_too_large');
  assert.match(msg, /declares 52428800 bytes, more than the 65536-byte limit/);
});

test('web_fetch: the test exemption is per socket, not a blanket loopback pass', async () => {
  // Same address, other port: still refused.
  await refusedWith(`http://127.0.0.1:${victim.port}/`, 'forbidden_target');
  // Without the option at all, the exempted fixture itself is refused.
  const plain = createWebFetchTool({ resolve });
  const r = await plain.execute({ url: `${allowed.base}/image` }, ctx());
  assert.equal(r.is_error, true);
  assert.match(r.content, /forbidden_target/);
});
