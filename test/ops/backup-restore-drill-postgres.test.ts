// The restore drill of ops-runtime §16.2 on PostgreSQL (issue 20, decisions #551, #559, #560): while
// the daemon runs, the database is dumped with `pg_dump --format=custom` and the state root's files
// are archived with `backup --database-url`, as docs/operations.md says. Both are restored
// elsewhere (`pg_restore` into a new database, `restore` into a new state root); a daemon on them
// passes `status` and `doctor`, holds what the snapshot held (and not what came after), its
// pending approval resumes, `audit verify` accepts the ledger with the archived signing key, and
// the secret slot opens with the same master key only. Needs a PostgreSQL server and `pg_dump`;
// skipped without them (it makes its own databases, whatever KHEISH_TEST_STORE says).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { adminQuery, randomSchemaName, TEST_DATABASE_URL } from '../helpers/pg-schema.ts';
import { cli, drillScript, keyEnv, OTHER_KEY, seedSlotAndAsset } from './drill-kit.ts';

const work = tempDir('kheish-drill-pg-');
const script = drillScript();
const databases: string[] = [];
const urlOf = (db: string) => {
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = `/${db}`;
  return u.toString();
};
let skip: string | null = null;
let source: TestDaemon | null = null;
let restored: TestDaemon | null = null;
const runs: Record<string, string> = {};
let approvalId = '';
let assetId = '';
const dump = join(work, 'kheish-db.dump');
const files = join(work, 'kheish-files');
const target = join(work, 'restored-state');

