// The restore drill of ops-runtime §16.2 (issue 20): a daemon with sessions, runs in every state,
// a pending approval, a schedule, a secret slot and an asset is backed up while it runs; the
// archive is restored into a new state root, a daemon on it passes `status` and `doctor`, holds
// everything, and its secret slots open with the same master key only. Also: a wrong key, a
// tampered, truncated or incomplete archive are refused with nothing written.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { http, startDaemon, type TestDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { cli, drillScript, KEY, keyEnv, OTHER_KEY, seedSlotAndAsset } from './drill-kit.ts';

const work = tempDir('kheish-drill-');
const script = drillScript([
  { match: 'slow', turns: [{ delay_ms: 60_000, text: 'slept' }] },
  { match: 'nap', turns: [{ delay_ms: 6000, text: 'rested' }] },
  {
    match: 'ask me',
    turns: [
      {
        tool_calls: [
          {
            name: 'ask_user_question',
            arguments: { questions: [{ id: 'q', header: 'Q', question: 'Which?', options: [] }] },
          },
        ],
      },
      { text: 'thanks' },
    ],
  },
]);
let d: TestDaemon;
let restored: TestDaemon | null = null;
const runs: Record<string, string> = {};
let approvalId = '';
let scheduleId = '';
let assetId = '';
const archive = join(work, 'archive');
const target = join(work, 'restored');

async function submit(session: string, content: string): Promise<string> {
  const r = await http(d.url, 'POST', `/v1/sessions/${session}/runs`, { content });
  assert.equal(r.status, 202, r.text);
  return r.body.run_id;
}

before(async () => {
  d = await startDaemon({ script, env: keyEnv });
  for (const s of ['s-done', 's-fail', 's-cancel', 's-wait', 's-ask', 's-int', 's-nap'])
    assert.equal((await http(d.url, 'POST', '/v1/sessions', { session_id: s })).status, 201);
  runs.completed = await submit('s-done', 'hello');
  await waitForRun(d.url, runs.completed);
  runs.failed = await submit('s-fail', 'boom');
  await waitForRun(d.url, runs.failed);
  runs.cancelled = await submit('s-cancel', 'slow');
  await waitForRun(d.url, runs.cancelled, (r) => r.status === 'running');
  assert.equal((await http(d.url, 'POST', `/v1/runs/${runs.cancelled}/cancel`)).status < 300, true);
  await waitForRun(d.url, runs.cancelled);
  runs.interrupted = await submit('s-int', 'slow');
  await waitForRun(d.url, runs.interrupted, (r) => r.status === 'running');
  assert.ok((await http(d.url, 'POST', '/v1/sessions/s-int/interrupt', {})).status < 300);
  await waitForRun(d.url, runs.interrupted);
  runs.asking = await submit('s-ask', 'ask me');
  await waitForRun(d.url, runs.asking, (r) => r.status === 'waiting_for_user_question');
  runs.waiting = await submit('s-wait', 'risky');
  await waitForRun(d.url, runs.waiting, (r) => r.status === 'waiting_for_approval');
  runs.queued = await submit('s-wait', 'second message');
  const approvals = await http(d.url, 'GET', '/v1/sessions/s-wait/approvals');
  approvalId = approvals.body[0].request.id;
  const sched = await http(d.url, 'POST', '/v1/schedules', {
    name: 'yearly',
    target_session_id: 's-done',
    cadence: { type: 'cron', expression: '0 0 0 1 1 *' },
    request: { content: 'happy new year' },
  });
  assert.equal(sched.status, 201, sched.text);
  scheduleId = sched.body.schedule_id;
  assetId = await seedSlotAndAsset(d.url, 'drill-secret-value');
  // Last, so that it is still running when the backup is taken.
  runs.running = await submit('s-nap', 'nap');
  await waitForRun(d.url, runs.running, (r) => r.status === 'running');
});

after(async () => {
  await restored?.stop();
  await d?.stop();
  rmSync(work, { recursive: true, force: true });
  d?.cleanup();
});

