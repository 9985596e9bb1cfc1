// --database-url from the operator's side: wrong values fail start with the exit code and one plain
// line that says what to do (never the password), and a database that goes away under a running
// daemon turns /readyz and /v1/status not ready until it comes back. Uses the machine's PostgreSQL.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { after, test } from 'node:test';
import { BIN, http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { adminQuery, freshSchema, TEST_DATABASE_URL } from '../helpers/pg-schema.ts';

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** `serve` with this URL; it must refuse to start, so it is run to its exit. */
function refusedStart(url: string, via: 'flag' | 'env' = 'flag') {
  const root = tempDir();
  roots.push(root);
  const args = ['serve', '--bind', '127.0.0.1:0', '--state-root', root];
  if (via === 'flag') args.push('--database-url', url);
  const r = spawnSync(BIN, args, {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, ...(via === 'env' ? { KHEISH_DATABASE_URL: url } : {}) },
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}`, stderr: r.stderr };
}

/** A loopback port nobody listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

/** The test server's URL with another database name and, unless it has one, a password to hide. */
function urlWith(database: string, password = 'pw-must-not-leak'): { url: string; secret: string } {
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = `/${database}`;
  if (!u.password) u.password = password;
  return { url: u.toString(), secret: decodeURIComponent(u.password) };
}

function assertOneLine(stderr: string): void {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${stderr}`);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
}

test('an unreachable --database-url (closed port) fails start with exit 7, naming the URL without its password', async () => {
  const port = await closedPort();
  for (const via of ['flag', 'env'] as const) {
    const r = refusedStart(`postgres://kheish:pw-must-not-leak@127.0.0.1:${port}/test`, via);
    assert.equal(r.status, 7, `${via}: ${r.out}`);
    assertOneLine(r.stderr);
    assert.ok(r.stderr.includes(`postgres://kheish:***@127.0.0.1:${port}/test`), r.stderr);
    assert.match(r.stderr, /start the database server or check host and port/i);
    assert.ok(!r.out.includes('pw-must-not-leak'), `the password leaked: ${r.out}`);
  }
});

test('a database that does not exist fails start with exit 2 and says to check the database name', () => {
  const { url, secret } = urlWith(`k_missing_${randomBytes(4).toString('hex')}`);
  const r = refusedStart(url);
  assert.equal(r.status, 2, r.out);
  assertOneLine(r.stderr);
  assert.match(r.stderr, /does not exist/);
  assert.match(r.stderr, /check the user, password and database name/i);
  assert.ok(!r.out.includes(secret), `the password leaked: ${r.out}`);
});

test('a URL that is not postgres:// (or not a URL) fails start with exit 2 and a plain message', () => {
  for (const [url, why] of [
    ['mysql://kheish:pw-must-not-leak@127.0.0.1:3306/kheish', /must be a postgres:\/\/ URL/],
    ['localhost/kheish?password=pw-must-not-leak', /must be a URL like postgres:\/\//],
  ] as const) {
    const r = refusedStart(url);
    assert.equal(r.status, 2, r.out);
    assertOneLine(r.stderr);
    assert.match(r.stderr, why);
    assert.ok(!r.out.includes('pw-must-not-leak'), `the password leaked: ${r.out}`);
  }
});

test('a running daemon never shows the password of its --database-url (logs, status, runtime)', async () => {
  const schema = await freshSchema();
  const u = new URL(schema.url);
  if (!u.password) u.password = 'pw-must-not-leak';
  const secret = decodeURIComponent(u.password);
  let d: TestDaemon | undefined;
  try {
    d = await startDaemon({
      args: ['--database-url', u.toString()],
      script: { default: { turns: [{ text: 'ok' }] } },
    });
    const status = await http(d.url, 'GET', '/v1/status');
    assert.equal(status.body.storage.dialect, 'postgres');
    assert.ok(status.body.storage.location.includes('***'), status.body.storage.location);
    const runtime = await http(d.url, 'GET', '/v1/runtime');
    await http(d.url, 'POST', '/v1/sessions', { session_id: 's' });
    const run = (await http(d.url, 'POST', '/v1/sessions/s/runs', { content: 'hi' })).body;
    assert.equal((await waitForRun(d.url, run.run_id)).status, 'completed');
    await d.stop();
    for (const [where, text] of [
      ['status', status.text],
      ['runtime', runtime.text],
      ['logs', d.logs()],
    ] as const)
      assert.ok(!text.includes(secret), `the password appears in ${where}`);
  } finally {
    await d?.kill();
    await d?.cleanup();
    await schema.drop();
  }
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a database that becomes unavailable makes /readyz 503 and storage not ok; both recover when it returns', async () => {
  // A database of its own: refusing its connections disturbs no other test on the server.
  const name = `k_outage_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  let d: TestDaemon | undefined;
  try {
    d = await startDaemon({
      args: ['--database-url', urlWith(name, '').url],
      script: { default: { turns: [{ text: 'ok' }] } },
    });
    const daemon = d;
    assert.equal((await http(daemon.url, 'GET', '/readyz')).status, 200);
    assert.equal((await http(daemon.url, 'GET', '/v1/status')).body.storage.ok, true);

    await adminQuery(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    await adminQuery('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
    const down = await until('/readyz to answer 503', async () => {
      const r = await http(daemon.url, 'GET', '/readyz');
      return r.status === 503 ? r : undefined;
    });
    assert.equal(down.body.code, 'storage_unavailable', down.text);
    assert.match(down.headers.get('content-type') ?? '', /problem\+json/);
    const status = await http(daemon.url, 'GET', '/v1/status');
    assert.equal(status.status, 200, status.text);
    assert.equal(status.body.ready, false);
    assert.equal(status.body.storage.ok, false);
    assert.equal(status.body.storage.probes[0].ok, false);
    assert.match(status.body.storage.last_error.message, /\S/);
    assert.ok(
      status.body.health.warnings.some((w: { code: string }) => w.code === 'storage_unavailable'),
      JSON.stringify(status.body.health.warnings),
    );
    // Requests that need the database answer 503 at once, never hang nor answer 500.
    const write = await http(daemon.url, 'POST', '/v1/sessions', { session_id: 'during' });
    assert.equal(write.status, 503, write.text);
    assert.deepEqual([write.body.domain, write.body.code], ['readiness', 'storage_unavailable']);
    const read = await http(daemon.url, 'GET', '/v1/runs/run-none');
    assert.equal(read.status, 503, read.text);
    assert.equal(daemon.proc.exitCode, null, `the daemon exited:\n${daemon.logs()}`);

    await adminQuery(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    await until('/readyz to answer 200 again', async () =>
      (await http(daemon.url, 'GET', '/readyz')).status === 200 ? true : undefined,
    );
    const back = (await http(daemon.url, 'GET', '/v1/status')).body;
    assert.equal(back.ready, true);
    assert.equal(back.storage.ok, true, JSON.stringify(back.storage));
    assert.notEqual(back.storage.last_error, null, 'the outage stays visible as the last error');
    assert.ok(
      back.storage.write_error_count <= 1,
      `one outage, one write error: ${back.storage.write_error_count}`,
    );
    // And the daemon works on the database again.
    await http(daemon.url, 'POST', '/v1/sessions', { session_id: 'after' });
    const run = (await http(daemon.url, 'POST', '/v1/sessions/after/runs', { content: 'hi' })).body;
    assert.equal((await waitForRun(daemon.url, run.run_id)).status, 'completed');
  } finally {
    await d?.kill();
    await d?.cleanup();
    await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
});
