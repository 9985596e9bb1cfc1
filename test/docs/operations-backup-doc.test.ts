// docs/operations.md (Backup and restore, Vacuum and retention, Key rotation), followed as written:
// every `sh` line of those sections runs through `sh` in order, with the page's paths mapped into a
// temp dir and its loopback URL pointed at the daemon of the moment. `serve` lines start a daemon
// through the harness; the PostgreSQL lines run against the real server in databases of their own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { BIN, http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { adminQuery, randomSchemaName, TEST_DATABASE_URL } from '../helpers/pg-schema.ts';
import { fencedBlocks } from './markdown.ts';

const PAGE = 'docs/operations.md';
const text = readFileSync(resolve(import.meta.dirname, '../..', PAGE), 'utf8');
const mine = ['## Backup and restore', '## Vacuum and retention', '## Key rotation'];
/** The page's sections of this issue (another helper's sections may sit beside them). */
function sectionsText(): string {
  const parts = text.split(/^(?=## )/m);
  return parts.filter((p) => mine.some((h) => p.startsWith(h))).join('');
}
const blocks = fencedBlocks(PAGE, sectionsText()).filter((b) => b.lang === 'sh');

const work = tempDir('kheish-ops-doc-');
const map = (line: string) =>
  line
    .replaceAll('/var/lib/kheish', join(work, 'var'))
    .replaceAll('/backups', join(work, 'backups'))
    .replaceAll('/run/secrets', join(work, 'secrets'));
for (const d of ['var', 'backups', 'secrets']) mkdirSync(join(work, d), { recursive: true });
const KEY = spawnSync(BIN, ['secrets', 'generate'], { encoding: 'utf8' }).stdout.trim();
const keyFile = map('/run/secrets/kheish-auth-store-master-key');
writeFileSync(keyFile, `${KEY}\n`, { mode: 0o600 });
const env: Record<string, string> = { PATH: `${dirname(BIN)}:${process.env.PATH}` };
const daemonEnv = { KHEISH_AUTH_STORE_MASTER_KEY_FILE: keyFile };
const daemons: TestDaemon[] = [];
let current: TestDaemon | null = null;
const databases: string[] = [];

after(async () => {
  for (const d of daemons) await d.stop().catch(() => undefined);
  for (const db of databases)
    await adminQuery(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
});

function sh(line: string, extra: Record<string, string> = {}) {
  let l = map(line);
  if (current) l = l.replaceAll('http://127.0.0.1:4010', current.url);
  const baseEnv = { ...process.env };
  for (const n of [
    'KHEISH_STATE_ROOT',
    'KHEISH_DATABASE_URL',
    'KHEISH_AUTH_STORE_MASTER_KEY',
    'KHEISH_TEST_STORE',
  ])
    delete baseEnv[n];
  return spawnSync('sh', ['-c', l], {
    encoding: 'utf8',
    env: { ...baseEnv, ...env, ...extra },
    timeout: 60_000,
  });
}

function runBlock(index: number, check?: (line: string, r: ReturnType<typeof sh>) => void) {
  for (const line of blocks[index]!.body.split('\n').filter((l) => l.trim() && !l.startsWith('#'))) {
    const r = sh(line);
    assert.equal(r.status, 0, `${blocks[index]!.where}: ${line}\n${r.stdout}${r.stderr}`);
    check?.(line, r);
  }
}

const find = (needle: string) => blocks.findIndex((b) => b.body.includes(needle));

test('docs/operations.md: backup of the running daemon, restore drill, status and doctor', async () => {
  const a = await startDaemon({ stateRoot: map('/var/lib/kheish/state'), env: daemonEnv });
  daemons.push(a);
  await http(a.url, 'POST', '/v1/sessions', { session_id: 's-long' });
  const run = (await http(a.url, 'POST', '/v1/sessions/s-long/runs', { content: 'hi' })).body;
  await waitForRun(a.url, run.run_id);
  runBlock(find('kheish-daemon backup --state-root'), (_l, r) => {
    env.MANIFEST_SHA256 = /manifest sha256 ([0-9a-f]{64})/.exec(r.stdout)![1]!;
  });
  runBlock(find('kheish-daemon restore'));
  const drill = blocks[find(' serve ')]!.body.split('\n');
  assert.match(drill[0]!, / serve --bind 127\.0\.0\.1:4010 --state-root \/var\/lib\/kheish\/restore-state/);
  current = await startDaemon({ stateRoot: map('/var/lib/kheish/restore-state'), env: daemonEnv });
  daemons.push(current);
  for (const line of drill.slice(1)) {
    const r = sh(line);
    assert.equal(r.status, 0, `${line}\n${r.stdout}${r.stderr}`);
  }
  assert.equal((await http(current.url, 'GET', `/v1/runs/${run.run_id}`)).body.status, 'completed');
  await current.stop();
  await a.stop();
});

test('docs/operations.md: the PostgreSQL lines dump and restore a real database', async (t) => {
  const db1 = randomSchemaName('kdoc_');
  const db2 = randomSchemaName('kdoc_');
  try {
    await adminQuery(`CREATE DATABASE ${db1}`);
    databases.push(db1);
    await adminQuery(`CREATE DATABASE ${db2}`);
    databases.push(db2);
  } catch (err) {
    return t.skip(`no PostgreSQL server: ${(err as Error).message}`);
  }
  if (spawnSync('pg_dump', ['--version']).status !== 0) return t.skip('pg_dump is not installed');
  const url = (db: string) => {
    const u = new URL(TEST_DATABASE_URL);
    u.pathname = `/${db}`;
    return u.toString();
  };
  const p = await startDaemon({
    databaseUrl: url(db1),
    stateRoot: map('/var/lib/kheish/state'),
    env: daemonEnv,
  });
  daemons.push(p);
  await http(p.url, 'POST', '/v1/sessions', { session_id: 'pg-kept' });
  const slot = {
    slot_id: 'pg.prod',
    provider: 'generic',
    mode: 'opaque_secret',
    state: { value: 'pg-secret' },
  };
  assert.equal((await http(p.url, 'POST', '/v1/runtime/secrets', slot)).status, 200);
  await p.stop();
  env.KHEISH_DATABASE_URL = url(db1);
  env.RESTORE_DATABASE_URL = url(db2);
  runBlock(find('pg_dump'));
  delete env.KHEISH_DATABASE_URL;
  const r = await startDaemon({
    databaseUrl: url(db2),
    stateRoot: join(work, 'pg-restored'),
    env: daemonEnv,
  });
  daemons.push(r);
  assert.equal((await http(r.url, 'GET', '/v1/sessions/pg-kept')).status, 200);
  assert.equal((await http(r.url, 'GET', '/v1/runtime/secrets/pg.prod')).body.slot_id, 'pg.prod');
  await r.stop();
});

test('docs/operations.md: vacuum lines run on the stopped daemon and print their reports', () => {
  runBlock(find('sessions vacuum'), (line, r) => {
    if (line.includes('sessions vacuum')) assert.equal(JSON.parse(r.stdout).session_id, 's-long');
    else assert.match(r.stdout, /^vacuumed /);
  });
});

test('docs/operations.md: the token swap makes the old token fail and the new one work, without a restart', async () => {
  const tokenFile = map('/run/secrets/kheish-admin-token');
  writeFileSync(tokenFile, 'old-admin-token-0123456789\n', { mode: 0o600 });
  current = await startDaemon({
    args: ['--http-auth-mode', 'bearer', '--http-admin-token-file', tokenFile],
  });
  daemons.push(current);
  runBlock(find('kheish-admin-token.next'));
  const old = await http(current.url, 'GET', '/v1/status', undefined, {
    authorization: 'Bearer old-admin-token-0123456789',
  });
  assert.equal(old.status, 401);
  await current.stop();
  current = null;
});

test('docs/operations.md: master key and audit key rotation lines run as printed', () => {
  runBlock(find('rotate-master-key'));
  // The state root now opens with the new key only.
  const reveal = sh(`kheish-daemon secrets list --offline --state-root /var/lib/kheish/state`, daemonEnv);
  assert.equal(reveal.status, 0, reveal.stderr);
  assert.notEqual(readFileSync(keyFile, 'utf8').trim(), KEY);
  runBlock(find('audit rotate-key'), (line, r) => {
    if (line.includes('verify')) assert.match(r.stdout, /^ok: /);
  });
});