test('ops-runtime §16.1: backup of a running daemon writes a sealed archive and prints its manifest digest', () => {
  const r = cli(['--output', 'json', 'backup', '--state-root', d.stateRoot, archive], keyEnv);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.online, true, 'the daemon held the state root');
  const db = new Database(join(archive, 'state', 'kheish.sqlite'), { readonly: true });
  const states = db.prepare('SELECT status FROM runs ORDER BY status').all() as Array<{ status: string }>;
  db.close();
  assert.deepEqual(
    [...new Set(states.map((x) => x.status))].sort(),
    [
      'cancelled',
      'completed',
      'failed',
      'interrupted',
      'queued',
      'running',
      'waiting_for_approval',
      'waiting_for_user_question',
    ],
    'the archive holds runs in every state',
  );
  assert.equal(out.sealed, true);
  assert.match(r.stderr, /backup: files \d+\/\d+ files/, 'progress on stderr');
  assert.doesNotMatch(r.stderr, /warning/, 'every asset row has its bytes in the archive');
  const manifest = JSON.parse(readFileSync(join(archive, 'manifest.json'), 'utf8'));
  const paths = manifest.files.map((f: { path: string }) => f.path);
  assert.ok(paths.includes('kheish.sqlite'));
  assert.ok(paths.includes('audit-signing.key'), 'the audit key travels with the ledger');
  assert.ok(
    paths.some((p: string) => p.startsWith('blobs/assets/')),
    'asset bytes are in the archive',
  );
  assert.ok(
    !paths.some((p: string) => /kheish\.sqlite-(wal|shm)|daemon\.(lock|pid)/.test(p)),
    'no live WAL, no lock',
  );
  assert.ok(!readFileSync(join(archive, 'manifest.json'), 'utf8').includes('drill-secret-value'));
});

test('restore refuses a wrong key, a missing key, and a tampered, truncated or incomplete archive; nothing is created', () => {
  const refused = (args: string[], env: Record<string, string>, pattern: RegExp) => {
    const r = cli(['restore', ...args], env);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, pattern);
    assert.match(r.stderr, /hint: /);
    assert.equal(existsSync(target), false);
    assert.equal(existsSync(`${target}.restore-partial`), false);
  };
  refused([archive, '--state-root', target], { KHEISH_AUTH_STORE_MASTER_KEY: OTHER_KEY }, /wrong master key/);
  refused([archive, '--state-root', target], {}, /no master key is set/);
  refused(
    [archive, '--state-root', target, '--expect-manifest-sha256', '0'.repeat(64)],
    keyEnv,
    /manifest digest/,
  );
  // A copy of the archive to damage in three ways.
  const copy = (name: string) => {
    const to = join(work, name);
    spawnSync('cp', ['-a', archive, to]);
    return to;
  };
  const manifest = JSON.parse(readFileSync(join(archive, 'manifest.json'), 'utf8'));
  const key = manifest.files.find((f: { path: string }) => f.path === 'audit-signing.key');
  const altered = copy('altered');
  appendFileSync(join(altered, 'state', 'audit-signing.key'), 'x');
  truncateSync(join(altered, 'state', 'audit-signing.key'), key.bytes);
  writeFileSync(join(altered, 'state', 'audit-signing.key'), Buffer.alloc(key.bytes, 65));
  refused([altered, '--state-root', target], keyEnv, /does not match its sha256/);
  // The digest edited along with the file: the seal catches it.
  const forged = JSON.parse(readFileSync(join(altered, 'manifest.json'), 'utf8'));
  const { createHash } = require_crypto();
  forged.files.find((f: { path: string }) => f.path === 'audit-signing.key').sha256 = createHash('sha256')
    .update(Buffer.alloc(key.bytes, 65))
    .digest('hex');
  writeFileSync(join(altered, 'manifest.json'), JSON.stringify(forged));
  refused([altered, '--state-root', target], keyEnv, /does not match its seal/);
  const truncated = copy('truncated');
  const db = manifest.files.find((f: { path: string }) => f.path === 'kheish.sqlite');
  truncateSync(join(truncated, 'state', 'kheish.sqlite'), Math.floor(db.bytes / 2));
  refused([truncated, '--state-root', target], keyEnv, /truncated/);
  const incomplete = copy('incomplete');
  rmSync(join(incomplete, 'manifest.json'));
  refused([incomplete, '--state-root', target], keyEnv, /not a complete backup/);
  const extra = copy('extra');
  writeFileSync(join(extra, 'state', 'planted.txt'), 'x');
  refused([extra, '--state-root', target], keyEnv, /does not list/);
});

