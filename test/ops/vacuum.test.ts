// Offline vacuum (issue 20, ops-runtime §12, §17, #43): refused while a daemon holds the state
// root; on a stopped one it drops only journal entries a compaction checkpoint replaced (saved
// first to vacuum-bak), leaves the model's context unchanged, applies the event retention (a
// replay from before it gets stream_gap), and the daemon carries on afterwards.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  BIN,
  collectSse,
  http,
  startDaemon,
  type TestDaemon,
  tempDir,
  waitForRun,
} from '../helpers/daemon.ts';
import { queryState, storeArgs } from './state-query.ts';

const baseEnv = { ...process.env };
for (const name of ['KHEISH_STATE_ROOT', 'KHEISH_DATABASE_URL']) delete baseEnv[name];
// On PostgreSQL (KHEISH_TEST_STORE=postgres) every command also names the daemon's database.
const cli = (args: string[]) =>
  spawnSync(BIN, [...args, ...storeArgs(d)], {
    encoding: 'utf8',
    env: baseEnv,
    timeout: 60_000,
  });

const dir = tempDir('kheish-vacuum-');
writeFileSync(
  join(dir, 'script.json'),
  JSON.stringify({
    rules: [{ match: 'chatty', turns: [{ text: 'x'.repeat(400) }] }],
    default: { turns: [{ text: 'ok' }] },
  }),
);
const routesToml = `version = 1\ndefault_route = "small"\n\n[routes.small]\ndriver = "scripted"\ndefault_model = "scripted"\nscript_file = "${join(dir, 'script.json')}"\ncontext_window_tokens = 300\n`;
let d: TestDaemon;

after(async () => {
  await d?.stop();
  d?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** What the model is shown: the latest checkpoint and every entry after what it covers. */
async function context(session: string): Promise<unknown[]> {
  const [b] = await queryState<{ seq: number; payload: string }>(
    d,
    "SELECT seq, payload FROM journal WHERE session_id = ? AND kind = 'compaction_boundary' ORDER BY seq DESC LIMIT 1",
    [session],
  );
  const upto = b ? JSON.parse(b.payload).upto_seq : 0;
  return queryState(
    d,
    'SELECT seq, kind, run_id, payload FROM journal WHERE session_id = ? AND (seq > ? OR seq = ?) ORDER BY seq',
    [session, upto, b?.seq ?? -1],
  );
}

test('ops-runtime #43: sessions vacuum, vacuum and a second serve refuse while a daemon holds the state root', async () => {
  d = await startDaemon({ routesToml });
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'chat' });
  for (let i = 0; i < 6; i++) {
    const r = (await http(d.url, 'POST', '/v1/sessions/chat/runs', { content: 'chatty' })).body;
    assert.equal((await waitForRun(d.url, r.run_id)).status, 'completed');
  }
  for (const args of [
    ['sessions', 'vacuum', 'chat', '--state-root', d.stateRoot],
    ['vacuum', '--state-root', d.stateRoot],
  ]) {
    const r = cli(args);
    assert.equal(r.status, 6, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /held by a running kheish-daemon; .*needs it stopped/);
    assert.match(r.stderr, /hint: stop the daemon/);
  }
  const second = cli(['serve', '--state-root', d.stateRoot, '--bind', '127.0.0.1:0']);
  assert.notEqual(second.status, 0);
  assert.match(second.stderr, /already in use by another kheish-daemon/);
});

test('sessions vacuum drops only what a checkpoint replaced, saves it first, and keeps the context identical', async () => {
  await d.stop();
  const before = await context('chat');
  const r = cli(['sessions', 'vacuum', 'chat', '--state-root', d.stateRoot]);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.session_id, 'chat');
  assert.ok(report.bytes_after < report.bytes_before, JSON.stringify(report));
  const dropped = Object.values(report.dropped_by_type as Record<string, number>).reduce((a, b) => a + b, 0);
  assert.ok(dropped > 0);
  assert.ok(report.kept_by_type.compaction_boundary >= 1, 'the latest checkpoint stays');
  assert.ok((report.dropped_by_type.assistant_message ?? 0) > 0, 'summarised answers go');
  assert.ok(report.kept_by_type.input_received >= 6, 'inputs stay (derivations read them)');
  assert.deepEqual([report.metadata_records_dropped, report.torn_tail_dropped], [0, false]);
  assert.ok(existsSync(report.backup_path));
  assert.equal(readFileSync(report.backup_path, 'utf8').trim().split('\n').length, dropped);
  assert.deepEqual(await context('chat'), before, 'the model context is unchanged');
  const again = cli(['sessions', 'vacuum', 'chat', '--state-root', d.stateRoot]);
  assert.equal(again.status, 6);
  assert.match(again.stderr, /earlier vacuum's backup is still there/);
  const unknown = cli(['sessions', 'vacuum', 'nope', '--state-root', d.stateRoot]);
  assert.equal(unknown.status, 5, unknown.stderr);
});

test('vacuum applies event retention (older replay gets stream_gap) and the daemon carries on', async () => {
  rmSync(join(d.stateRoot, 'vacuum-bak'), { recursive: true, force: true });
  const r = cli(['--output', 'json', 'vacuum', '--state-root', d.stateRoot, '--keep-events', '5']);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.events_retained, 5);
  assert.ok(report.events_dropped > 0);
  if (report.dialect === 'sqlite')
    assert.ok(report.bytes_after <= report.bytes_before, JSON.stringify(report));
  d = await d.restart();
  const sse = await collectSse(`${d.url}/v1/events/stream`, {
    headers: { 'last-event-id': String(1n << 20n) },
    until: (f) => f.some((x) => x.event === 'stream_gap'),
  });
  assert.equal(sse.frames.find((f) => f.event !== 'heartbeat')?.event, 'stream_gap');
  const run = (await http(d.url, 'POST', '/v1/sessions/chat/runs', { content: 'chatty' })).body;
  assert.equal((await waitForRun(d.url, run.run_id)).status, 'completed');
});