before(async () => {
  if (spawnSync('pg_dump', ['--version']).status !== 0) {
    skip = 'pg_dump is not installed';
    return;
  }
  try {
    for (let i = 0; i < 2; i++) {
      const db = randomSchemaName('kdrill_');
      await adminQuery(`CREATE DATABASE ${db}`);
      databases.push(db);
    }
  } catch (err) {
    skip = `no PostgreSQL server: ${(err as Error).message}`;
  }
});
after(async () => {
  await restored?.stop();
  await source?.stop();
  for (const db of databases)
    await adminQuery(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

test('ops-runtime §16.1 on PostgreSQL: pg_dump and `backup --database-url` while the daemon runs', async (t) => {
  if (skip) return t.skip(skip);
  const db = urlOf(databases[0]!);
  source = await startDaemon({ databaseUrl: db, stateRoot: join(work, 'state'), script, env: keyEnv });
  const submit = async (session: string, content: string) => {
    const r = await http(source!.url, 'POST', `/v1/sessions/${session}/runs`, { content });
    assert.equal(r.status, 202, r.text);
    return r.body.run_id as string;
  };
  for (const s of ['s-done', 's-fail', 's-wait'])
    assert.equal((await http(source.url, 'POST', '/v1/sessions', { session_id: s })).status, 201);
  runs.completed = await submit('s-done', 'hello');
  runs.failed = await submit('s-fail', 'boom');
  await waitForRun(source.url, runs.completed);
  await waitForRun(source.url, runs.failed);
  runs.waiting = await submit('s-wait', 'risky');
  await waitForRun(source.url, runs.waiting, (r) => r.status === 'waiting_for_approval');
  runs.queued = await submit('s-wait', 'second message');
  approvalId = (await http(source.url, 'GET', '/v1/sessions/s-wait/approvals')).body[0].request.id;
  assetId = await seedSlotAndAsset(source.url, 'pg-drill');

  // The documented lines, with the daemon running.
  const pgDump = spawnSync('pg_dump', ['--format=custom', `--file=${dump}`, db], { encoding: 'utf8' });
  assert.equal(pgDump.status, 0, pgDump.stderr);
  const b = cli(
    ['--output', 'json', 'backup', '--database-url', db, '--state-root', source.stateRoot, files],
    keyEnv,
  );
  assert.equal(b.status, 0, b.stderr);
  assert.match(b.stderr, /pg_dump/, 'the command says the database is not in the archive');
  assert.equal(JSON.parse(b.stdout).sealed, true, 'sealed with the key of the slots in the database');
  const manifest = JSON.parse(readFileSync(join(files, 'manifest.json'), 'utf8'));
  const paths = manifest.files.map((f: { path: string }) => f.path);
  assert.ok(paths.includes('audit-signing.key'), 'the audit key travels with the files');
  assert.ok(!paths.includes('kheish.sqlite'));
  assert.ok(!readFileSync(join(files, 'manifest.json'), 'utf8').includes('pg-drill'));
  // Without the key the archive is not sealed: backup says restore will refuse it, and it does.
  const bare = join(work, 'unsealed');
  const nokey = cli([
    '--output',
    'json',
    'backup',
    '--database-url',
    db,
    '--state-root',
    source.stateRoot,
    bare,
  ]);
  assert.equal(nokey.status, 0, nokey.stderr);
  assert.equal(JSON.parse(nokey.stdout).sealed, false);
  assert.match(nokey.stderr, /`restore` refuses an unsealed archive/);
  const refused = cli(['restore', bare, '--state-root', join(work, 'from-unsealed')], keyEnv);
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(refused.stderr, /the archive is not sealed: it was taken without the master key set/);
  assert.equal(existsSync(join(work, 'from-unsealed')), false);
  // After the snapshot: not in the restored copy.
  assert.equal((await http(source.url, 'POST', '/v1/sessions', { session_id: 's-later' })).status, 201);
  await source.stop();
  source = null;
});

test('ops-runtime §16.2 drill on PostgreSQL: pg_restore + restore, then status, doctor, audit verify and the data', async (t) => {
  if (skip) return t.skip(skip);
  if (!existsSync(dump)) return t.skip('the backup step did not run');
  const db = urlOf(databases[1]!);
  const pgRestore = spawnSync('pg_restore', ['--no-owner', `--dbname=${db}`, dump], { encoding: 'utf8' });
  assert.equal(pgRestore.status, 0, pgRestore.stderr);
  const wrongKey = cli(['restore', files, '--state-root', `${target}-wrong`], {
    KHEISH_AUTH_STORE_MASTER_KEY: OTHER_KEY,
  });
  assert.equal(wrongKey.status, 2, wrongKey.stderr);
  assert.match(wrongKey.stderr, /wrong master key/);
  assert.equal(existsSync(`${target}-wrong`), false);
  const r = cli(['restore', files, '--state-root', target], keyEnv);
  assert.equal(r.status, 0, r.stderr);
  restored = await startDaemon({ databaseUrl: db, stateRoot: target, script, env: keyEnv });
  const base = ['--base-url', restored.url];
  const status = cli([...base, 'status']);
  assert.equal(status.status, 0, status.stderr);
  const doctor = cli([...base, '--output', 'json', 'doctor']);
  assert.equal(doctor.status, 0, doctor.stdout + doctor.stderr);
  const checks = JSON.parse(doctor.stdout).checks as Array<{ name: string; severity: string }>;
  for (const name of ['store_reachable', 'store_migrations', 'master_key'])
    assert.equal(checks.find((c) => c.name === name)?.severity, 'ok', name);

  const get = async (p: string) => http(restored!.url, 'GET', p);
  assert.equal((await get(`/v1/runs/${runs.completed}`)).body.status, 'completed');
  assert.equal((await get(`/v1/runs/${runs.failed}`)).body.status, 'failed');
  assert.equal((await get(`/v1/runs/${runs.waiting}`)).body.status, 'waiting_for_approval');
  assert.equal((await get(`/v1/runs/${runs.queued}`)).body.status, 'queued');
  assert.equal((await get('/v1/sessions/s-later')).status, 404, 'written after the dump');
  assert.equal((await get('/v1/runtime/secrets/drill.prod')).body.slot_id, 'drill.prod');
  assert.equal((await get(`/v1/assets/${assetId}/raw`)).text, 'a file the daemon keeps');
  const resolved = await http(restored.url, 'POST', '/v1/sessions/s-wait/approvals', {
    resolutions: [{ request_id: approvalId, behavior: 'allow' }],
  });
  assert.equal(resolved.status, 200, resolved.text);
  assert.equal((await waitForRun(restored.url, runs.waiting)).status, 'completed');
  assert.equal((await waitForRun(restored.url, runs.queued)).status, 'completed');
  await restored.stop();
  restored = null;

  // The audit ledger (in the database) verifies with the signing key restored from the files.
  const verify = cli(['audit', 'verify', '--state-root', target, '--database-url', db]);
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  const reveal = (env: Record<string, string>) =>
    cli(
      ['secrets', 'get', 'drill.prod', '--reveal', '--offline', '--state-root', target, '--database-url', db],
      env,
    );
  assert.equal(reveal(keyEnv).stdout.trim(), 'pg-drill');
  const wrong = reveal({ KHEISH_AUTH_STORE_MASTER_KEY: OTHER_KEY });
  assert.notEqual(wrong.status, 0);
  assert.doesNotMatch(wrong.stdout, /pg-drill/);
});