test('ops-runtime §16.2 drill: restored elsewhere, the daemon passes status and doctor and holds everything', async () => {
  await d.stop();
  const r = cli(['restore', archive, '--state-root', target], keyEnv);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /1 secret slot\(s\) open with this key/);
  restored = await startDaemon({ stateRoot: target, script, env: keyEnv });
  const base = ['--base-url', restored.url];
  const status = cli([...base, 'status']);
  assert.equal(status.status, 0, status.stderr);
  const doctor = cli([...base, 'doctor']);
  assert.equal(doctor.status, 0, doctor.stdout + doctor.stderr);
  const get = async (p: string) => (await http(restored!.url, 'GET', p)).body;
  assert.equal((await get(`/v1/runs/${runs.completed}`)).status, 'completed');
  assert.equal((await get(`/v1/runs/${runs.failed}`)).status, 'failed');
  assert.equal((await get(`/v1/runs/${runs.cancelled}`)).status, 'cancelled');
  assert.equal((await get(`/v1/runs/${runs.interrupted}`)).status, 'interrupted');
  assert.equal((await get(`/v1/runs/${runs.asking}`)).status, 'waiting_for_user_question');
  // The run that was running when the backup was taken resumes and ends.
  assert.equal((await waitForRun(restored.url, runs.running, undefined, 30_000)).status, 'completed');
  assert.equal((await get(`/v1/runs/${runs.waiting}`)).status, 'waiting_for_approval');
  assert.equal((await get(`/v1/runs/${runs.queued}`)).status, 'queued');
  const sessions = (await get('/v1/sessions')).map?.((s: { session_id: string }) => s.session_id) ?? [];
  for (const s of ['s-done', 's-fail', 's-cancel', 's-wait', 's-ask', 's-int', 's-nap'])
    assert.ok(JSON.stringify(sessions).includes(s), s);
  assert.equal((await get(`/v1/schedules/${scheduleId}`)).name, 'yearly');
  assert.equal((await get(`/v1/runtime/secrets/drill.prod`)).slot_id, 'drill.prod');
  const raw = await http(restored.url, 'GET', `/v1/assets/${assetId}/raw`);
  assert.equal(raw.text, 'a file the daemon keeps');
  // The pending approval resumes the original run, and the queued one runs after it.
  const resolved = await http(restored.url, 'POST', '/v1/sessions/s-wait/approvals', {
    resolutions: [{ request_id: approvalId, behavior: 'allow' }],
  });
  assert.equal(resolved.status, 200, resolved.text);
  assert.equal((await waitForRun(restored.url, runs.waiting)).status, 'completed');
  assert.equal((await waitForRun(restored.url, runs.queued)).status, 'completed');
  const asked = await get(`/v1/runs/${runs.asking}`);
  const answered = await http(restored.url, 'POST', `/v1/runs/${runs.asking}/questions`, {
    resolution: { request_id: asked.pending_question_ids[0], declined: true, answers: [] },
  });
  assert.ok(answered.status < 300, answered.text);
  assert.equal((await waitForRun(restored.url, runs.asking)).status, 'completed');
  await restored.stop();
  restored = null;
  // The slot opens with the same key only.
  const reveal = (env: Record<string, string>) =>
    cli(['secrets', 'get', 'drill.prod', '--reveal', '--offline', '--state-root', target], env);
  assert.equal(reveal(keyEnv).stdout.trim(), 'drill-secret-value');
  const wrong = reveal({ KHEISH_AUTH_STORE_MASTER_KEY: OTHER_KEY });
  assert.notEqual(wrong.status, 0);
  assert.doesNotMatch(wrong.stdout, /drill-secret-value/);
  // An asset whose bytes vanished (a collection racing the backup) is named, not silently lost.
  const blobs = join(d.stateRoot, 'blobs', 'assets');
  for (const sub of readdirSync(blobs)) rmSync(join(blobs, sub), { recursive: true });
  const again = cli(['backup', '--state-root', d.stateRoot, join(work, 'second')], keyEnv);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /warning: 1 asset\(s\) of the snapshot have no bytes in the archive/);
});

function require_crypto(): typeof import('node:crypto') {
  return process.getBuiltinModule('node:crypto');
}

test('a state root made by `up` keeps its key: the archive carries it, and restore uses it when none is set', () => {
  const root = join(work, 'up-root');
  mkdirSync(root);
  const keyFile = join(root, 'auth-store-master.key');
  writeFileSync(keyFile, `${KEY}\n`, { mode: 0o600 });
  const set = cli(
    [
      'secrets',
      'set',
      'up.slot',
      '--provider',
      'generic',
      '--value',
      'up-value',
      '--offline',
      '--state-root',
      root,
    ],
    {
      KHEISH_AUTH_STORE_MASTER_KEY_FILE: keyFile,
    },
  );
  assert.equal(set.status, 0, set.stderr);
  const out = join(work, 'up-archive');
  const b = cli(['--output', 'json', 'backup', '--state-root', root, out]);
  assert.equal(b.status, 0, b.stderr);
  assert.equal(JSON.parse(b.stdout).sealed, true);
  assert.match(b.stderr, /keeps its own master key .* anyone with the archive can read the secrets/);
  const r = cli(['restore', out, '--state-root', join(work, 'up-restored')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /using the master key the archive carries/);
  assert.equal(
    cli(['secrets', 'get', 'up.slot', '--reveal', '--offline', '--state-root', join(work, 'up-restored')], {
      KHEISH_AUTH_STORE_MASTER_KEY_FILE: join(work, 'up-restored', 'auth-store-master.key'),
    }).stdout.trim(),
    'up-value',
  );
});
