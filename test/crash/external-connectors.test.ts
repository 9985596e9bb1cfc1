// Crash of a daemon that runs a child-process sidecar (api-collab §6.7–§6.8): SIGKILL leaves the
// child running in its own process group. The restarted daemon kills that leftover (it carries
// the launch marker), revokes its credential grant, launches a new child, answers a replayed
// event with the original ids, and delivers an answer whose attempt the crash cut off to the new
// child exactly once. Runs on SQLite and, with KHEISH_TEST_STORE=postgres, PostgreSQL.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, test } from 'node:test';
import { BIN, http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { eventually, freePort, SIDECAR, SidecarClient } from '../helpers/external-sidecar.ts';

const KEY = spawnSync(BIN, ['secrets', 'generate'], { encoding: 'utf8' }).stdout.trim();
const SHARED = `shared-${Math.random().toString(36).slice(2)}-crash`;
let d: TestDaemon | undefined;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

after(async () => {
  await d?.stop();
  await d?.cleanup();
});

test('SIGKILL with a sidecar child: leftover killed, grant revoked, replay gives original ids, cut-off delivery arrives once', async () => {
  d = await startDaemon({
    script: { default: { turns: [{ text: 'crash-proof answer' }] } },
    env: {
      KHEISH_AUTH_STORE_MASTER_KEY: KEY,
      KHEISH_DELIVERY_INITIAL_RETRY_MS: '100',
      KHEISH_DELIVERY_MAX_RETRY_MS: '300',
      KHEISH_EXTERNAL_CONNECTOR_DELIVER_TIMEOUT_MS: '20000',
    },
  });
  const base = d.url;
  assert.equal(
    (
      await http(base, 'POST', '/v1/runtime/secrets', {
        slot_id: 'crash.bot',
        provider: 'generic',
        mode: 'opaque_secret',
        state: { value: 'crash-bot-value' },
      })
    ).status,
    200,
  );
  const port = await freePort();
  const put = await http(base, 'PUT', '/v1/runtime/connectors/external/crashy', {
    mode: 'child_process',
    base_url: `http://127.0.0.1:${port}`,
    shared_token: { value: SHARED },
    include_self_output: true,
    session_policy: { create_if_missing: true },
    child_process: { command: 'python3', args: [SIDECAR], credential_slots: { BOT: 'crash.bot' } },
  });
  assert.equal(put.status, 200, put.text);
  const sidecar = new SidecarClient(`http://127.0.0.1:${port}`);
  const status = async () =>
    ((await http(d!.url, 'GET', '/v1/runtime/external-connectors')).body.children as any[]).find(
      (c) => c.connector === 'crashy',
    );
  const first = await eventually(async () => {
    const s = await status();
    return s?.state === 'ready' ? s : undefined;
  }, 'first child ready');
  const cred = await eventually(async () => (await sidecar.state()).credentials.BOT, 'credential fetched');
  assert.equal(cred.status, 200);

  const e1 = await sidecar.emit({
    event_id: 'c-1',
    thread: { path: ['t1'] },
    content: 'one',
    reply_route: 'r1',
  });
  assert.equal(e1.body.status, 'accepted', JSON.stringify(e1));
  await eventually(
    async () => (await sidecar.state()).committed.some((c) => c.reply_route === 'r1'),
    'r1 delivered',
  );

  // The next answer's attempt hangs at the sidecar when the daemon dies.
  await sidecar.setMode('hang');
  const e2 = await sidecar.emit({
    event_id: 'c-2',
    thread: { path: ['t2'] },
    content: 'two',
    reply_route: 'r2',
  });
  assert.equal(e2.body.status, 'accepted');
  await eventually(
    async () => (await sidecar.state()).attempts.some((a) => a.body.reply_route === 'r2'),
    'the r2 attempt in flight',
  );
  await d.kill();
  assert.ok(alive(first.pid), 'the child outlives a SIGKILLed daemon (own process group)');

  d = await d.restart();
  const second = await eventually(
    async () => {
      const s = await status();
      return s?.state === 'ready' && s.pid !== first.pid ? s : undefined;
    },
    'a new child after the restart',
    30_000,
  );
  await eventually(async () => !alive(first.pid), 'the leftover child killed');
  assert.notEqual(second.instance_id, first.instance_id);
  const oldLease = await http(d.url, 'GET', `/v1/runtime/auth/leases/${cred.body.lease_id}`);
  assert.equal(oldLease.body.revoked, true, oldLease.text);

  // A replay of an event accepted before the crash returns the original ids.
  const again = await sidecar.emit({
    event_id: 'c-1',
    thread: { path: ['t1'] },
    content: 'one',
    reply_route: 'r1',
  });
  assert.deepEqual(again.body, { ...e1.body, status: 'duplicate' });
  // The cut-off delivery reaches the new child (default mode ok) exactly once.
  await eventually(
    async () => (await sidecar.state()).committed.some((c) => c.reply_route === 'r2'),
    'r2 delivered to the new child',
    30_000,
  );
  const views = (await http(d.url, 'GET', `/v1/deliveries?run_id=${e2.body.run_id}`)).body;
  const list = (Array.isArray(views) ? views : views.items) as any[];
  assert.equal(list.length, 1);
  await eventually(async () => {
    const v = (await http(d!.url, 'GET', `/v1/deliveries/${list[0].delivery_id}`)).body;
    return v.status === 'delivered';
  }, 'r2 marked delivered');
  assert.equal((await sidecar.state()).committed.filter((c) => c.reply_route === 'r2').length, 1);
  assert.ok(!d.logs().includes(SHARED) && !d.logs().includes('crash-bot-value'), 'no secret in the log');
});
