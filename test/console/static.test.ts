// The console's static files (issue 21): served at / and /assets/* with the right caching, outside
// the API's auth (the page is public; its API calls carry the token), never shadowing /v1 or probes.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ConsoleService } from '../../src/features/console/service.ts';
import { http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { ensureConsoleBuilt } from './build.ts';

const ADMIN = 'console-admin-token-0123456789';
let d: TestDaemon;

before(async () => {
  ensureConsoleBuilt();
  d = await startDaemon({ args: ['--http-admin-token', ADMIN] });
});
after(async () => {
  await d.kill();
  await d.cleanup();
});

const bundleNames = (html: string) => [...html.matchAll(/\/assets\/([\w.-]+)/g)].map((m) => m[1]!);

test('console: / is the page, revalidated on every load, with a same-origin CSP, without a token', async () => {
  const res = await http(d.url, 'GET', '/');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /^text\/html/);
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  assert.match(res.headers.get('content-security-policy')!, /script-src 'self'/);
  assert.match(res.headers.get('content-security-policy')!, /connect-src 'self'/);
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
  assert.match(res.text, /<title>Kheish Air<\/title>/);
  const etag = res.headers.get('etag')!;
  const again = await http(d.url, 'GET', '/', undefined, { 'if-none-match': etag });
  assert.equal(again.status, 304, 'an unchanged page is not sent again');
});

test('console: hashed bundles are immutable for a year; unknown names and paths out of the folder are 404', async () => {
  const names = bundleNames((await http(d.url, 'GET', '/')).text);
  assert.ok(
    names.some((n) => n.endsWith('.js')) && names.some((n) => n.endsWith('.css')),
    `bundles: ${names}`,
  );
  for (const name of names) {
    const res = await http(d.url, 'GET', `/assets/${name}`);
    assert.equal(res.status, 200, name);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.match(res.headers.get('content-type')!, name.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
  }
  for (const path of [
    '/assets/nope.js',
    '/assets/..%2Fpackage.json',
    '/assets/.hidden',
    '/assets/%2e%2e%2fsrc',
  ]) {
    assert.equal((await http(d.url, 'GET', path)).status, 404, path);
  }
});

test('console: the API and the probes are not shadowed, and /v1 keeps its bearer auth', async () => {
  assert.equal((await http(d.url, 'GET', '/healthz')).text, 'ok\n');
  const noToken = await http(d.url, 'GET', '/v1/status');
  assert.equal(noToken.status, 401, 'the page is public, the API is not');
  const withToken = await http(d.url, 'GET', '/v1/status', undefined, { authorization: `Bearer ${ADMIN}` });
  assert.equal(withToken.status, 200);
  assert.equal(
    (await http(d.url, 'GET', '/v1/nothing-here', undefined, { authorization: `Bearer ${ADMIN}` })).status,
    404,
  );
  const openapi = await http(d.url, 'GET', '/v1/openapi.json', undefined, {
    authorization: `Bearer ${ADMIN}`,
  });
  const paths = Object.keys(openapi.body.paths);
  assert.ok(
    !paths.includes('/') && !paths.some((p) => p.startsWith('/assets')),
    'static routes stay out of the API document',
  );
});

test('console: a daemon whose console was not built says how to build it instead of a blank page', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kheish-console-'));
  try {
    const files = new ConsoleService(join(dir, 'dist'));
    assert.match(files.index().body.toString(), /npm run build:console/);
    assert.equal(files.asset('index.js'), null);
    // Built while the daemon runs: the page is found without a restart.
    mkdirSync(join(dir, 'dist/assets'), { recursive: true });
    writeFileSync(join(dir, 'dist/index.html'), '<!doctype html><title>built</title>');
    writeFileSync(join(dir, 'dist/assets/app-abc123.js'), 'export {}');
    assert.match(files.index().body.toString(), /built/);
    assert.equal(files.asset('app-abc123.js')!.type, 'text/javascript; charset=utf-8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
